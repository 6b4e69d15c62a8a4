// pipe.toml: where it is found, what it may hold, and errors that name its line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "record/project.h"

namespace pipelang::record {
namespace {

namespace fs = std::filesystem;

class ProjectTest : public ::testing::Test {
protected:
    fs::path root = fs::temp_directory_path() / ("pipe-project-test-" + std::to_string(::getpid()));
    void SetUp() override {
        fs::remove_all(root);
        fs::create_directories(root / "repo" / "experiments" / "deep");
        fs::create_directories(root / "repo" / ".git");
    }
    void TearDown() override { fs::remove_all(root); }
    fs::path write(const fs::path& path, const std::string& text) {
        std::ofstream(path) << text;
        return path;
    }
    std::string errorOf(const std::string& text) {
        try {
            readProject(write(root / "repo" / "pipe.toml", text));
        } catch (const RecordError& e) {
            return e.what();
        }
        return "";
    }
};

TEST_F(ProjectTest, FoundWalkingUpButNotPastAGitRoot) {
    fs::path file = root / "repo" / "experiments" / "deep" / "a.pipe";
    EXPECT_TRUE(findProjectFile(file).empty());
    write(root / "pipe.toml", "threads = 1\n");  // above the git root: not this project's
    EXPECT_TRUE(findProjectFile(file).empty());
    write(root / "repo" / "pipe.toml", "threads = 2\n");
    EXPECT_EQ(findProjectFile(file), root / "repo" / "pipe.toml");
    write(root / "repo" / "experiments" / "pipe.toml", "threads = 3\n");  // the nearest wins
    EXPECT_EQ(projectFor(file).threads, 3);
}

TEST_F(ProjectTest, ReadsEveryKeyPathsRelativeToItsFolder) {
    Project p = readProject(write(root / "repo" / "pipe.toml", R"(# project defaults
runs       = "out/runs"
device     = "cpu"
threads    = 4
data_roots = ["data", "/srv/datasets"]
)"));
    EXPECT_EQ(p.runs, root / "repo" / "out" / "runs");
    EXPECT_EQ(p.device, "cpu");
    EXPECT_EQ(p.threads, 4);
    EXPECT_EQ(p.dataRoots, (std::vector<fs::path>{root / "repo" / "data", "/srv/datasets"}));
}

TEST_F(ProjectTest, ErrorsNameTheFileAndLine) {
    std::string file = (root / "repo" / "pipe.toml").string();
    EXPECT_EQ(errorOf("threads = 2\nthread = 2\n"),
              file +
                  ":2: unknown key `thread`; pipe.toml takes `runs`, `device`, `threads`, `data_roots` and a [slurm] "
                  "table");
    EXPECT_EQ(errorOf("\n\nthreads = \"4\"\n"), file + ":3: `threads` takes a whole number, not a string");
    EXPECT_EQ(errorOf("threads = 0\n"), file + ":1: `threads` is 0; give at least 1");
    EXPECT_EQ(errorOf("device = \"gpu\"\n"), file + ":1: `device` is \"gpu\"; use \"cpu\", \"cuda\" or \"auto\"");
    EXPECT_EQ(errorOf("data_roots = \"data\"\n"),
              file + ":1: `data_roots` takes a list of folders, e.g. [\"data\"], not a string");
    EXPECT_EQ(errorOf("data_roots = [\"a\", 3]\n"), file + ":1: `data_roots` takes a string in quotes, not an integer");
    EXPECT_EQ(errorOf("runs = \n").rfind(file + ": not valid TOML:", 0), 0u);
}

TEST_F(ProjectTest, ASlurmTableGivesTheDefaultsOfSlurmRuns) {
    Project p = readProject(write(root / "repo" / "pipe.toml", R"(threads = 2
[slurm]
partition = "gpu"
time = "4:00:00"
account = "lab"
tasks_per_node = 4
gpus_per_node = 4
cpus_per_task = 6
max_parallel = 8
signal_seconds = 300
)"));
    EXPECT_EQ(p.threads, 2);
    EXPECT_EQ(p.slurm.partition, "gpu");
    EXPECT_EQ(p.slurm.time, "4:00:00");
    EXPECT_EQ(p.slurm.account, "lab");
    EXPECT_FALSE(p.slurm.nodes);
    EXPECT_EQ(p.slurm.tasksPerNode, 4);
    EXPECT_EQ(p.slurm.gpusPerNode, 4);
    EXPECT_EQ(p.slurm.cpusPerTask, 6);
    EXPECT_EQ(p.slurm.maxParallel, 8);
    EXPECT_EQ(p.slurm.signalSeconds, 300);

    std::string file = (root / "repo" / "pipe.toml").string();
    EXPECT_EQ(errorOf("[slurm]\npartiton = \"gpu\"\n"),
              file +
                  ":2: unknown key `slurm.partiton`; [slurm] takes `partition`, `time`, `account`, `nodes`, "
                  "`tasks_per_node`, `gpus_per_node`, `cpus_per_task`, `max_parallel` and `signal_seconds`");
    EXPECT_EQ(errorOf("[slurm]\nnodes = 0\n"), file + ":2: `slurm.nodes` takes a whole number of at least 1, not 0");
    EXPECT_EQ(errorOf("[slurm]\ntime = 60\n"), file + ":2: `slurm.time` takes a string in quotes, not an integer");
    EXPECT_EQ(errorOf("slurm = 3\n"), file + ":1: `slurm` is a table: write it as [slurm] with its keys below");
}

TEST_F(ProjectTest, DataRootsServeOnlyWhatIsNotBesideTheFile) {
    fs::path base = root / "repo" / "experiments";
    fs::create_directories(root / "a");
    fs::create_directories(root / "b");
    write(root / "b" / "cars.csv", "x\n");
    write(root / "a" / "both.csv", "x\n");
    write(root / "b" / "both.csv", "x\n");
    write(base / "here.csv", "x\n");
    std::vector<fs::path> roots = {root / "a", root / "b"};
    EXPECT_EQ(findUnderDataRoots("cars.csv", base, roots), root / "b" / "cars.csv");
    EXPECT_EQ(findUnderDataRoots("both.csv", base, roots), root / "a" / "both.csv");  // in order
    EXPECT_FALSE(findUnderDataRoots("here.csv", base, roots));                        // beside the file wins
    EXPECT_FALSE(findUnderDataRoots("nowhere.csv", base, roots));
    EXPECT_FALSE(findUnderDataRoots((root / "b" / "cars.csv").string(), base, roots));  // absolute
}

}  // namespace
}  // namespace pipelang::record
