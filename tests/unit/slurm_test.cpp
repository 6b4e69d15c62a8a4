// Slurm without a cluster: host lists, the world of srun's tasks, batch
// scripts. The jobs themselves run on a real Slurm in
// tests/runtime/slurm_test.cpp.
#include "cluster/slurm.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

namespace pipelang::cluster {
namespace {

TEST(SlurmHosts, FirstHostOfAHostList) {
    EXPECT_EQ(firstHost("vm"), "vm");
    EXPECT_EQ(firstHost("node07,node08"), "node07");
    EXPECT_EQ(firstHost("node[07-10,12],gpu1"), "node07");
    EXPECT_EQ(firstHost("node[3,5-6]"), "node3");
    EXPECT_EQ(firstHost("rack[2-3]-n[001-004]"), "rack2-n001");
    EXPECT_EQ(firstHost("a-b[1-2],c[3]"), "a-b1");
    EXPECT_THROW(firstHost("node[1-2"), SlurmError);
}

// Sets Slurm's variables for one test and restores the environment after.
class SlurmEnvironment : public ::testing::Test {
protected:
    const std::vector<std::string> names = {"SLURM_STEP_NUM_TASKS", "SLURM_PROCID",        "SLURM_LOCALID",
                                            "SLURM_JOB_ID",         "SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST",
                                            "MASTER_PORT",          "MASTER_ADDR",         "SLURM_CPUS_PER_TASK"};
    std::map<std::string, std::string> saved;
    void SetUp() override {
        for (const auto& n : names)
            if (const char* v = std::getenv(n.c_str())) saved[n] = v;
        for (const auto& n : names) unsetenv(n.c_str());
    }
    void TearDown() override {
        for (const auto& n : names) unsetenv(n.c_str());
        for (const auto& [n, v] : saved) setenv(n.c_str(), v.c_str(), 1);
    }
};

TEST_F(SlurmEnvironment, NoWorldOutsideATaskOfSrun) {
    EXPECT_FALSE(slurmTaskFromEnvironment());
    // A batch script's own shell has a job and a PROCID but no step of tasks.
    setenv("SLURM_JOB_ID", "12", 1);
    setenv("SLURM_PROCID", "0", 1);
    setenv("SLURM_JOB_NODELIST", "vm", 1);
    EXPECT_FALSE(slurmTaskFromEnvironment());
}

TEST_F(SlurmEnvironment, ThreadsFromTheCoresOfATask) {
    EXPECT_EQ(cpusPerTask(), 0);
    setenv("SLURM_CPUS_PER_TASK", "6", 1);
    EXPECT_EQ(cpusPerTask(), 6);
    setenv("SLURM_CPUS_PER_TASK", "six", 1);
    EXPECT_EQ(cpusPerTask(), 0);
}

TEST_F(SlurmEnvironment, TheWorldOfATaskOfSrun) {
    setenv("SLURM_JOB_ID", "4242", 1);
    setenv("SLURM_STEP_NUM_TASKS", "8", 1);
    setenv("SLURM_PROCID", "5", 1);
    setenv("SLURM_LOCALID", "1", 1);
    setenv("SLURM_JOB_NODELIST", "gpu[01-04]", 1);
    setenv("SLURM_STEP_NODELIST", "gpu[02-04]", 1);
    auto task = slurmTaskFromEnvironment();
    ASSERT_TRUE(task);
    EXPECT_EQ(task->rank, 5);
    EXPECT_EQ(task->size, 8);
    EXPECT_EQ(task->localRank, 1);
    EXPECT_EQ(task->masterAddr, "gpu02");  // the step's first host, where rank 0 runs
    EXPECT_EQ(task->masterPort, 15000 + 4242);
    setenv("MASTER_PORT", "29999", 1);
    setenv("MASTER_ADDR", "10.0.0.1", 1);
    task = slurmTaskFromEnvironment();
    EXPECT_EQ(task->masterPort, 29999);
    EXPECT_EQ(task->masterAddr, "10.0.0.1");
    setenv("SLURM_PROCID", "x", 1);
    EXPECT_THROW(slurmTaskFromEnvironment(), SlurmError);
}

TEST(SlurmScript, SbatchLinesFromTheOptions) {
    BatchScript s;
    s.jobName = "fashion";
    s.comment = "Written by a test.\nSecond line.";
    s.workDir = "/home/me/project";
    s.output = "/home/me/project/runs/x/slurm-%j.out";
    s.options.partition = "gpu";
    s.options.time = "1:00:00";
    s.options.tasksPerNode = 4;
    s.options.gpusPerNode = 4;
    s.options.signalSeconds = 300;
    s.options.cpusPerTask = 6;
    s.commands = {"srun pipe run x.pipe"};
    std::string text = renderBatchScript(s);
    EXPECT_EQ(text.rfind("#!/bin/bash\n# Written by a test.\n# Second line.\n", 0), 0u) << text;
    for (const char* line :
         {"#SBATCH --job-name=fashion\n", "#SBATCH --chdir=/home/me/project\n", "#SBATCH --partition=gpu\n",
          "#SBATCH --time=1:00:00\n", "#SBATCH --nodes=1\n", "#SBATCH --ntasks-per-node=4\n",
          "#SBATCH --gpus-per-node=4\n", "#SBATCH --cpus-per-task=6\n", "#SBATCH --signal=USR1@300\n",
          "#SBATCH --requeue\n", "#SBATCH --open-mode=append\n", "\nsrun pipe run x.pipe\n"})
        EXPECT_NE(text.find(line), std::string::npos) << line << " in\n" << text;
    EXPECT_EQ(text.find("--account"), std::string::npos);
    EXPECT_EQ(text.find("--array"), std::string::npos);
    s.arrayTasks = 3;
    s.options.maxParallel = 2;
    EXPECT_NE(renderBatchScript(s).find("#SBATCH --array=0-2%2\n"), std::string::npos);
    s.options.maxParallel = 0;
    EXPECT_NE(renderBatchScript(s).find("#SBATCH --array=0-2\n"), std::string::npos);
}

TEST(SlurmScript, ShellQuoting) {
    EXPECT_EQ(shellQuote("runs/x-1.pipe"), "runs/x-1.pipe");
    EXPECT_EQ(shellQuote("fit.optimizer.lr=1e-3"), "fit.optimizer.lr=1e-3");
    EXPECT_EQ(shellQuote("a b"), "'a b'");
    EXPECT_EQ(shellQuote("it's"), "'it'\\''s'");
    EXPECT_EQ(shellQuote("$HOME"), "'$HOME'");
    EXPECT_EQ(shellQuote(""), "''");
}

}  // namespace
}  // namespace pipelang::cluster
