// Slurm, the scheduler of most university and national clusters, as `pipe`
// uses it: a readable batch script per run (or per sweep, as a job array),
// submitted with `sbatch`; inside the allocation the tasks that `srun`
// starts learn their rank, the world's size and the master's address from
// Slurm's variables, as torchrun and Lightning do; `pipe status` asks
// Slurm how a job is doing. Nothing here needs LibTorch: the front end
// submits, the runtime only reads the environment.
//
// A job stopped by Slurm's warning signal (USR1, sent `signal_seconds`
// before the time limit, or by `scancel --signal=USR1`) writes its
// checkpoint and exits with kRequeueStatus; the batch script then requeues
// the job, and the requeued job resumes the run from its checkpoint.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pipelang::cluster {

struct SlurmError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The exit status of a run stopped by SIGUSR1 (sysexits' EX_TEMPFAIL: try
// again later); the batch script requeues on it.
inline constexpr int kRequeueStatus = 75;

// What `pipe run --slurm` asks of the scheduler; pipe.toml's [slurm] table
// gives the defaults, the command line's flags win.
struct SlurmOptions {
    std::string partition;  // empty: the cluster's default partition
    std::string time;       // the time limit as sbatch takes it ("30", "1:00:00", "2-00:00:00"); empty: the partition's
    std::string account;    // empty: the user's default
    int nodes = 1;
    int tasksPerNode = 1;  // data-parallel processes per node
    int gpusPerNode = 0;
    int cpusPerTask = 0;      // 0: Slurm's default (one)
    int maxParallel = 0;      // array tasks at once; 0: as many as Slurm allows
    int signalSeconds = 120;  // the warning before the time limit
};

// One batch script. `commands` are the lines it runs (already quoted), in
// the script's shell; `arrayTasks` > 0 makes it a job array of that many
// tasks, numbered from 0 (SLURM_ARRAY_TASK_ID).
struct BatchScript {
    std::string jobName;
    std::string comment;            // the script's opening comment: what wrote it and how to resubmit
    std::filesystem::path workDir;  // --chdir
    std::filesystem::path output;   // --output; %j (job id), %A and %a (array) as sbatch expands them
    SlurmOptions options;
    int arrayTasks = 0;
    std::vector<std::string> commands;  // the body
};

// The script's text: `#SBATCH` lines from the options, then the body.
std::string renderBatchScript(const BatchScript& script);

// A word quoted for the shell when it needs to be.
std::string shellQuote(const std::string& word);

// `sbatch --parsable SCRIPT`: the job id. Throws SlurmError with Slurm's own
// words when there is no sbatch on the PATH or Slurm refuses the job (a
// partition that does not exist, a time over the partition's limit...).
std::string submit(const std::filesystem::path& script);

// Whether `sbatch` is on the PATH.
bool haveSbatch();

// The first host of a Slurm host list: "vm" → "vm", "node[07-10,12],gpu1"
// → "node07", "rack[2-3]-n[1-4]" → "rack2-n1". Throws SlurmError on a
// bracket that is not closed.
std::string firstHost(const std::string& nodeList);

// The data-parallel world of a task that srun started: SLURM_PROCID,
// SLURM_STEP_NUM_TASKS (the step's tasks, not the job's), SLURM_LOCALID,
// the first host of SLURM_STEP_NODELIST (else SLURM_JOB_NODELIST) and a port
// from the job id. Nothing outside a step that srun started (a batch
// script's own shell, an `salloc` shell), where pipe is one process.
struct SlurmTask {
    int rank = 0, size = 1, localRank = 0;
    std::string masterAddr;
    int masterPort = 0;
};
std::optional<SlurmTask> slurmTaskFromEnvironment();

// The cores Slurm gave each task (SLURM_CPUS_PER_TASK, set by
// `--cpus-per-task`), or 0 outside such a job: a run's default threads.
int cpusPerTask();

// A job's state as Slurm tells it: from `squeue` while it is pending or
// running, else `sacct` (where the cluster keeps accounts), else `scontrol
// show job` (which remembers a finished job for MinJobAge); nothing once
// Slurm has forgotten it. Throws SlurmError when there is no squeue.
struct JobState {
    std::string state;   // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, REQUEUED...
    std::string detail;  // the reason it waits, or the node it runs on, the elapsed time
    std::string source;  // squeue, sacct or scontrol
};
std::optional<JobState> jobState(const std::string& jobId);

}  // namespace pipelang::cluster
