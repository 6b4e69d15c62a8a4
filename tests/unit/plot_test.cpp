// Reading run directories (metrics.csv, lr.csv) and `pipe plot`, on run
// directories the tests write by hand.
#include "record/plot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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

// ---- reading --------------------------------------------------------------

TEST_F(RunDirs, ReadsARun) {
    fs::path dir = makeRun("fashion-20261122-134538", "", kMetrics, lrCsv());
    RunRecord run = readRun(dir.string() + "/");
    EXPECT_EQ(run.name, "fashion-20261122-134538");
    ASSERT_EQ(run.stages.size(), 1u);
    EXPECT_EQ(run.stages[0].name, "fit");
    const Table& m = run.stages[0].metrics;
    EXPECT_EQ(m.columns,
              (std::vector<std::string>{"epoch", "train_loss", "valid_loss", "accuracy", "error_rate", "time"}));
    ASSERT_EQ(m.rows.size(), 3u);
    EXPECT_DOUBLE_EQ(m.rows[2][m.column("accuracy")], 0.868667);
    EXPECT_EQ(m.text[2][1], "0.875516");
    ASSERT_TRUE(run.stages[0].lr.has_value());
    EXPECT_EQ(run.stages[0].lr->rows.size(), 30u);
}

TEST_F(RunDirs, NanIsANumberAndAHeaderAloneIsARunJustStarted) {
    write(root / "a.csv", "epoch,train_loss,valid_loss,time\n0,1.5,nan,2\n");
    EXPECT_TRUE(std::isnan(readTable(root / "a.csv", "epoch").rows[0][2]));
    write(root / "b.csv", "epoch,train_loss,valid_loss,time\n");
    EXPECT_TRUE(readTable(root / "b.csv", "epoch").rows.empty());
}

std::string errorOf(const fs::path& file, const std::string& first) {
    try {
        readTable(file, first);
    } catch (const RecordError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST_F(RunDirs, MalformedTablesNameFileAndLine) {
    fs::path f = root / "metrics.csv";
    write(f, "epoch,train_loss,valid_loss,time\n0,1.5,1.2,3\n1,1.4,1.1\n");
    EXPECT_EQ(errorOf(f, "epoch"), f.string() + ":3: expected 4 values (4 columns in the header), found 3");
    write(f, "epoch,train_loss,valid_loss,time\n0,1.5,oops,3\n");
    EXPECT_EQ(errorOf(f, "epoch"), f.string() + ":2: `oops` in column `valid_loss` is not a number");
    write(f, "");
    EXPECT_EQ(errorOf(f, "epoch"), f.string() + ": the file is empty");
    write(f, "step,lr\n");
    EXPECT_EQ(errorOf(f, "epoch"), f.string() + ":1: expected a header beginning with `epoch`, found `step,lr`");
    EXPECT_EQ(errorOf(root / "missing.csv", "epoch"), "cannot read " + (root / "missing.csv").string());
}

TEST_F(RunDirs, NotARunDirectory) {
    try {
        readRun(root);
        FAIL();
    } catch (const RecordError& e) {
        EXPECT_NE(std::string(e.what()).find(root.string() + " is not a run directory"), std::string::npos) << e.what();
    }
}

// ---- pipe plot ------------------------------------------------------------

bool isPng(const fs::path& file) {
    return readFile(file).rfind("\x89PNG\r\n\x1a\n", 0) == 0;
}

#define REQUIRE_GNUPLOT()                                                      \
    if (!findProgram("gnuplot"))                                               \
    GTEST_SKIP() << "gnuplot is not installed (scripts/install-deps installs " \
                    "gnuplot-nox)"

TEST_F(RunDirs, PlotOneRun) {
    REQUIRE_GNUPLOT();
    fs::path run = makeRun("fashion-a", "", kMetrics, lrCsv());
    auto r = runPipe("plot '" + run.string() + "'", true);
    ASSERT_EQ(r.code, 0) << r.out;
    for (const char* name : {"fit-loss", "fit-accuracy", "fit-error_rate", "fit-lr"}) {
        fs::path png = run / "plots" / (std::string(name) + ".png");
        fs::path svg = run / "plots" / (std::string(name) + ".svg");
        EXPECT_TRUE(isPng(png)) << png;
        EXPECT_NE(readFile(svg).find("<svg"), std::string::npos) << svg;
        EXPECT_NE(r.out.find(png.filename().string()), std::string::npos) << r.out;
    }
    EXPECT_FALSE(fs::exists(run / "plots" / "fit-time.png"));
    EXPECT_TRUE(fs::exists(run / "plots" / "plots.gp"));
    std::string loss = readFile(run / "plots" / "fit-loss.svg");
    EXPECT_NE(loss.find("train_loss"), std::string::npos);
    EXPECT_NE(loss.find("valid_loss"), std::string::npos);
    EXPECT_NE(loss.find("fashion-a"), std::string::npos);  // in the title
    EXPECT_NE(readFile(run / "plots" / "fit-lr.svg").find(">lr<"), std::string::npos);
}

TEST_F(RunDirs, PlotComparesSeveralRuns) {
    REQUIRE_GNUPLOT();
    fs::path a = makeRun("fashion-a", "", kMetrics, lrCsv());
    // No validation split: valid_loss is nan throughout and is left out, not an error.
    fs::path b =
        makeRun("fashion-b", "", "epoch,train_loss,valid_loss,accuracy,time\n0,1.1,nan,0.5,1\n1,0.9,nan,0.6,1\n");
    fs::path out = root / "pictures";
    auto r = runPipe("plot '" + a.string() + "' '" + b.string() + "' --out '" + out.string() + "' --format svg", true);
    ASSERT_EQ(r.code, 0) << r.out;
    for (const char* name : {"fit-train_loss", "fit-accuracy"}) {
        std::string svg = readFile(out / (std::string(name) + ".svg"));
        EXPECT_NE(svg.find("fashion-a"), std::string::npos) << name;
        EXPECT_NE(svg.find("fashion-b"), std::string::npos) << name;
        EXPECT_FALSE(fs::exists(out / (std::string(name) + ".png")));
    }
    std::string valid = readFile(out / "fit-valid_loss.svg");
    EXPECT_NE(valid.find("fashion-a"), std::string::npos);
    EXPECT_EQ(valid.find("fashion-b"), std::string::npos);
    std::string errorRate = readFile(out / "fit-error_rate.svg");
    EXPECT_NE(errorRate.find("fashion-a"), std::string::npos);
    EXPECT_EQ(errorRate.find("fashion-b"), std::string::npos);
    EXPECT_NE(readFile(out / "fit-lr.svg").find("fashion-a"), std::string::npos);
}

TEST_F(RunDirs, PlotDrawsALongScheduleFromEveryKthStep) {
    REQUIRE_GNUPLOT();
    std::string lr = "step,lr_backbone,lr_head\n";
    for (int step = 0; step < 10000; ++step)
        lr += std::to_string(step) + "," + std::to_string(1e-4 * step / 10000) + "," +
              std::to_string(1e-3 * step / 10000) + "\n";
    fs::path run = makeRun("long", "", kMetrics, lr);
    auto r = runPipe("plot '" + run.string() + "' --format svg", true);
    ASSERT_EQ(r.code, 0) << r.out;
    std::string script = readFile(run / "plots" / "plots.gp");
    EXPECT_LT(std::count(script.begin(), script.end(), '\n'), 2500);
    EXPECT_NE(script.find("\n9999 "), std::string::npos);  // the last step is kept
    std::string svg = readFile(run / "plots" / "fit-lr.svg");
    EXPECT_NE(svg.find("lr_backbone"), std::string::npos);
    EXPECT_NE(svg.find("lr_head"), std::string::npos);
}

TEST_F(RunDirs, PlotErrors) {
    auto r = runPipe("plot '" + root.string() + "'", true);
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("is not a run directory"), std::string::npos) << r.out;

    fs::path broken = makeRun("broken", "", "epoch,train_loss,valid_loss,time\n0,1,2,3\n1,x,2,3\n");
    r = runPipe("plot '" + broken.string() + "'", true);
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.out, "pipe plot: " + (broken / "fit" / "metrics.csv").string() +
                         ":3: `x` in column `train_loss` is not a number\n");

    fs::path started = makeRun("started", "", "epoch,train_loss,valid_loss,time\n");
    r = runPipe("plot '" + started.string() + "'", true);
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("no rows under the header"), std::string::npos) << r.out;

    fs::path none = makeRun("none", "", "");
    r = runPipe("plot '" + none.string() + "'", true);
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("has no training metrics"), std::string::npos) << r.out;

    EXPECT_EQ(runPipe("plot '" + none.string() + "' --format gif").code, 2);
}

TEST_F(RunDirs, PlotWithoutGnuplotNamesThePackage) {
    fs::path run = makeRun("a");
    std::string command = "PATH=/nonexistent '" PIPE_BINARY "' plot '" + run.string() + "' 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string out;
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    int status = pclose(pipe);
    EXPECT_EQ(WEXITSTATUS(status), 1);
    EXPECT_NE(out.find("gnuplot is not installed"), std::string::npos) << out;
    EXPECT_NE(out.find("gnuplot-nox"), std::string::npos) << out;
}

}  // namespace
}  // namespace pipelang::record
