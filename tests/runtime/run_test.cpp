// `pipe run` end to end on data made here: a folder of PNG images in two
// classes that a small network must learn to tell apart, then the run
// directory's artifacts, and clear failures for bad input.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <toml.hpp>

#include "runtime/run_record.h"
#include "runtime/safetensors.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/test_files.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;

// Reads the named column of a run's metrics.csv.
std::vector<double> metricColumn(const fs::path& csvPath, const std::string& name) {
    std::ifstream csv(csvPath);
    std::string line, cell;
    std::getline(csv, line);
    std::stringstream header(line);
    int column = 0;
    while (std::getline(header, cell, ',') && cell != name) ++column;
    std::vector<double> values;
    while (std::getline(csv, line)) {
        std::stringstream cells(line);
        for (int i = 0; i <= column; ++i) std::getline(cells, cell, ',');
        values.push_back(std::stod(cell));
    }
    return values;
}

class Run : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("pipe-run-test-" + std::to_string(::getpid()));
        fs::remove_all(root_);
        makeStripes(root_, 40);
    }
    void TearDown() override { fs::remove_all(root_); }
    fs::path write(const std::string& name, const std::string& text) {
        std::ofstream(root_ / name) << text;
        return root_ / name;
    }
    fs::path root_;
};

const char* kStripes = R"(seed 3
data stripes {
    source     = folder("images", extensions = [".png"])
    blocks     = (image(channels = 1), category)
    label      = parent_label
    split      = random(valid = 0.25, seed = 1)
    batch      = [normalize()]
    batch_size = 8
}
model net { backbone = cnn(channels = [8, 16]) }
train fit {
    optimizer = adamw(lr = 1e-2)
    schedule  = one_cycle(epochs = 4)
    metrics   = [accuracy]
    keep      = best(accuracy)
}
export fit to "stripes.safetensors"
)";

TEST_F(Run, LearnsStripesAndWritesTheRunDirectory) {
    fs::path file = write("stripes.pipe", kStripes);
    CommandResult r = runPipeCommand("run " + file.string() + " --runs " + (root_ / "runs").string() + " --threads 1");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("epoch"), std::string::npos) << r.output;

    ASSERT_EQ(std::distance(fs::directory_iterator(root_ / "runs"), fs::directory_iterator()), 1);
    fs::path run = fs::directory_iterator(root_ / "runs")->path();
    EXPECT_EQ(run.filename().string().rfind("stripes-", 0), 0u) << run;
    for (const char* artifact :
         {"plan.txt", "graph.txt", "source.pipe", "fit/metrics.csv", "fit/weights.safetensors", "stripes.safetensors"})
        EXPECT_TRUE(fs::exists(run / artifact)) << artifact;

    // The last row of metrics.csv holds the kept accuracy: the stripes are learnt.
    std::ifstream csv(run / "fit" / "metrics.csv");
    std::string header, line, last;
    std::getline(csv, header);
    EXPECT_EQ(header, "epoch,train_loss,valid_loss,accuracy,time");
    int rows = 0;
    while (std::getline(csv, line)) last = line, ++rows;
    EXPECT_EQ(rows, 4);
    double best = 0;
    std::ifstream again(run / "fit" / "metrics.csv");
    std::getline(again, line);
    while (std::getline(again, line)) {
        std::stringstream cells(line);
        std::string cell;
        for (int i = 0; i < 4; ++i) std::getline(cells, cell, ',');
        best = std::max(best, std::stod(cell));
    }
    EXPECT_GE(best, 0.9) << "the network did not learn the stripes:\n" << last;

    // The run's record, log and learning-rate trace.
    toml::value record = toml::parse((run / "record.toml").string());
    EXPECT_EQ(toml::find<std::string>(record, "run", "status"), "finished");
    EXPECT_EQ(toml::find<int64_t>(record, "run", "seed"), 3);
    EXPECT_EQ(toml::find<std::string>(record, "stages", "fit", "weights_sha256"),
              sha256File(run / "fit" / "weights.safetensors"));
    EXPECT_EQ(toml::find<std::string>(record, "settings", "fit.optimizer.lr", "origin"), "file");
    EXPECT_EQ(toml::find<std::string>(record, "settings", "fit.optimizer.weight_decay", "origin"), "default");
    EXPECT_EQ(toml::find(record, "data", "stripes", "files").as_array().size(), 80u);
    EXPECT_FALSE(toml::find<std::string>(record, "versions", "libtorch").empty());
    std::ifstream logFile(run / "log.txt");
    std::string log((std::istreambuf_iterator<char>(logFile)), std::istreambuf_iterator<char>());
    EXPECT_NE(log.find("] [info] epoch       train_loss  valid_loss  accuracy"), std::string::npos) << log;
    EXPECT_NE(log.find("done: "), std::string::npos) << log;
    std::ifstream lr(run / "fit" / "lr.csv");
    std::string lrHeader;
    std::getline(lr, lrHeader);
    EXPECT_EQ(lrHeader, "step,lr");

    // TensorBoard's events, read back independently of the writer.
    fs::path events;
    for (const auto& entry : fs::directory_iterator(run / "fit"))
        if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) events = entry.path();
    ASSERT_FALSE(events.empty());
    CommandResult read = runShell("python3 " PIPE_SOURCE_DIR "/tests/tools/read_tfevents.py " + events.string());
    ASSERT_EQ(read.status, 0) << read.output;
    for (const char* tag : {"\"loss/train\"", "\"loss/valid\"", "\"metrics/accuracy\"", "\"lr\""})
        EXPECT_NE(read.output.find(tag), std::string::npos) << tag << "\n" << read.output.substr(0, 2000);

    // The export is real safetensors with the network's parameters.
    auto weights = readSafetensors(run / "stripes.safetensors");
    EXPECT_FALSE(weights.tensors.empty());

    // `pipe predict` names the right class first for an item of each class.
    fs::path h = root_ / "images" / "horizontal" / "1.png", v = root_ / "images" / "vertical" / "1.png";
    CommandResult p = runPipeCommand("predict " + run.string() + " " + h.string() + " " + v.string() + " --top 2");
    ASSERT_EQ(p.status, 0) << p.output;
    std::istringstream lines(p.output);
    std::string first, second;
    std::getline(lines, first);
    std::getline(lines, second);
    EXPECT_EQ(first.rfind(h.string() + ": horizontal ", 0), 0u) << p.output;
    EXPECT_EQ(second.rfind(v.string() + ": vertical ", 0), 0u) << p.output;

    CommandResult bad = runPipeCommand("predict " + (root_ / "not-a-run").string() + " " + h.string());
    EXPECT_EQ(bad.status, 1) << bad.output;
    EXPECT_NE(bad.output.find("is this a run directory"), std::string::npos) << bad.output;
}

// A torchvision family end to end: MobileNetV3 fine-tunes on the stripes
// (as RGB, 32 px), `pipe predict` uses the run, and the export loads into
// torchvision's mobilenet_v3_small with strict=True (its classifier.0 and
// classifier.3 where torchvision has them).
TEST_F(Run, TorchvisionFamilyTrainsPredictsAndExports) {
    std::string text = kStripes;
    text.replace(text.find("image(channels = 1)"), 19, "image(channels = 3)");
    text.replace(text.find("    batch      = [normalize()]"), 0, "    item       = [resize(32)]\n");
    text.replace(text.find("cnn(channels = [8, 16])"), 23, "mobilenet(variant = \"v3_small\")");
    text.replace(text.find("one_cycle(epochs = 4)"), 21, "one_cycle(epochs = 2)");
    fs::path file = write("stripes.pipe", text);
    CommandResult r = runPipeCommand("run " + file.string() + " --runs " + (root_ / "runs").string() + " --threads 2");
    ASSERT_EQ(r.status, 0) << r.output;
    fs::path run = fs::directory_iterator(root_ / "runs")->path();

    auto weights = readSafetensors(run / "stripes.safetensors");
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& [name, t] : weights.tensors) shapes[name] = t.sizes().vec();
    EXPECT_EQ(shapes["features.0.0.weight"], (std::vector<int64_t>{16, 3, 3, 3}));
    EXPECT_EQ(shapes["classifier.0.weight"], (std::vector<int64_t>{1024, 576}));
    EXPECT_EQ(shapes["classifier.3.weight"], (std::vector<int64_t>{2, 1024}));

    fs::path h = root_ / "images" / "horizontal" / "1.png";
    CommandResult p = runPipeCommand("predict " + run.string() + " " + h.string());
    ASSERT_EQ(p.status, 0) << p.output;
    EXPECT_EQ(p.output.rfind(h.string() + ": ", 0), 0u) << p.output;

    if (!pythonCanImport("torch, torchvision")) GTEST_SKIP() << "/usr/bin/python3 cannot import torchvision";
    NamedTensors io;
    io.tensors.push_back({"input", torch::randn({2, 3, 32, 32})});
    writeSafetensors(root_ / "io.safetensors", io);
    CommandResult strict = runShell("/usr/bin/python3 " PIPE_SOURCE_DIR
                                    "/tests/runtime/make_weights.py check_arch "
                                    "mobilenet_v3_small " +
                                    (run / "stripes.safetensors").string() + " " + (root_ / "io.safetensors").string() +
                                    " 2 " + (root_ / "y.safetensors").string());
    ASSERT_EQ(strict.status, 0) << strict.output;
    EXPECT_EQ(readSafetensors(root_ / "y.safetensors").tensors[0].second.sizes(), (std::vector<int64_t>{2, 2}));
}

// The same file gives the same weights and metrics with 1 or 4 loader
// threads; `pipe repro` repeats a run and says so, and refuses a broken record.
TEST_F(Run, RepeatsExactlyWhateverTheLoaderThreadsAndRepro) {
    fs::path file = write("stripes.pipe", kStripes);
    CommandResult a = runPipeCommand("run " + file.string() + " --runs " + (root_ / "a").string() +
                                     " --threads 1 --set stripes.workers=1");
    CommandResult b = runPipeCommand("run " + file.string() + " --runs " + (root_ / "b").string() +
                                     " --threads 1 --set stripes.workers=4");
    ASSERT_EQ(a.status, 0) << a.output;
    ASSERT_EQ(b.status, 0) << b.output;
    fs::path runA = onlyRun(root_ / "a"), runB = onlyRun(root_ / "b");
    EXPECT_EQ(sha256File(runA / "fit" / "weights.safetensors"), sha256File(runB / "fit" / "weights.safetensors"));
    auto csvOf = [](const fs::path& run) {
        std::ifstream in(run / "fit" / "metrics.csv");
        std::string out, line;
        while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";  // all but the time
        return out;
    };
    EXPECT_EQ(csvOf(runA), csvOf(runB));

    CommandResult again = runPipeCommand("repro " + runA.string());
    EXPECT_EQ(again.status, 0) << again.output;
    EXPECT_NE(again.output.find("exactly: the same weights and every metric of every epoch"), std::string::npos)
        << again.output;

    // A record cut short is named and refused, never half-read.
    std::string text;
    {
        std::ifstream in(runA / "record.toml");
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::ofstream(runA / "record.toml", std::ios::trunc) << text.substr(0, text.size() / 3) << "\n[run\n";
    CommandResult broken = runPipeCommand("repro " + runA.string());
    EXPECT_EQ(broken.status, 1) << broken.output;
    EXPECT_NE(broken.output.find("record.toml` is corrupt or incomplete"), std::string::npos) << broken.output;
}

// `pipe run FILE` in the background, its output thrown away: the process id.
pid_t spawnPipe(const std::vector<std::string>& args) {
    pid_t pid = fork();
    if (pid == 0) {
        std::freopen("/dev/null", "w", stdout);
        std::freopen("/dev/null", "w", stderr);
        std::vector<char*> argv{const_cast<char*>(PIPE_BINARY)};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(PIPE_BINARY, argv.data());
        _exit(127);
    }
    return pid;
}

int64_t rowsOf(const fs::path& csv) {
    std::ifstream in(csv);
    int64_t rows = -1;
    for (std::string line; std::getline(in, line);) ++rows;
    return rows;
}

// Waits until the only run under `runs` has finished `epochs` epochs.
fs::path waitForEpochs(const fs::path& runs, int64_t epochs) {
    for (int i = 0; i < 2000; ++i) {
        if (fs::exists(runs) && !fs::is_empty(runs)) {
            fs::path run = onlyRun(runs);
            if (rowsOf(run / "fit" / "metrics.csv") >= epochs) return run;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return {};
}

// A run killed with SIGKILL at a random step, or stopped with Ctrl-C, and
// resumed, ends with the weights of a run never interrupted, bit for bit.
TEST_F(Run, ResumeAfterSigkillOrCtrlCGivesTheUninterruptedWeights) {
    std::string text = kStripes;
    text.replace(text.find("model net { backbone = cnn(channels = [8, 16]) }"), 48,
                 "model net { backbone = cnn(channels = [8, 16])  head = classifier(dropout = 0.3) }");
    text.replace(text.find("epochs = 4"), 10, "epochs = 60");
    fs::path file = write("long.pipe", text);
    CommandResult whole =
        runPipeCommand("run " + file.string() + " --runs " + (root_ / "whole").string() + " --threads 1");
    ASSERT_EQ(whole.status, 0) << whole.output;
    std::string expected = sha256File(onlyRun(root_ / "whole") / "fit" / "weights.safetensors");

    std::mt19937 rng(std::random_device{}());
    for (int signal : {SIGKILL, SIGINT}) {
        fs::path runs = root_ / (signal == SIGKILL ? "killed" : "interrupted");
        pid_t pid = spawnPipe({"run", file.string(), "--runs", runs.string(), "--threads", "1"});
        int64_t epochs = std::uniform_int_distribution<int64_t>(2, 30)(rng);
        fs::path run = waitForEpochs(runs, epochs);
        ASSERT_FALSE(run.empty()) << "the run did not get to epoch " << epochs;
        std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 20000)(rng)));
        kill(pid, signal);
        int status = 0;
        waitpid(pid, &status, 0);
        if (signal == SIGKILL) {
            ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before it was killed; make it longer";
        } else {
            ASSERT_TRUE(WIFEXITED(status)) << "Ctrl-C must end the run cleanly";
            EXPECT_EQ(WEXITSTATUS(status), 130);
            fs::path checkpoint = run / "fit" / "checkpoint.pt", previous = run / "fit" / "checkpoint.prev.pt";
            ASSERT_TRUE(fs::exists(checkpoint));
            ASSERT_TRUE(fs::exists(previous)) << "two epochs or more keep the checkpoint before the last";
            // A checkpoint cut short, with no previous one to go back to, is named and refused.
            fs::copy_file(previous, root_ / "previous.bak");
            fs::remove(previous);
            fs::resize_file(checkpoint, fs::file_size(checkpoint) / 2);
            CommandResult refused = runPipeCommand("run --resume " + run.string());
            EXPECT_EQ(refused.status, 1) << refused.output;
            EXPECT_NE(refused.output.find("checkpoint.pt` is corrupt"), std::string::npos) << refused.output;
            // With the previous one beside it, the run goes on from there (below), to the same weights.
            fs::copy_file(root_ / "previous.bak", previous);
        }
        CommandResult resumed = runPipeCommand("run --resume " + run.string());
        ASSERT_EQ(resumed.status, 0) << resumed.output;
        if (signal == SIGINT) {
            EXPECT_NE(resumed.output.find("resuming from the checkpoint before it"), std::string::npos)
                << resumed.output;
        }
        EXPECT_EQ(sha256File(run / "fit" / "weights.safetensors"), expected)
            << "resumed after " << epochs << " epochs (signal " << signal << ")\n"
            << resumed.output;
        EXPECT_EQ(rowsOf(run / "fit" / "metrics.csv"), 60);
        EXPECT_FALSE(fs::exists(run / "fit" / "checkpoint.pt"));
        EXPECT_FALSE(fs::exists(run / "fit" / "checkpoint.prev.pt"));
    }
}

TEST_F(Run, MissingDataFailsWithOneClearSentence) {
    std::string text = kStripes;
    text.replace(text.find("\"images\""), 8, "\"no-such-folder\"");
    fs::path file = write("missing.pipe", text);
    CommandResult r = runPipeCommand("run " + file.string() + " --runs " + (root_ / "runs").string());
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("no-such-folder"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("Exception raised from"), std::string::npos) << r.output;
}

TEST_F(Run, ARunsFolderThatCannotBeWrittenFailsBeforeTraining) {
    fs::path file = write("stripes.pipe", kStripes);
    fs::path blocked = write("not-a-folder", "a file where the runs folder should be");
    CommandResult r = runPipeCommand("run " + file.string() + " --runs " + (blocked / "runs").string());
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("cannot create the runs folder"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("epoch"), std::string::npos) << r.output;
}

TEST_F(Run, AFullDiskFailsBeforeTrainingAndLeavesNoRun) {
    // A file-size limit makes every large write fail as a full disk does
    // (EFBIG instead of ENOSPC), without root or a small filesystem;
    // SIGXFSZ is ignored so that the write reports the error.
    fs::path file = write("stripes.pipe", kStripes);
    fs::path runs = root_ / "runs";
    CommandResult r = runShell("bash -c \"trap '' XFSZ; ulimit -f 256; exec " + std::string(PIPE_BINARY) + " run " +
                               file.string() + " --runs " + runs.string() + "\"");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("no room to write"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--runs"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("epoch"), std::string::npos) << r.output;
    EXPECT_TRUE(!fs::exists(runs) || fs::is_empty(runs)) << "a run directory was left behind";
}

TEST_F(Run, PretrainedWeightsFineTunedAndWeightsThatDoNotFit) {
    // A pipe export is a torchvision-layout file, so it serves as `weights =`.
    std::string pre = kStripes;
    pre.replace(pre.find("cnn(channels = [8, 16])"), 23, "resnet(depth = 18, stem = \"small\")");
    pre.replace(pre.find("epochs = 4"), 10, "epochs = 1");
    CommandResult a = runPipeCommand("run " + write("pre.pipe", pre).string() + " --runs " + (root_ / "pre").string() +
                                     " --threads 2");
    ASSERT_EQ(a.status, 0) << a.output;
    fs::path weights = onlyRun(root_ / "pre") / "stripes.safetensors";
    ASSERT_TRUE(fs::exists(weights));

    std::string tuned = kStripes;
    tuned.replace(tuned.find("cnn(channels = [8, 16])"), 23,
                  "resnet(depth = 18, stem = \"small\", weights = \"" + weights.string() + "\")");
    tuned.replace(tuned.find("one_cycle(epochs = 4)"), 21, "fine_tune(epochs = 2, freeze_epochs = 1)");
    CommandResult b = runPipeCommand("run " + write("tuned.pipe", tuned).string() + " --runs " +
                                     (root_ / "tuned").string() + " --threads 2");
    ASSERT_EQ(b.status, 0) << b.output;
    auto accuracy = metricColumn(onlyRun(root_ / "tuned") / "fit" / "metrics.csv", "accuracy");
    ASSERT_EQ(accuracy.size(), 3u) << "one frozen epoch, then two unfrozen:\n" << b.output;
    EXPECT_GE(*std::max_element(accuracy.begin(), accuracy.end()), 0.9) << b.output;

    // The same file for a resnet34: one error that lists what does not fit.
    std::string wrong = tuned;
    wrong.replace(wrong.find("depth = 18"), 10, "depth = 34");
    CommandResult c =
        runPipeCommand("run " + write("wrong.pipe", wrong).string() + " --runs " + (root_ / "wrong").string());
    EXPECT_EQ(c.status, 1) << c.output;
    EXPECT_NE(c.output.find("layer1.2.conv1.weight"), std::string::npos) << c.output;
    EXPECT_EQ(c.output.find("terminate called"), std::string::npos) << c.output;
}

TEST_F(Run, ALossThatBecomesNanStopsAndKeepsTheLastGoodWeights) {
    std::string text = kStripes;
    text.replace(text.find("adamw(lr = 1e-2)"), 16, "sgd(lr = 1e38)");
    CommandResult r = runPipeCommand("run " + write("nan.pipe", text).string() + " --runs " +
                                     (root_ / "runs").string() + " --threads 1");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("the training loss became"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("at step "), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
    fs::path kept = onlyRun(root_ / "runs") / "fit" / "weights.safetensors";
    ASSERT_TRUE(fs::exists(kept)) << r.output;
    for (const auto& [name, tensor] : readSafetensors(kept).tensors)
        EXPECT_TRUE(torch::isfinite(tensor).all().item<bool>()) << name << " is not finite in the kept weights";
}

TEST_F(Run, AFileThatDoesNotCheckExitsTwoBeforeAnythingRuns) {
    fs::path file = write("bad.pipe", "train fit { optimizer = adamx() }\n");
    CommandResult r = runPipeCommand("run " + file.string() + " --runs " + (root_ / "runs").string());
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find("did you mean `adamw`?"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(root_ / "runs"));
}

}  // namespace
}  // namespace pipelang::runtime
