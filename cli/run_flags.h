// The flags of a training run, declared once. `pipe run` reads them to find
// a sweep (which it runs itself) and hands everything else to `pipe-runtime
// run`, which reads them again; `pipe cv` and the runtime's `show` and
// `lr-find` take the ones that apply to them. A new flag is its field and one
// line here. Header-only, so both executables use it without LibTorch.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace pipelang::cli {

struct RunFlags {
    std::string file;
    std::vector<std::string> overrides;  // --set
    std::string device;                  // --device
    std::string runs;                    // --runs
    int threads = 0;                     // --threads
    int jobs = 1;                        // --jobs: points of a sweep, or folds, at once
    std::string resume;                  // --resume RUN
    std::string runDir;                  // --run-dir
    // One point of a sweep into its directory (hidden; a Slurm array task's
    // command, cli/sweep.h): --sweep-point K --sweep-dir D.
    int64_t sweepPoint = -1;
    std::string sweepDir;
    // The data-parallel launcher's own: each worker gets the command line
    // without them (kLauncherFlags).
    int processes = 1;   // --nproc
    int nodes = 1;       // --nnodes
    int nodeRank = 0;    // --node-rank
    std::string master;  // --master
    // `pipe run --slurm`: submitted to Slurm instead of run here; unset
    // values come from pipe.toml's [slurm] table (cluster/slurm.h).
    bool slurm = false;
    std::string partition, time, account;
    int slurmNodes = 0, tasksPerNode = 0, gpusPerNode = 0, cpusPerTask = 0, maxParallel = 0;
};

inline const std::vector<std::string> kLauncherFlags = {"--nproc", "--nnodes", "--node-rank", "--master"};

inline void addSetFlag(CLI::App& app, std::vector<std::string>& overrides,
                       const std::string& example = "fit.optimizer.lr=1e-3") {
    app.add_option("--set", overrides, "override a setting, e.g. --set " + example);
}

inline void addDeviceFlag(CLI::App& app, std::string& device) {
    app.add_option("--device", device, "where to train, over the file's choice")->check(CLI::IsMember({"cpu", "cuda"}));
}

// What a run of many points (a sweep's points, cv's folds) shares with a
// single run: --set, --device, --runs, --threads, --jobs. `points` names
// them for --jobs' help ("points of a sweep", "folds").
inline void addPointsFlags(CLI::App& app, RunFlags& flags, const std::string& points) {
    addSetFlag(app, flags.overrides);
    addDeviceFlag(app, flags.device);
    app.add_option("--runs", flags.runs,
                   "the folder that holds run directories (default: pipe.toml's `runs`, else runs)");
    app.add_option("--threads", flags.threads,
                   "intra-op threads (default: pipe.toml's `threads`, else every core, split between --jobs)");
    app.add_option("--jobs", flags.jobs, points + " run at once, sharing the cores (default: 1)")
        ->check(CLI::PositiveNumber);
}

// Everything `pipe run` takes.
inline void addRunFlags(CLI::App& app, RunFlags& flags) {
    app.add_option("file", flags.file, "the .pipe file to run");
    app.add_option("--resume", flags.resume, "go on with an interrupted run, in its own directory");
    addPointsFlags(app, flags, "for a file with a sweep block: points");
    app.add_option("--run-dir", flags.runDir, "write the run into this folder (a sweep's points use it)");
    app.add_option("--sweep-point", flags.sweepPoint, "run only this point (from 0) of the sweep, into --sweep-dir")
        ->group("");
    app.add_option("--sweep-dir", flags.sweepDir, "the sweep directory that holds the points of --sweep-point")
        ->group("");
    app.add_option("--nproc", flags.processes, "data-parallel worker processes on this machine (default: 1)")
        ->check(CLI::PositiveNumber);
    app.add_option("--nnodes", flags.nodes, "machines in the run, each running this command (default: 1)")
        ->check(CLI::PositiveNumber);
    app.add_option("--node-rank", flags.nodeRank, "this machine's number, from 0 (default: 0)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--master", flags.master, "addr:port of rank 0's machine (default: MASTER_ADDR, MASTER_PORT)");
    app.add_flag("--slurm", flags.slurm,
                 "submit the run (a sweep: a job array) to Slurm with sbatch instead of running it here");
    app.add_option("--partition", flags.partition, "with --slurm: the partition (default: pipe.toml's, else Slurm's)");
    app.add_option("--time", flags.time, "with --slurm: the time limit, e.g. 2:00:00 (default: the partition's)");
    app.add_option("--nodes", flags.slurmNodes, "with --slurm: machines for a data-parallel run (default: 1)")
        ->check(CLI::PositiveNumber);
    app.add_option("--tasks-per-node", flags.tasksPerNode,
                   "with --slurm: data-parallel processes per machine (default: 1)")
        ->check(CLI::PositiveNumber);
    app.add_option("--gpus-per-node", flags.gpusPerNode, "with --slurm: GPUs per machine (default: none)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--cpus-per-task", flags.cpusPerTask,
                   "with --slurm: cores per process, its threads (default: Slurm's, one; a --threads wins)")
        ->check(CLI::PositiveNumber);
    app.add_option("--account", flags.account, "with --slurm: the account to charge (default: yours)");
    app.add_option("--max-parallel", flags.maxParallel,
                   "with --slurm, for a sweep: array tasks at once (default: as many as Slurm allows)")
        ->check(CLI::PositiveNumber);
}

// The command line without the given flags and their values (`--jobs 2` and
// `--jobs=2` alike).
inline std::vector<std::string> withoutFlags(const std::vector<std::string>& args,
                                             const std::vector<std::string>& flags) {
    std::vector<std::string> kept;
    for (size_t i = 0; i < args.size(); ++i) {
        bool drop = false;
        for (const auto& flag : flags) {
            if (args[i] == flag) {
                drop = true;
                ++i;  // and its value, which follows
                break;
            }
            if (args[i].rfind(flag + "=", 0) == 0) {
                drop = true;
                break;
            }
        }
        if (!drop) kept.push_back(args[i]);
    }
    return kept;
}

}  // namespace pipelang::cli
