// Data-parallel training: the shards of a batch, and the promise DDP makes —
// N processes with batch B/N each train exactly as one process with batch B.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/data/loader.h"
#include "runtime/safetensors.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"
#include "tests/runtime/test_files.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;

// The positions a loader hands out, batch by batch, for one epoch.
std::vector<std::vector<int64_t>> positionsOfEpoch(LoaderOptions options, int64_t epoch) {
    ThreadedLoader loader(options, [](const std::vector<int64_t>& positions, int64_t) {
        Batch b;
        b.x = torch::tensor(positions, torch::kInt64);
        b.y = b.x;
        return b;
    });
    loader.start(epoch);
    std::vector<std::vector<int64_t>> out;
    while (auto batch = loader.next()) {
        auto x = batch->x;
        out.emplace_back(x.data_ptr<int64_t>(), x.data_ptr<int64_t>() + x.numel());
    }
    return out;
}

TEST(Shard, TwoRanksTogetherLoadEveryBatchOfOneProcess) {
    for (bool training : {true, false}) {
        LoaderOptions whole = splitLoaderOptions(37, 8, 2, training, 42);
        whole.shard = Shard{};
        auto expected = positionsOfEpoch(whole, 3);
        LoaderOptions first = whole, second = whole;
        first.shard = Shard{0, 2};
        second.shard = Shard{1, 2};
        auto a = positionsOfEpoch(first, 3), b = positionsOfEpoch(second, 3);
        ASSERT_EQ(a.size(), expected.size()) << "training " << training;
        // The last, partial validation batch of 5 items is cut 2 + 3.
        ASSERT_EQ(b.size(), expected.size());
        for (size_t i = 0; i < expected.size(); ++i) {
            std::vector<int64_t> joined = a[i];
            joined.insert(joined.end(), b[i].begin(), b[i].end());
            EXPECT_EQ(joined, expected[i]) << "batch " << i << ", training " << training;
            EXPECT_LE(std::abs(int64_t(a[i].size()) - int64_t(b[i].size())), 1);
        }
    }
}

TEST(Shard, AShardLeftEmptyIsSkipped) {
    // 9 validation items in batches of 8: the last batch has one item, which
    // rank 1 loads; rank 0 has nothing there and stops after one batch.
    LoaderOptions options = splitLoaderOptions(9, 8, 0, false, 1);
    options.shard = Shard{0, 2};
    auto a = positionsOfEpoch(options, 0);
    options.shard = Shard{1, 2};
    auto b = positionsOfEpoch(options, 0);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(a[0], (std::vector<int64_t>{0, 1, 2, 3}));
    EXPECT_EQ(b[1], (std::vector<int64_t>{8}));
}

// 40 rows: 32 to train on, one batch of 32, so that every epoch is one step
// and the weights saved after every epoch are the weights after every step.
const char* kRows = R"(seed 7
data rows {
    source     = csv("rows.csv")
    blocks     = (tabular(cont = ["a", "b", "c"]), category)
    y          = column("label")
    split      = random(valid = 0.2, seed = 1)
    batch_size = 32
    workers    = 1
}
model net { backbone = mlp(hidden = [16, 8])  head = classifier() }
train fit {
    optimizer = adam(lr = 1e-2)
    schedule  = constant(epochs = 4)
    metrics   = [accuracy]
    callbacks = [checkpoint(every = 1)]
}
)";

// Images with a bright left or right half, in IDX files (as Fashion-MNIST's).
void writeIdx(const fs::path& folder, const std::string& prefix, int count, int side) {
    auto bigEndian = [](std::ofstream& out, uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8) out.put(char((v >> shift) & 0xff));
    };
    std::mt19937 rng(11);
    std::ofstream images(folder / (prefix + "-images-idx3-ubyte"), std::ios::binary);
    std::ofstream labels(folder / (prefix + "-labels-idx1-ubyte"), std::ios::binary);
    bigEndian(images, 0x803), bigEndian(images, uint32_t(count)), bigEndian(images, uint32_t(side)),
        bigEndian(images, uint32_t(side));
    bigEndian(labels, 0x801), bigEndian(labels, uint32_t(count));
    for (int i = 0; i < count; ++i) {
        int label = int(rng() % 2);
        labels.put(char(label));
        for (int y = 0; y < side; ++y)
            for (int x = 0; x < side; ++x) images.put(char(((x < side / 2) == (label == 0) ? 128 : 0) + rng() % 100));
    }
}

TEST(DataParallel, TwoProcessesWithHalfBatchesTrainAsOneProcess) {
    TempDir dir("pipe-dist-test");
    writeRows(dir / "rows.csv", 40);
    std::ofstream(dir / "rows.pipe") << kRows;
    std::string file = (dir / "rows.pipe").string();
    CommandResult one = runPipeCommand("run " + file + " --runs " + (dir / "one").string() + " --threads 1");
    ASSERT_EQ(one.status, 0) << one.output;
    CommandResult two = runPipeCommand("run " + file + " --nproc 2 --runs " + (dir / "two").string() + " --threads 1");
    ASSERT_EQ(two.status, 0) << two.output;
    fs::path runOne = onlyRun(dir / "one"), runTwo = onlyRun(dir / "two");
    for (int step = 0; step < 4; ++step)
        EXPECT_LE(largestDifference(runOne, runTwo, step), 1e-5) << "after step " << step + 1;
    // Rank 0 alone printed and wrote: one table, one run directory, and its
    // validation loss is that of the whole split.
    std::ifstream csvOne(runOne / "fit" / "metrics.csv"), csvTwo(runTwo / "fit" / "metrics.csv");
    std::string header, lineOne, lineTwo;
    std::getline(csvOne, header);
    std::getline(csvTwo, header);
    while (std::getline(csvOne, lineOne) && std::getline(csvTwo, lineTwo)) {
        double lossOne = std::stod(lineOne.substr(lineOne.find(',') + 1));
        double lossTwo = std::stod(lineTwo.substr(lineTwo.find(',') + 1));
        EXPECT_NEAR(lossOne, lossTwo, 1e-5) << "train_loss";
        auto valid = [](const std::string& line) {
            auto first = line.find(',');
            return std::stod(line.substr(line.find(',', first + 1) + 1));
        };
        EXPECT_NEAR(valid(lineOne), valid(lineTwo), 1e-5) << "valid_loss";
    }
    EXPECT_NE(two.output.find("2 processes"), std::string::npos) << two.output;
    size_t tables = 0;
    for (size_t at = two.output.find("train_loss"); at != std::string::npos; at = two.output.find("train_loss", at + 1))
        ++tables;
    EXPECT_EQ(tables, 1u) << two.output;
}

// A CNN with batch norm, 40 images: one step of 32 per epoch.
const char* kPictures = R"(seed 3
data pics {
    source     = idx("pics", train = "train", test = "test")
    blocks     = (image(channels = 1), category)
    split      = random(valid = 0.2, seed = 1)
    batch_size = 32
    workers    = 1
}
model net { backbone = cnn(channels = [4, 8], batch_norm = true)  head = classifier() }
train fit {
    optimizer = sgd(lr = 0.05)
    schedule  = constant(epochs = 3)
    metrics   = [accuracy]
    callbacks = [checkpoint(every = 1)]
    sync_bn   = SYNC
}
)";

TEST(DataParallel, SyncBatchNormTrainsAsOneProcessAndPerRankNormDoesNot) {
    TempDir dir("pipe-dist-test");
    fs::create_directories(dir / "pics");
    writeIdx(dir / "pics", "train", 40, 8);
    writeIdx(dir / "pics", "test", 4, 8);
    auto pipeline = [&](bool sync) {
        std::string text = kPictures;
        text.replace(text.find("SYNC"), 4, sync ? "true" : "false");
        fs::path file = dir / (sync ? "sync.pipe" : "local.pipe");
        std::ofstream(file) << text;
        return file.string();
    };
    auto run = [&](const std::string& file, const std::string& runs, const std::string& extra) {
        CommandResult r = runPipeCommand("run " + file + " --runs " + (dir / runs).string() + " --threads 1" + extra);
        EXPECT_EQ(r.status, 0) << r.output;
        return onlyRun(dir / runs);
    };
    fs::path one = run(pipeline(true), "one", "");
    fs::path synced = run(pipeline(true), "synced", " --nproc 2");
    fs::path local = run(pipeline(false), "local", " --nproc 2");
    for (int step = 0; step < 3; ++step) {
        EXPECT_LE(largestDifference(one, synced, step), 1e-5) << "sync_bn, after step " << step + 1;
        // Each rank's statistics of its 16 images are not those of all 32.
        EXPECT_GT(largestDifference(one, local, step), 1e-4) << "per-rank batch norm, after step " << step + 1;
    }
}

TEST(DataParallel, AWorkerThatDiesEndsTheRunWithItsRank) {
    TempDir dir("pipe-dist-test");
    writeRows(dir / "rows.csv", 40);
    // A batch that does not divide among three processes fails on every
    // rank; the launcher names the first rank that ended and its status.
    std::ofstream(dir / "rows.pipe") << kRows;
    CommandResult r = runPipeCommand("run " + (dir / "rows.pipe").string() + " --nproc 3 --runs " +
                                     (dir / "runs").string() + " --threads 1");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("does not divide among 3 processes"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("pipe run: the run failed because rank"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("exited with status 1"), std::string::npos) << r.output;
}

TEST(DataParallel, AWorkerKilledBySignalIsNamedAndTheOthersStop) {
    TempDir dir("pipe-dist-test");
    writeRows(dir / "rows.csv", 40);
    std::string text = kRows;
    text.replace(text.find("epochs = 4"), 10, "epochs = 100000");
    std::ofstream(dir / "rows.pipe") << text;
    fs::path log = dir / "output.txt";
    pid_t launcher = fork();
    ASSERT_GE(launcher, 0);
    if (launcher == 0) {
        int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(out, 1), ::dup2(out, 2);
        std::string file = (dir / "rows.pipe").string(), runs = (dir / "runs").string();
        ::execl(PIPE_BINARY, PIPE_BINARY, "run", file.c_str(), "--nproc", "2", "--runs", runs.c_str(), "--threads", "1",
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Should an assertion fail, the run is ended, not left behind: the
    // launcher passes each signal on, and a second one ends the workers.
    struct EndRun {
        pid_t pid;
        bool reaped = false;
        ~EndRun() {
            if (reaped) return;
            ::kill(pid, SIGTERM);
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            ::kill(pid, SIGTERM);
            ::waitpid(pid, nullptr, 0);
        }
    } endRun{launcher};
    // The workers, once both run (pipe execs pipe-runtime, which forks them).
    std::vector<pid_t> workers;
    for (int tries = 0; tries < 600 && workers.size() < 2; ++tries) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::ifstream children("/proc/" + std::to_string(launcher) + "/task/" + std::to_string(launcher) + "/children");
        workers.clear();
        for (pid_t pid; children >> pid;) workers.push_back(pid);
    }
    ASSERT_EQ(workers.size(), 2u);
    // Into training: an epoch is done.
    auto trained = [&] {
        if (!fs::exists(dir / "runs")) return false;
        for (const auto& run : fs::directory_iterator(dir / "runs"))
            if (fs::exists(run.path() / "fit" / "checkpoints" / "epoch-0.safetensors")) return true;
        return false;
    };
    for (int tries = 0; tries < 1200 && !trained(); ++tries) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(trained());
    ::kill(workers[1], SIGKILL);
    int status = 0;
    ::waitpid(launcher, &status, 0);
    endRun.reaped = true;
    std::stringstream output;
    output << std::ifstream(log).rdbuf();
    ASSERT_TRUE(WIFEXITED(status)) << output.str();
    EXPECT_EQ(WEXITSTATUS(status), 1) << output.str();
    EXPECT_NE(output.str().find("(pid " + std::to_string(workers[1]) + ") was killed by signal 9"), std::string::npos)
        << output.str();
    EXPECT_NE(output.str().find("continue it with `pipe run --resume "), std::string::npos) << output.str();
    // The other worker was stopped: it is gone, not left waiting for the dead one.
    EXPECT_NE(::kill(workers[0], 0), 0);
}

}  // namespace
}  // namespace pipelang::runtime
