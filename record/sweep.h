// Sweeps: a `sweep` block's points, the runs that try them, and the table
// that ranks them. A point is a set of `--set key=value` overrides; `grid`
// takes every combination of the swept values, `random(trials, seed)` a
// seeded sample of distinct combinations. `pipe cv` is a sweep over a data
// block's `fold`. Nothing here needs LibTorch: each point is a `pipe-runtime`
// process (sweep_run.h).
//
// A sweep directory, `runs/<stem>-sweep-<date>-<time>/`, holds a run
// directory per point (`p01`, `p02`...), `sweep.csv` (one row per point:
// run, status, the swept values, the final metrics, the error) in ranked
// order, and `sweep.txt`, the table as printed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/pipeline.h"
#include "record/run.h"
#include "stdlib/implementations.h"

namespace pipelang::record {

struct SweepAxis {
    std::string key;                  // fit.optimizer.lr
    std::vector<std::string> values;  // .pipe source text of each value: 0.001, [16, 32]
};

using SweepPoint = std::vector<std::pair<std::string, std::string>>;  // key → value, in axis order

struct SweepPlan {
    std::vector<SweepAxis> axes;
    const Value* strategy = nullptr;  // the resolved `strategy` call (grid when null)
    bool random = false;              // strategy random(trials, seed), as read for display and tests
    int64_t trials = 0, seed = 0;
    std::string metric = "valid_loss";  // what ranks the points

    // "grid", "random(trials = 10, seed = 0)"
    std::string describe() const {
        return !strategy ? "grid" : strategy->items.empty() ? strategy->text : strategy->str();
    }
};

// A strategy's maker picks the points of a sweep from its axes; each
// registers beside its code (record/sweep.cpp).
using StrategyMaker = std::vector<SweepPoint> (*)(const Value& call, const std::vector<SweepAxis>& axes);
using StrategyMakers = stdlib::Implementations<stdlib::Family::Strategy, StrategyMaker>;

// The plan of the pipeline's sweep block; no axes when it has none.
SweepPlan sweepPlan(const Pipeline& pipeline);
bool hasSweep(const Pipeline& pipeline);

// Every combination, the last axis changing fastest.
std::vector<SweepPoint> gridPoints(const std::vector<SweepAxis>& axes);
// `trials` distinct combinations drawn with `seed` (every one when there are
// fewer), in the order of the grid.
std::vector<SweepPoint> randomPoints(const std::vector<SweepAxis>& axes, int64_t trials, int64_t seed);
std::vector<SweepPoint> points(const SweepPlan& plan);

// Which way a metric is better is the registry's to say.
using stdlib::higherIsBetter;

struct PointResult {
    std::string run;                                      // the run directory's name
    SweepPoint point;                                     // its overrides
    std::string status = "finished";                      // finished, failed, interrupted
    std::string error;                                    // why it failed
    std::vector<std::pair<std::string, double>> metrics;  // the ranked stage's final metrics
    double seconds = 0;
};

// The order to show points in: finished points by `metric` (best first),
// then the ones without it (failed, interrupted), each group in run order.
std::vector<size_t> rankPoints(const std::vector<PointResult>& results, const std::string& metric);

// The ranked table, the best point marked with `*`, for the terminal and sweep.txt.
std::string renderSweepTable(const std::vector<PointResult>& results, const std::vector<size_t>& order,
                             const std::string& metric);
// sweep.csv: `rank,best,run,status,<keys...>,<metrics...>,seconds,error`, ranked.
std::string sweepCsv(const std::vector<PointResult>& results, const std::vector<size_t>& order);

// A finished point's final metrics: those of the last train stage in
// record.toml that measures `metric` (the last train stage when none does).
std::vector<std::pair<std::string, double>> finalMetrics(const std::filesystem::path& runDir,
                                                         const std::string& metric);

// The cells of one line of the CSV files sweeps and cross-validation write
// (quoted cells may hold commas and doubled quotes).
std::vector<std::string> csvCells(const std::string& line);

// Whether `dir` is a sweep directory (it holds sweep.csv).
bool isSweepDirectory(const std::filesystem::path& dir);

}  // namespace pipelang::record
