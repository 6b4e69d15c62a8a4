// `pipe compare`, on run directories the tests write by hand.
#include "record/compare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "pipe_cli.h"
#include "record/run.h"
#include "run_dirs.h"

namespace pipelang::record {
namespace {

namespace fs = std::filesystem;
using pipelang::testing::kMetrics;
using pipelang::testing::lrCsv;
using pipelang::testing::readFile;
using pipelang::testing::runPipe;
using RunDirs = pipelang::testing::RunDirs;

// ---- pipe compare ---------------------------------------------------------

TEST_F(RunDirs, CompareShowsOnlyTheSettingsThatDifferBesideTheLastEpoch) {
    fs::path a = makeRun("fashion-a");
    fs::path b = makeRun("fashion-b", "fit.optimizer.lr=1e-2\nnet.head.dropout=0.5\n",
                         "epoch,train_loss,valid_loss,accuracy,error_rate,time\n"
                         "0,1.2,1.0,0.80,0.20,10\n"
                         "1,0.9,0.8,0.85,0.15,20\n");
    Comparison c = compareRuns({a, b});
    EXPECT_EQ(c.runs, (std::vector<std::string>{"fashion-a", "fashion-b"}));
    EXPECT_EQ(c.settings, (std::vector<std::string>{"net.head.dropout", "fit.optimizer.lr"}));
    EXPECT_EQ(c.values[0], (std::vector<std::string>{"0.2", "0.003"}));
    EXPECT_EQ(c.values[1], (std::vector<std::string>{"0.5", "0.01"}));
    EXPECT_EQ(c.metrics,
              (std::vector<std::string>{"epochs", "train_loss", "valid_loss", "accuracy", "error_rate", "time"}));
    EXPECT_EQ(c.results[0], (std::vector<std::string>{"3", "0.875516", "0.838497", "0.868667", "0.131333", "29.0s"}));
    EXPECT_EQ(c.results[1], (std::vector<std::string>{"2", "0.9", "0.8", "0.85", "0.15", "30.0s"}));

    auto r = runPipe("compare '" + a.string() + "' '" + b.string() + "'");
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(
        r.out,
        "run        net.head.dropout  fit.optimizer.lr  epochs  train_loss  valid_loss  accuracy  error_rate  time\n"
        "fashion-a  0.2               0.003             3       0.875516    0.838497    0.868667  0.131333    29.0s\n"
        "fashion-b  0.5               0.01              2       0.9         0.8         0.85      0.15        30.0s\n");
}

TEST_F(RunDirs, CompareTurnsATableTooWideIntoAColumnPerRun) {
    fs::path a = makeRun("fashion-a", "", "");
    fs::path b = makeRun("fashion-b",
                         "fit.optimizer.lr=1e-2\nfashion.item=[pad(2), random_crop(28), flip(), "
                         "rotate(degrees = 10.0)]\n",
                         "");
    Comparison c = compareRuns({a, b});
    EXPECT_EQ(renderComparison(c, 40),
              "                  fashion-a                          fashion-b\n"
              "fashion.item      [flip(p = 0.5, vertical = false)]  [pad(size = 2, mode = \"zeros\"), rando...\n"
              "fit.optimizer.lr  0.003                              0.01\n");
}

TEST_F(RunDirs, CompareSettingsOnlyInOneRunAndRunsWithoutMetrics) {
    fs::path a = makeRun("a", "", "");
    fs::path b = makeRun("b", "fit.optimizer=sgd(lr = 0.1)\n", "");
    Comparison c = compareRuns({a, b});
    auto at = [&](const std::string& key) {
        return size_t(std::find(c.settings.begin(), c.settings.end(), key) - c.settings.begin());
    };
    ASSERT_LT(at("fit.optimizer"), c.settings.size());
    EXPECT_EQ(c.values[0][at("fit.optimizer")], "adamw");
    EXPECT_EQ(c.values[1][at("fit.optimizer")], "sgd");
    ASSERT_LT(at("fit.optimizer.weight_decay"), c.settings.size());
    EXPECT_EQ(c.values[0][at("fit.optimizer.weight_decay")], "0.05");
    ASSERT_LT(at("fit.optimizer.betas"), c.settings.size());
    EXPECT_EQ(c.values[1][at("fit.optimizer.betas")], "-");  // sgd has none
    EXPECT_TRUE(c.metrics.empty());
}

TEST_F(RunDirs, CompareSameSettings) {
    fs::path a = makeRun("a");
    fs::path b = makeRun("b");
    auto r = runPipe("compare '" + a.string() + "' '" + b.string() + "'");
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out.rfind("the runs' settings are the same\nrun  epochs", 0), 0u) << r.out;
}

TEST_F(RunDirs, CompareErrors) {
    auto r = runPipe("compare '" + root.string() + "'", true);
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.out.rfind("pipe compare: " + root.string() + " is not a run directory", 0), 0u) << r.out;

    fs::path bad = makeRun("bad", "fit.optimizer.lrr=1\n");
    r = runPipe("compare '" + bad.string() + "'", true);
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("no longer checks"), std::string::npos) << r.out;

    fs::path broken = makeRun("broken", "", "epoch,train_loss,valid_loss,time\n0,1,2\n");
    r = runPipe("compare '" + broken.string() + "'", true);
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find((broken / "fit" / "metrics.csv").string() + ":2: expected 4 values"), std::string::npos)
        << r.out;

    EXPECT_EQ(runPipe("compare").code, 2);
}

}  // namespace
}  // namespace pipelang::record
