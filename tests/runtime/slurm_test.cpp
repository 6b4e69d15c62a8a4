// `pipe run --slurm` on a real Slurm: munged, slurmctld and slurmd from
// Debian, started on 127.0.0.1 for each test by tests/slurm/local-slurm, on
// ports of the test's own (tests run at once). The jobs are the ones a user
// submits: data-parallel tasks that srun starts, a job that Slurm's warning
// signal stops and that requeues itself, and the errors before submitting.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <thread>

#include "record/sha256.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"
#include "tests/runtime/test_files.h"

namespace pipelang::runtime {
namespace slurm_test {

namespace fs = std::filesystem;

// Whether TCP `port` on 127.0.0.1 is free now.
bool portFree(int port) {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(uint16_t(port));
    bool free = ::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(s);
    return free;
}

// Two free ports in a row (slurmctld's, then slurmd's), from a place that
// depends on the process, so tests started at once rarely try the same.
int freePortPair() {
    for (int port = 20000 + (::getpid() % 2000) * 10; port < 60000; port += 7)
        if (portFree(port) && portFree(port + 1)) return port;
    return 0;
}

const char* kRows = R"(seed 7
data rows {
    source     = csv("rows.csv")
    blocks     = (tabular(cont = ["a", "b", "c"]), category)
    y          = column("label")
    split      = random(valid = 0.2, seed = 1)
    batch_size = BATCH
    workers    = 1
}
model net { backbone = mlp(hidden = [16, 8]) head = classifier(dropout = DROPOUT) }
train fit {
    optimizer = adam(lr = 1e-2)
    schedule  = one_cycle(epochs = EPOCHS)
    metrics   = [accuracy]
    callbacks = [checkpoint(every = 1)]
}
)";

std::string trimmed(const std::string& text) {
    size_t first = text.find_first_not_of(" \n"), last = text.find_last_not_of(" \n");
    return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

class Slurm : public ::testing::Test {
protected:
    TempDir root_{"pipe-slurm-test"};
    fs::path cluster_ = root_ / "cluster";

    void SetUp() override {
        int port = freePortPair();
        ASSERT_NE(port, 0);
        std::string script = std::string(PIPE_SOURCE_DIR) + "/tests/slurm/local-slurm";
        CommandResult started =
            runShell("PIPE_SLURM_PORT=" + std::to_string(port) + " " + script + " start " + cluster_.string());
        ASSERT_EQ(started.status, 0) << "a local Slurm is needed (apt-get install slurm-wlm munge):\n"
                                     << started.output;
        setenv("SLURM_CONF", (cluster_ / "slurm.conf").c_str(), 1);
        std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
        if (path.find("/usr/sbin") == std::string::npos) setenv("PATH", (path + ":/usr/sbin").c_str(), 1);
    }
    void TearDown() override {
        runShell(std::string(PIPE_SOURCE_DIR) + "/tests/slurm/local-slurm stop " + cluster_.string());
    }

    // Dropout draws its masks per rank, so the data-parallel test runs without it.
    fs::path writeFile(const std::string& name, int rows, int batch, int epochs, double dropout = 0) {
        writeRows(root_ / "rows.csv", rows);
        std::string text = kRows;
        text.replace(text.find("BATCH"), 5, std::to_string(batch));
        text.replace(text.find("EPOCHS"), 6, std::to_string(epochs));
        text.replace(text.find("DROPOUT"), 7, std::to_string(dropout));
        std::ofstream(root_ / name) << text;
        return root_ / name;
    }

    // The job id `pipe run --slurm` printed.
    static std::string jobIdIn(const std::string& output) {
        std::smatch m;
        return std::regex_search(output, m, std::regex("submitted Slurm job ([0-9]+)")) ? m[1].str() : "";
    }

    // What `scontrol show job` says of `field`, or "" once Slurm forgot the job.
    static std::string jobField(const std::string& id, const std::string& field) {
        CommandResult r = runShell("scontrol show job " + id);
        std::smatch m;
        return std::regex_search(r.output, m, std::regex(field + "=([^ \n]+)")) ? m[1].str() : "";
    }

    // Waits until the job is in one of `states`; returns the state it ended in.
    static std::string waitForState(const std::string& id, const std::vector<std::string>& states, int seconds = 240) {
        std::string state;
        for (int i = 0; i < seconds * 5; ++i) {
            state = jobField(id, "JobState");
            for (const auto& s : states)
                if (state == s) return state;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        return "still " + state;
    }

    // The job's log, and what Slurm says of it, for a failure's message.
    std::string log(const fs::path& run, const std::string& id) {
        return readFile(run / ("slurm-" + id + ".out")) + "\n--- scontrol show job\n" +
               runShell("scontrol show job " + id).output + "--- slurmctld.log (end)\n" +
               runShell("tail -n 15 " + (cluster_ / "slurmctld.log").string()).output + "--- slurmd.log (end)\n" +
               runShell("tail -n 15 " + (cluster_ / "slurmd.log").string()).output;
    }
};

TEST_F(Slurm, TwoTasksOfSrunTrainAsOneProcess) {
    fs::path file = writeFile("rows.pipe", 40, 32, 4);
    CommandResult one = runPipeCommand("run " + file.string() + " --runs " + (root_ / "one").string() + " --threads 1");
    ASSERT_EQ(one.status, 0) << one.output;
    CommandResult submitted = runPipeCommand("run " + file.string() + " --slurm --tasks-per-node 2 --runs " +
                                             (root_ / "slurm").string() + " --threads 1");
    ASSERT_EQ(submitted.status, 0) << submitted.output;
    std::string id = jobIdIn(submitted.output);
    ASSERT_FALSE(id.empty()) << submitted.output;
    fs::path run = onlyRun(root_ / "slurm");
    EXPECT_EQ(waitForState(id, {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"}), "COMPLETED") << log(run, id);
    std::string said = log(run, id);
    EXPECT_NE(said.find("2 processes"), std::string::npos) << said;
    for (int step = 0; step < 4; ++step)
        EXPECT_LE(largestDifference(onlyRun(root_ / "one"), run, step), 1e-5) << "after step " << step + 1;
    // The script is kept, readable, beside the run.
    std::string script = readFile(run / "slurm.sbatch");
    EXPECT_NE(script.find("#SBATCH --ntasks-per-node=2"), std::string::npos) << script;
    EXPECT_NE(script.find("srun "), std::string::npos) << script;

    CommandResult status = runPipeCommand("status " + run.string());
    EXPECT_EQ(status.status, 0) << status.output;
    EXPECT_NE(status.output.find("Slurm job " + id + ": COMPLETED"), std::string::npos) << status.output;
    EXPECT_NE(status.output.find("finished"), std::string::npos) << status.output;
    EXPECT_NE(status.output.find("stage fit: 4 epochs done, train_loss"), std::string::npos) << status.output;
}

// Slurm's warning before the time limit (here sent at once with scancel)
// stops the run at a step in the middle of an epoch with a checkpoint; the
// job requeues itself and the requeued job ends on the weights of a run
// never interrupted, bit for bit.
TEST_F(Slurm, AJobSignalledMidEpochRequeuesAndEndsBitIdentical) {
    fs::path file = writeFile("long.pipe", 400, 8, 40, 0.2);  // 40 steps an epoch
    CommandResult whole =
        runPipeCommand("run " + file.string() + " --runs " + (root_ / "whole").string() + " --threads 1");
    ASSERT_EQ(whole.status, 0) << whole.output;
    std::string expected = record::sha256File(onlyRun(root_ / "whole") / "fit" / "weights.safetensors");

    CommandResult submitted =
        runPipeCommand("run " + file.string() + " --slurm --runs " + (root_ / "slurm").string() + " --threads 1");
    ASSERT_EQ(submitted.status, 0) << submitted.output;
    std::string id = jobIdIn(submitted.output);
    fs::path run = onlyRun(root_ / "slurm");
    // Into the third epoch, then the signal.
    auto rows = [&] {
        std::ifstream in(run / "fit" / "metrics.csv");
        int n = -1;
        for (std::string line; std::getline(in, line);) ++n;
        return n;
    };
    for (int i = 0; i < 3000 && rows() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_GE(rows(), 2) << log(run, id);
    ASSERT_LT(rows(), 40) << "the run ended before the signal; make it longer";
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    CommandResult signalled = runShell("scancel --signal=USR1 " + id);
    ASSERT_EQ(signalled.status, 0) << signalled.output;

    // Requeued, it waits for Slurm's begin time (two minutes); the test lets it start now.
    std::string state = waitForState(id, {"PENDING", "COMPLETED", "FAILED"}, 120);
    ASSERT_EQ(state, "PENDING") << log(run, id);
    EXPECT_EQ(jobField(id, "Restarts"), "1");
    EXPECT_NE(log(run, id).find("requeueing job " + id), std::string::npos) << log(run, id);
    EXPECT_TRUE(fs::exists(run / "fit" / "checkpoint.pt"));
    // Slurm's wait (two minutes) is there for the node to finish with the
    // job's first start, whose credential slurmd revokes to the second: a
    // start within that second is refused. The test waits for the node to
    // be idle again and two seconds more, then no longer.
    for (int i = 0; i < 600 && trimmed(runShell("sinfo --noheader --format %T").output) != "idle"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    runShell("scontrol update JobId=" + id + " StartTime=now");
    EXPECT_EQ(waitForState(id, {"COMPLETED", "FAILED", "CANCELLED"}), "COMPLETED") << log(run, id);
    std::string said = log(run, id);
    EXPECT_NE(said.find("SIGUSR1"), std::string::npos) << said;
    EXPECT_NE(said.find("resume " + run.string()), std::string::npos) << said;
    EXPECT_EQ(record::sha256File(run / "fit" / "weights.safetensors"), expected) << said;
    EXPECT_EQ(rows(), 40);
}

// sweep.csv without the columns of time, which no two runs share.
std::vector<std::vector<std::string>> tableWithoutTimes(const fs::path& csv) {
    std::vector<std::vector<std::string>> rows;
    std::vector<bool> kept;
    std::ifstream in(csv);
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> cells, row;
        std::stringstream split(line);
        for (std::string cell; std::getline(split, cell, ',');) cells.push_back(cell);
        if (kept.empty())
            for (const auto& c : cells) kept.push_back(c != "seconds" && c != "time");
        for (size_t i = 0; i < cells.size() && i < kept.size(); ++i)
            if (kept[i]) row.push_back(cells[i]);
        rows.push_back(row);
    }
    return rows;
}

TEST_F(Slurm, ASweepAsAJobArrayRanksItsPointsAsTheJobsSweep) {
    fs::path file = writeFile("sweep.pipe", 40, 8, 3);
    std::ofstream(file, std::ios::app) << "sweep {\n    fit.optimizer.lr = [1e-3, 1e-2, 3e-2]\n}\n";
    CommandResult local =
        runPipeCommand("run " + file.string() + " --jobs 2 --threads 1 --runs " + (root_ / "local").string());
    ASSERT_EQ(local.status, 0) << local.output;
    CommandResult submitted = runPipeCommand("run " + file.string() + " --slurm --max-parallel 2 --threads 1 --runs " +
                                             (root_ / "slurm").string());
    ASSERT_EQ(submitted.status, 0) << submitted.output;
    EXPECT_NE(submitted.output.find("an array of 3 points"), std::string::npos) << submitted.output;
    fs::path sweep = onlyRun(root_ / "slurm");
    EXPECT_NE(readFile(sweep / "slurm.sbatch").find("#SBATCH --array=0-2%2\n"), std::string::npos);
    for (int i = 0; i < 2400 && !runShell("squeue --noheader").output.empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(runShell("squeue --noheader").output.empty()) << "the array did not end";
    auto expected = tableWithoutTimes(onlyRun(root_ / "local") / "sweep.csv");
    ASSERT_EQ(expected.size(), 4u);
    EXPECT_EQ(tableWithoutTimes(sweep / "sweep.csv"), expected) << readFile(sweep / "sweep.csv");
    for (int k = 0; k < 3; ++k)
        EXPECT_TRUE(fs::exists(sweep / ("p" + std::to_string(k + 1)) / "fit" / "weights.safetensors")) << k;
}

TEST_F(Slurm, NothingIsSubmittedOrLeftWhenSomethingIsWrong) {
    fs::path file = writeFile("rows.pipe", 40, 32, 2);
    fs::path runs = root_ / "runs";
    auto queueIsEmpty = [] { return runShell("squeue --noheader").output.empty(); };

    // A partition Slurm does not have: Slurm's own words, and no run directory.
    CommandResult partition =
        runPipeCommand("run " + file.string() + " --slurm --partition nosuch --runs " + runs.string());
    EXPECT_EQ(partition.status, 1) << partition.output;
    EXPECT_NE(partition.output.find("Slurm refused the job"), std::string::npos) << partition.output;
    EXPECT_NE(partition.output.find("nosuch"), std::string::npos) << partition.output;
    EXPECT_TRUE(!fs::exists(runs) || fs::is_empty(runs));

    // More time than the partition allows.
    CommandResult time =
        runPipeCommand("run " + file.string() + " --slurm --partition short --time 2:00:00 --runs " + runs.string());
    EXPECT_EQ(time.status, 1) << time.output;
    EXPECT_NE(time.output.find("Slurm refused the job"), std::string::npos) << time.output;
    EXPECT_TRUE(!fs::exists(runs) || fs::is_empty(runs));

    // No sbatch on the PATH.
    CommandResult none = runShell("PATH=/nonexistent " + std::string(PIPE_BINARY) + " run " + file.string() +
                                  " --slurm --runs " + runs.string());
    EXPECT_EQ(none.status, 1) << none.output;
    EXPECT_NE(none.output.find("there is no `sbatch` on the PATH"), std::string::npos) << none.output;

    // A file that does not check is never submitted.
    std::ofstream(root_ / "bad.pipe") << readFile(file) << "\ntrain other { epochs = 3 }\n";
    CommandResult bad = runPipeCommand("run " + (root_ / "bad.pipe").string() + " --slurm --runs " + runs.string());
    EXPECT_EQ(bad.status, 2) << bad.output;
    EXPECT_TRUE(!fs::exists(runs) || fs::is_empty(runs));
    EXPECT_TRUE(queueIsEmpty());
}

}  // namespace slurm_test
}  // namespace pipelang::runtime
