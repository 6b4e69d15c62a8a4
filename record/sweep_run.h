// Runs a sweep's points as `pipe-runtime run` processes: one after another,
// or `jobs` at a time sharing the cores. Each point is a run of its own in
// `<sweep dir>/pNN/` with the point's values as `--set` overrides (so its
// record.toml shows them with origin `--set`), and what it printed in
// `pNN/output.txt`. A point that fails is reported and the others go on.
// Ctrl-C stops the sweep cleanly: no new point starts, each running one is
// asked to stop (it writes a checkpoint, as `pipe run` does on Ctrl-C) and
// the table shows it interrupted; a second Ctrl-C stops them at once.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "record/sweep.h"

namespace pipelang::record {

struct SweepRunOptions {
    std::filesystem::path runtime;       // the pipe-runtime executable
    std::filesystem::path file;          // the .pipe file
    std::vector<std::string> overrides;  // the command line's --set, applied before each point's
    std::string device;                  // --device, or empty
    int threads = 0;                     // --threads for each point; 0: the runtime's own default
    int jobs = 1;                        // points run at once
    std::filesystem::path sweepDir;      // made by the caller
    std::string metric;                  // read from each finished point's record
};

// Runs every point and returns their results in point order; `interrupted`
// is set when Ctrl-C stopped the sweep. Prints one line per finished point to
// `progress`.
std::vector<PointResult> runPoints(const std::vector<SweepPoint>& points, const SweepRunOptions& options,
                                   bool& interrupted, FILE* progress);

// The threads each of `jobs` concurrent points gets: the cores split evenly, at least 1.
int threadsPerJob(int jobs);

// A new sweep directory under `runsDir`: `<stem>-<kind>-YYYYmmdd-HHMMSS`.
std::filesystem::path makeSweepDirectory(const std::filesystem::path& runsDir, const std::filesystem::path& file,
                                         const std::string& kind);

}  // namespace pipelang::record
