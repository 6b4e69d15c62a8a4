// pipe.toml: a project's defaults for every run of the .pipe files beneath it.
//
//     runs       = "experiments/runs"      # where run directories go (relative to pipe.toml)
//     device     = "cpu"                   # cpu, cuda or auto: for train blocks that do not choose
//     threads    = 4                       # intra-op threads of a run
//     data_roots = ["data", "/srv/datasets"]
//
//     [slurm]                              # `pipe run --slurm`'s defaults
//     partition = "gpu"
//     time = "4:00:00"
//     account = "my-lab"
//     nodes = 1
//     tasks_per_node = 4
//     gpus_per_node = 4
//     cpus_per_task = 8                    # each process's cores and threads
//     max_parallel = 8                     # a sweep's array tasks at once
//     signal_seconds = 300                 # the checkpoint-and-requeue warning before the time limit
//
// It is found by walking up from the .pipe file's folder, stopping after the
// filesystem root or a git root (a folder holding `.git`). A flag on the
// command line wins over pipe.toml, which wins over the built-in default.
//
// Data roots: a relative data path (`source = csv("cars.csv")`) that does not
// exist beside the .pipe file is looked for under each root in order, and the
// first that has it is used. Paths beside the file always win, so a file that
// runs without pipe.toml runs the same with it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "record/run.h"

namespace pipelang::record {

struct Project {
    std::filesystem::path file;                    // the pipe.toml read, or empty when there is none
    std::optional<std::filesystem::path> runs;     // absolute
    std::optional<std::string> device;             // "cpu", "cuda" or "auto"
    std::optional<int> threads;                    // >= 1
    std::vector<std::filesystem::path> dataRoots;  // absolute, in the order to search

    // [slurm]: each unset where pipe.toml does not say.
    struct Slurm {
        std::optional<std::string> partition, time, account;
        std::optional<int> nodes, tasksPerNode, gpusPerNode, cpusPerTask, maxParallel, signalSeconds;
    } slurm;
};

// The pipe.toml that governs `pipeFile`, or none (an empty path).
std::filesystem::path findProjectFile(const std::filesystem::path& pipeFile);

// Reads a pipe.toml. Throws RecordError naming the file and line of a syntax
// error, an unknown key or a value of the wrong type or range.
Project readProject(const std::filesystem::path& tomlFile);

// findProjectFile then readProject; an empty Project without a pipe.toml.
Project projectFor(const std::filesystem::path& pipeFile);

// Where a relative data path is read from: beside the .pipe file (`baseDir`)
// when it exists there, else under the first data root that has it. Returns
// nothing when it is absolute, exists beside the file, or no root has it.
std::optional<std::filesystem::path> findUnderDataRoots(const std::string& path, const std::filesystem::path& baseDir,
                                                        const std::vector<std::filesystem::path>& roots);

// The pipe.toml values a run used, from the `[project]` table of its
// record.toml (entries whose origin is "pipe.toml"): what `pipe repro` and
// `pipe run --resume` use instead of today's pipe.toml. An empty Project for
// a record written before pipe.toml existed.
Project projectFromRecord(const std::filesystem::path& recordToml);

// The thread count a run used (`[run] threads` of its record.toml), or 0 when
// the record does not say: a resumed run takes it, because LibTorch's
// reductions can round differently with another.
int recordedThreads(const std::filesystem::path& recordToml);

}  // namespace pipelang::record
