// Runs a sweep's points as `pipe-runtime run` processes: one after another,
// or `jobs` at a time sharing the cores. Each point is a run of its own in
// `<sweep dir>/pNN/` with the point's values as `--set` overrides (so its
// record.toml shows them with origin `--set`), what it printed in
// `pNN/output.txt`, and `pNN/point.toml`: its values, then how it ended. A
// point that fails is reported and the others go on.
//
// One point is the whole unit of work (runOnePoint): it is chosen (for
// `tpe`, from the points finished before it in the directory), started, and
// watched by the process that started it; under `asha` that watcher reports
// the point's metric at each rung (asha.csv, under a lock) and stops the
// point (SIGINT: it writes a checkpoint and ends) when it is not in the top.
// So a sweep needs no central driver: the `--jobs` loop here calls it once
// per point, and a Slurm array task calls it for its own point.
//
// Ctrl-C stops the sweep cleanly: no new point starts, each running one is
// asked to stop (it writes a checkpoint, as `pipe run` does on Ctrl-C) and
// the table shows it interrupted; a second Ctrl-C stops them at once.
// SIGUSR1 (Slurm's warning before a time limit) is passed on the same way.
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
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

// Runs point `index` (from 0) of the sweep in `options.sweepDir`, as the
// comment above says, and returns how it ended. A point the directory
// already holds as finished (or stopped) is not run again; one interrupted
// (its run has a checkpoint) goes on from its checkpoint with its values.
PointResult runOnePoint(size_t index, const Strategy& strategy, const SweepRunOptions& options);

// Runs every point and returns their results in point order; `interrupted`
// is set when Ctrl-C stopped the sweep. Prints one line per finished point to
// `progress`.
std::vector<PointResult> runPoints(const Strategy& strategy, const SweepRunOptions& options, bool& interrupted,
                                   FILE* progress);

// The run directory's name of point `index` (from 0) of `count`: p1 .. p9,
// or p01 .. for more.
std::string pointName(size_t index, size_t count);

// What the directory's point.toml files say of its points, in point order;
// a point without one is "not run". For a sweep whose points ran as other
// processes (a Slurm array's tasks).
std::vector<PointResult> readPointResults(const std::filesystem::path& sweepDir, size_t count);

// The history a strategy chooses point `index` from: every point before it
// that the directory holds, and the finished ones' `metric`.
SweepHistory readHistory(const std::filesystem::path& sweepDir, size_t index, size_t count, const std::string& metric);

// What a sweep directory says of itself in sweep.toml (what `pipe plot`
// reads): written as the sweep begins, and again at its end with what it
// spent (epochs trained over every point, their seconds, the wall time).
struct SweepSummary {
    std::string kind;  // sweep, cv
    std::filesystem::path file;
    std::string metric;
    std::string strategy;  // as the sweep's first line says it
    size_t points = 0;
    std::optional<int64_t> epochs = std::nullopt;
    std::optional<double> seconds = std::nullopt, wall = std::nullopt;
    std::vector<SweepAxis> axes = {};  // the swept settings, for the order of their values in pictures
};
void writeSweepToml(const std::filesystem::path& sweepDir, const SweepSummary& summary);

// Ranks the results by `metric` and saves the table as sweep.txt and
// sweep.csv in the sweep directory; returns the table as printed.
std::string saveSweepTable(const std::filesystem::path& sweepDir, const std::vector<PointResult>& results,
                           const std::string& metric);

// The threads each of `jobs` concurrent points gets: the cores split evenly, at least 1.
int threadsPerJob(int jobs);

}  // namespace pipelang::record
