// Sweeps, `pipe cv` and pipe.toml end to end, through the built `pipe`, on a
// small table made here (y = 3x + 1 with noise): a point's own run directory
// and `--set` overrides, --jobs 2, a failing point that does not stop the
// others, the ranked table, out-of-fold predictions, and pipe.toml's values
// and errors.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <toml.hpp>

#include "temp_dir.h"
#include "tests/runtime/pipe_command.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines(const fs::path& file) {
    std::vector<std::string> out;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

fs::path onlyEntry(const fs::path& dir) {
    return fs::directory_iterator(dir)->path();
}

const char* kLine = R"(seed 1
data d {
    source     = csv("line.csv")
    blocks     = (tabular(cont = ["x"]), number)
    y          = column("y")
    split      = random(valid = 0.25, seed = 1)
    batch_size = 16
}
model net { backbone = mlp(hidden = [8])  head = regressor() }
train fit {
    optimizer = adamw(lr = 1e-2)
    schedule  = one_cycle(epochs = 2)
    metrics   = [mae]
}
)";

class Sweeps : public ::testing::Test {
protected:
    TempDir dir{"pipe-sweep-test"};
    void SetUp() override {
        std::mt19937 rng(3);
        std::normal_distribution<double> noise(0, 0.05);
        std::ofstream csv(dir / "line.csv");
        csv << "x,y\n";
        for (int i = 0; i < 48; ++i) {
            double x = i / 48.0;
            csv << x << "," << 3 * x + 1 + noise(rng) << "\n";
        }
    }
    fs::path write(const std::string& name, const std::string& text) {
        std::ofstream(dir / name) << text;
        return dir / name;
    }
};

TEST_F(Sweeps, EveryPointIsARunOfItsOwnJobsTwoAndAFailureDoesNotStopTheOthers) {
    fs::path file = write("line_sweep.pipe", std::string(kLine) + R"(
sweep {
    d.source.path    = ["line.csv", "missing.csv"]
    fit.optimizer.lr = [1e-2, 3e-2]
    metric           = mae
}
)");
    CommandResult r = runPipeCommand("run " + file.string() + " --runs " + (dir / "runs").string() + " --jobs 2");
    EXPECT_EQ(r.status, 1) << r.output;  // a point failed
    fs::path sweep = onlyEntry(dir / "runs");
    EXPECT_EQ(sweep.filename().string().rfind("line_sweep-sweep-", 0), 0u) << sweep;
    EXPECT_NE(r.output.find("4 points (grid), 2 at a time"), std::string::npos) << r.output;

    auto csv = lines(sweep / "sweep.csv");
    ASSERT_EQ(csv.size(), 5u) << r.output;
    EXPECT_EQ(csv[0], "rank,best,run,status,d.source.path,fit.optimizer.lr,train_loss,valid_loss,mae,seconds,error");
    // The two points that read line.csv finished and rank first, by mae, lowest first.
    std::vector<double> maes;
    for (size_t i = 1; i <= 2; ++i) {
        EXPECT_NE(csv[i].find(",finished,\"\"\"line.csv\"\"\","), std::string::npos) << csv[i];
        std::stringstream cells(csv[i]);
        std::string cell;
        for (int c = 0; c <= 8; ++c) std::getline(cells, cell, ',');
        maes.push_back(std::stod(cell));
    }
    EXPECT_LE(maes[0], maes[1]);
    EXPECT_EQ(csv[1].rfind("1,1,", 0), 0u);  // the best is marked
    EXPECT_EQ(csv[2].rfind("2,0,", 0), 0u);
    for (size_t i = 3; i <= 4; ++i) {
        EXPECT_NE(csv[i].find(",failed,"), std::string::npos) << csv[i];
        EXPECT_NE(csv[i].find("missing.csv"), std::string::npos) << csv[i];
    }
    std::string table;
    for (const auto& l : lines(sweep / "sweep.txt")) table += l + "\n";
    EXPECT_NE(r.output.find(table.substr(0, table.find('\n'))), std::string::npos) << r.output;
    EXPECT_NE(table.find("ranked by mae (lower is better); * best: p"), std::string::npos) << table;

    // Each point's record shows its values as --set overrides.
    std::string best = csv[1].substr(4, csv[1].find(",finished") - 4);
    toml::value record = toml::parse((sweep / best / "record.toml").string());
    EXPECT_EQ(toml::find<std::string>(record, "settings", "fit.optimizer.lr", "origin"), "--set");
    EXPECT_EQ(toml::find<std::string>(record, "run", "status"), "finished");
    EXPECT_EQ(toml::find<std::string>(record, "project", "threads", "origin"), "--threads");  // cores / 2

    // `pipe plot SWEEPDIR` draws the metric per point and the points' curves.
    CommandResult plot = runPipeCommand("plot " + sweep.string());
    EXPECT_EQ(plot.status, 0) << plot.output;
    EXPECT_GT(fs::file_size(sweep / "plots" / "sweep.png"), 0u);
    EXPECT_GT(fs::file_size(sweep / "plots" / "sweep.svg"), 0u);
}

TEST_F(Sweeps, CrossValidationPoolsEveryRowOnceAndScoresTheFolds) {
    fs::path file = write("line.pipe", kLine);
    CommandResult r = runPipeCommand("cv " + file.string() + " --runs " + (dir / "runs").string() +
                                     " --set \"d.split=kfold(k = 3, seed = 2)\"");
    ASSERT_EQ(r.status, 0) << r.output;
    fs::path cv = onlyEntry(dir / "runs");
    auto oof = lines(cv / "oof_predictions.csv");
    ASSERT_EQ(oof.size(), 49u);
    EXPECT_EQ(oof[0], "row,fold,target,prediction");
    std::set<int> folds;
    for (size_t i = 1; i < oof.size(); ++i) {
        EXPECT_EQ(oof[i].rfind(std::to_string(i - 1) + ",", 0), 0u) << oof[i];  // every row once, in order
        folds.insert(std::stoi(oof[i].substr(oof[i].find(',') + 1)));
    }
    EXPECT_EQ(folds, (std::set<int>{0, 1, 2}));
    auto table = lines(cv / "cv.csv");
    ASSERT_EQ(table.size(), 7u);
    EXPECT_EQ(table[0], "fold,run,train_loss,valid_loss,mae");
    EXPECT_EQ(table[4].rfind("mean,,", 0), 0u);
    EXPECT_EQ(table[5].rfind("std,,", 0), 0u);
    EXPECT_EQ(table[6].rfind("pooled,oof,,,", 0), 0u);  // mae, pooled; no loss
    EXPECT_NE(r.output.find("pooled"), std::string::npos) << r.output;
    // A fold's validation predictions name source rows: fold 0's are those its split held out.
    auto valid = lines(cv / "p1" / "fit" / "valid_predictions.csv");
    EXPECT_EQ(valid.size(), 17u);  // 48 rows in 3 folds, and the header

    CommandResult notKfold = runPipeCommand("cv " + file.string() + " --runs " + (dir / "runs").string());
    EXPECT_EQ(notKfold.status, 2) << notKfold.output;
    EXPECT_NE(notKfold.output.find("runs the folds of a k-fold split"), std::string::npos) << notKfold.output;
}

TEST_F(Sweeps, PipeTomlGivesDefaultsTheCommandLineOverridesAndTheRecordNamesEach) {
    fs::create_directories(dir / "project" / ".git");
    fs::create_directories(dir / "project" / "shared");
    fs::rename(dir / "line.csv", dir / "project" / "shared" / "line.csv");
    std::ofstream(dir / "project" / "pipe.toml") << "runs = \"out\"\nthreads = 1\ndevice = \"cpu\"\n"
                                                 << "data_roots = [\"shared\"]\n";
    fs::create_directories(dir / "project" / "exp");
    std::ofstream(dir / "project" / "exp" / "line.pipe") << kLine;

    CommandResult r = runPipeCommand("run " + (dir / "project" / "exp" / "line.pipe").string());
    ASSERT_EQ(r.status, 0) << r.output;
    fs::path run = onlyEntry(dir / "project" / "out");
    toml::value record = toml::parse((run / "record.toml").string());
    EXPECT_EQ(toml::find<int64_t>(record, "run", "threads"), 1);
    EXPECT_EQ(toml::find<std::string>(record, "project", "file"), (dir / "project" / "pipe.toml").string());
    for (const char* key : {"runs", "threads", "device", "data_roots"})
        EXPECT_EQ(toml::find<std::string>(record, "project", key, "origin"), "pipe.toml") << key;
    EXPECT_EQ(toml::find<std::string>(record, "settings", "d.source.path", "origin"), "pipe.toml");
    EXPECT_EQ(toml::find<std::string>(record, "settings", "d.source.path", "value"),
              "\"" + (dir / "project" / "shared" / "line.csv").string() + "\"");
    EXPECT_EQ(toml::find<std::string>(record, "settings", "fit.device", "origin"), "pipe.toml");

    // repro uses what the record says, the data root included.
    CommandResult again = runPipeCommand("repro " + run.string());
    EXPECT_EQ(again.status, 0) << again.output;

    // The command line wins over pipe.toml.
    CommandResult flags = runPipeCommand("run " + (dir / "project" / "exp" / "line.pipe").string() +
                                         " --threads 2 --runs " + (dir / "elsewhere").string());
    ASSERT_EQ(flags.status, 0) << flags.output;
    toml::value second = toml::parse((onlyEntry(dir / "elsewhere") / "record.toml").string());
    EXPECT_EQ(toml::find<int64_t>(second, "run", "threads"), 2);
    EXPECT_EQ(toml::find<std::string>(second, "project", "threads", "origin"), "--threads");
    EXPECT_EQ(toml::find<std::string>(second, "project", "runs", "origin"), "--runs");

    // A wrong key is one clear error naming pipe.toml's line, before anything runs.
    std::ofstream(dir / "project" / "pipe.toml") << "runs = \"out\"\nthread = 1\n";
    CommandResult bad = runPipeCommand("run " + (dir / "project" / "exp" / "line.pipe").string());
    EXPECT_EQ(bad.status, 2) << bad.output;
    EXPECT_NE(bad.output.find((dir / "project" / "pipe.toml").string() + ":2: unknown key `thread`"), std::string::npos)
        << bad.output;
}

// Sweeps that search: a file whose sweep draws the learning rate from a
// range. `asha` stops the points that are not in the top half at each rung
// (after 1 and 2 epochs of 4), says so, and decides alike when run again;
// `tpe` with --jobs 2 chooses each point from those finished; one point runs
// alone into a sweep directory as a Slurm array task would run it; and
// `pipe plot` draws the points across their settings and over the epochs.
TEST_F(Sweeps, AshaStopsWeakPointsAtItsRungsTpeSearchesAndOnePointRunsAlone) {
    {
        // Enough rows that an epoch (about 0.2 s) outlasts the watcher's look at metrics.csv.
        std::mt19937 rng(5);
        std::normal_distribution<double> noise(0, 0.05);
        std::ofstream csv(dir / "wide.csv");
        csv << "x,y\n";
        for (int i = 0; i < 6000; ++i) csv << i / 6000.0 << "," << 3 * i / 6000.0 + 1 + noise(rng) << "\n";
    }
    std::string base = kLine;
    base.replace(base.find("line.csv"), 8, "wide.csv");
    base.replace(base.find("batch_size = 16"), 15, "batch_size = 8");
    base.replace(base.find("epochs = 2"), 10, "epochs = 4");
    fs::path file = write("asha.pipe", base + R"(
sweep {
    fit.optimizer.lr = loguniform(1e-4, 1e-1)
    strategy         = asha(min_epochs = 1, reduction = 2, trials = 6, seed = 3)
    metric           = mae
}
)");
    auto statuses = [&](const fs::path& sweep) {
        std::map<std::string, std::string> out;  // run -> status, values
        for (const auto& row : lines(sweep / "sweep.csv")) {
            std::vector<std::string> cells;
            std::stringstream in(row);
            for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
            if (cells.size() > 4 && cells[0] != "rank") out[cells[2]] = cells[3] + " " + cells[4];
        }
        return out;
    };
    CommandResult r = runPipeCommand("run " + file.string() + " --threads 1 --runs " + (dir / "asha").string());
    ASSERT_EQ(r.status, 0) << r.output;  // a point stopped by asha is no failure
    fs::path sweep = onlyEntry(dir / "asha");
    EXPECT_NE(r.output.find("6 points (asha(min_epochs = 1, reduction = 2, trials = 6, seed = 3))"), std::string::npos)
        << r.output;
    auto first = statuses(sweep);
    ASSERT_EQ(first.size(), 6u) << r.output;
    EXPECT_EQ(first["p1"].rfind("finished ", 0), 0u) << "the first point is alone at its rungs";
    int stopped = 0;
    for (const auto& [run, status] : first) {
        if (status.rfind("stopped ", 0) != 0) continue;
        ++stopped;
        // It says when and why, and trained no further than the epoch after its rung.
        toml::value point = toml::parse((sweep / run / "point.toml").string());
        std::string why = toml::find<std::string>(point, "error");
        EXPECT_NE(why.find("is not in the top 1/2 of the"), std::string::npos) << why;
        EXPECT_EQ(why.rfind("after ", 0), 0u) << why;
        int64_t rungEpochs = std::stoll(why.substr(6));
        EXPECT_TRUE(rungEpochs == 1 || rungEpochs == 2) << why;
        EXPECT_LE(toml::find<int64_t>(point, "epochs"), rungEpochs + 1) << run;
        EXPECT_LT(lines(sweep / run / "fit" / "metrics.csv").size(), 5u) << run;  // fewer than 4 epochs
        EXPECT_NE(r.output.find(run + " "), std::string::npos);
    }
    EXPECT_GE(stopped, 2) << r.output;
    EXPECT_NE(r.output.find("stopped early by asha"), std::string::npos) << r.output;
    auto rungs = lines(sweep / "asha.csv");
    EXPECT_EQ(rungs[0], "rung,epochs,run,value");
    EXPECT_EQ(rungs[1].rfind("1,1,p1,", 0), 0u) << rungs[1];
    EXPECT_GE(rungs.size(), 7u);  // every point reached rung 1
    toml::value summary = toml::parse((sweep / "sweep.toml").string());
    EXPECT_LT(toml::find<int64_t>(summary, "epochs"), 6 * 4);  // less than every point's 4 epochs

    // The same file and seed, again: the same points and the same decisions.
    CommandResult again = runPipeCommand("run " + file.string() + " --threads 1 --runs " + (dir / "asha2").string());
    ASSERT_EQ(again.status, 0) << again.output;
    EXPECT_EQ(statuses(onlyEntry(dir / "asha2")), first);

    // Parallel coordinates and each point's metric over its epochs, the rungs marked.
    CommandResult plot = runPipeCommand("plot " + sweep.string());
    EXPECT_EQ(plot.status, 0) << plot.output;
    for (const char* picture : {"parallel.png", "epochs.png", "sweep.png"})
        EXPECT_GT(fs::file_size(sweep / "plots" / picture), 0u) << picture;

    // tpe, two points at once: each point chosen when it starts, none twice.
    std::string tpe = base + R"(
sweep {
    fit.optimizer.lr = loguniform(1e-4, 1e-1)
    strategy         = tpe(trials = 4, seed = 1, startup = 2)
    metric           = mae
}
)";
    fs::path tpeFile = write("tpe.pipe", tpe);
    CommandResult searched = runPipeCommand("run " + tpeFile.string() + " --jobs 2 --runs " + (dir / "tpe").string());
    ASSERT_EQ(searched.status, 0) << searched.output;
    auto points = statuses(onlyEntry(dir / "tpe"));
    ASSERT_EQ(points.size(), 4u);
    std::set<std::string> values;
    for (const auto& [run, status] : points) {
        EXPECT_EQ(status.rfind("finished ", 0), 0u) << run << ": " << status;
        values.insert(status);
    }
    EXPECT_EQ(values.size(), 4u);

    // One point alone into a sweep directory, as a Slurm array task runs it;
    // run again, it is not run twice.
    fs::create_directories(dir / "array");
    std::string task = "run " + file.string() + " --threads 1 --sweep-point 0 --sweep-dir " + (dir / "array").string();
    CommandResult one = runPipeCommand(task);
    ASSERT_EQ(one.status, 0) << one.output;
    toml::value point = toml::parse((dir / "array" / "p1" / "point.toml").string());
    EXPECT_EQ(toml::find<std::string>(point, "status"), "finished");
    EXPECT_EQ(first["p1"], "finished " + toml::find<std::vector<std::vector<std::string>>>(point, "values")[0][1]);
    EXPECT_EQ(runPipeCommand(task).status, 0);
    EXPECT_EQ(lines(dir / "array" / "asha.csv").size(), 3u);  // p1's reports at rungs 1 and 2, once each
    EXPECT_EQ(
        runPipeCommand("run " + file.string() + " --sweep-point 6 --sweep-dir " + (dir / "array").string()).status, 2);
}

}  // namespace
}  // namespace pipelang::runtime
