// Runs a checked pipeline: compiles its execution graph and runs the stages
// in order — load and prepare data, train, evaluate, export — recording each
// artifact in the run directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "interpreter/pipeline.h"
#include "record/project.h"

namespace pipelang::runtime {

struct RunOptions {
    std::string file;                             // the .pipe file
    std::vector<std::string> overrides;           // --set key=value
    std::string device = "";                      // --device: "", "cpu" or "cuda" (overrides the file)
    std::filesystem::path runsDir;                // --runs; empty: pipe.toml's `runs`, else "runs"
    int threads = 0;                              // --threads; 0: pipe.toml's `threads`, else every core
    std::vector<std::string> commandLine;         // as typed, for the run record
    std::filesystem::path* madeRunDir = nullptr;  // when set, receives the run directory
    std::filesystem::path runDir;                 // --run-dir: exactly this directory (a sweep's point)
    std::filesystem::path resume;                 // --resume RUN: go on with that run, in its directory
    // The project defaults to use; when empty, the pipe.toml above the file
    // (for --resume, the values the run's record.toml kept).
    std::optional<record::Project> project;
    std::string runsOrigin = "--runs", threadsOrigin = "--threads";  // what the record says set them
};

// Returns the process exit code: 0 success, 1 the run failed, 2 the file does
// not check. Prints diagnostics and progress.
int runPipeline(const RunOptions& options);

// The backbone call a model builds: its own, or, for `backbone = pre.backbone`,
// the one the stage `pre` trained (followed through further references). The
// model's `freeze = true` becomes the call's own `freeze`.
Value backboneCall(const Pipeline& pipeline, const Section& model);

// A run directory named so a person can find it: runs/fashion-20261122-103501.
std::filesystem::path makeRunDirectory(const std::filesystem::path& runsDir, const std::string& file);

}  // namespace pipelang::runtime
