// Sweeps: a `sweep` block's points, the runs that try them, and the table
// that ranks them. A point is a set of `--set key=value` overrides, a value
// per axis: an axis is a written list (or `choice([...])`), or a range to
// draw from (`uniform`, `loguniform`, `int_range`). `grid` takes every
// combination, `random(trials, seed)` a seeded sample, `tpe` draws each
// point from the results of those before it (record/tpe.h) and `asha` stops
// weak points at rungs (record/asha.h). `pipe cv` is a sweep over a data
// block's `fold`. Nothing here needs LibTorch: each point is a `pipe-runtime`
// process (sweep_run.h).
//
// A sweep directory, `runs/<stem>-sweep-<date>-<time>/`, holds a run
// directory per point (`p01`, `p02`...) with the point's `point.toml` (its
// values, and how it ended), `sweep.toml` (what the sweep is), `asha.csv`
// (what the points reported at each rung), and at the end `sweep.csv` (one
// row per point: run, status, the swept values, the final metrics, the
// error) in ranked order and `sweep.txt`, the table as printed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/pipeline.h"
#include "record/run.h"
#include "stdlib/implementations.h"

namespace pipelang::record {

// A range of numbers an axis is drawn from: a sweep range's call.
struct SweepRange {
    std::string name;  // the built-in: uniform, loguniform, int_range
    double lo = 0, hi = 0;
    bool log = false;      // drawn evenly on a log scale
    bool integer = false;  // whole numbers

    std::string str() const;  // "loguniform(0.0001, 0.01)"
};

struct SweepAxis {
    std::string key;                  // fit.optimizer.lr
    std::vector<std::string> values;  // .pipe source text of each value: 0.001, [16, 32]; empty with a range
    std::optional<SweepRange> range = std::nullopt;
};

using SweepPoint = std::vector<std::pair<std::string, std::string>>;  // key → value, in axis order

// A sweep range's implementation reads its call into the axis: its values
// (`choice`) or its range. Each registers beside its code (record/search.cpp).
using RangeReader = void (*)(const Value& call, SweepAxis& axis);
using RangeReaders = stdlib::Implementations<stdlib::Family::SweepRange, RangeReader>;

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

// What a sweep directory tells of the points before the one to choose.
struct SweepHistory {
    std::vector<SweepPoint> started;  // every point begun, whatever became of it
    // The finished ones and their metric, oriented so that lower is better
    // (negated when higher is better), NaN last.
    std::vector<std::pair<SweepPoint, double>> finished;
};

// ASHA's rungs (record/asha.h): a point is compared with the others after
// min_epochs, min_epochs x reduction, ... epochs.
struct Rungs {
    int64_t minEpochs = 1;
    int64_t reduction = 3;

    // The rung (1, 2, ...) that ends after `epochs` epochs, or 0 for none.
    int rungAt(int64_t epochs) const;
};

// How a strategy chooses: `count` points, point k (from 0) by `propose`.
// Every strategy is seeded: the same file and seed propose the same points
// from the same history.
struct Strategy {
    size_t count = 0;
    std::function<SweepPoint(size_t k, const SweepHistory& before)> propose;
    bool adaptive = false;       // propose reads `before` (tpe): each point is chosen as it starts
    std::optional<Rungs> rungs;  // asha: weak points are stopped at rungs
};

// A strategy's maker, from its resolved call and the sweep's axes; each
// registers beside its code (record/sweep.cpp, tpe.cpp, asha.cpp).
using StrategyMaker = Strategy (*)(const Value& call, const std::vector<SweepAxis>& axes);
using StrategyMakers = stdlib::Implementations<stdlib::Family::Strategy, StrategyMaker>;

// The plan of the pipeline's sweep block; no axes when it has none.
SweepPlan sweepPlan(const Pipeline& pipeline);
bool hasSweep(const Pipeline& pipeline);

// The plan's strategy (grid when it names none).
Strategy strategyOf(const SweepPlan& plan);
// A strategy of points chosen beforehand (cross-validation's folds).
Strategy fixedStrategy(std::vector<SweepPoint> points);

// Every combination, the last axis changing fastest; an int_range's axis
// takes each of its numbers. Throws RecordError for a range of reals.
std::vector<SweepPoint> gridPoints(const std::vector<SweepAxis>& axes);
// `trials` distinct combinations drawn with `seed` (every one when there are
// fewer), in the order of the grid. With a range of reals among the axes,
// `trials` points drawn one after another (record/search.h).
std::vector<SweepPoint> randomPoints(const std::vector<SweepAxis>& axes, int64_t trials, int64_t seed);
// Every point of a strategy that chooses them beforehand (grid, random,
// asha). Throws RecordError for one that reads earlier results (tpe).
std::vector<SweepPoint> points(const SweepPlan& plan);

// Which way a metric is better is the registry's to say.
using stdlib::higherIsBetter;

struct PointResult {
    std::string run;                                      // the run directory's name
    SweepPoint point;                                     // its overrides
    std::string status = "finished";                      // finished, failed, interrupted, stopped, not run
    std::string error;                                    // why it failed, or was stopped
    std::vector<std::pair<std::string, double>> metrics;  // the ranked stage's final metrics
    double seconds = 0;
    int64_t epochs = 0;  // epochs trained, every train stage's together
    int exitCode = 0;    // its pipe-runtime's
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

// A number as text that reads back as the same double ("%.17g").
std::string exactNumber(double v);

// The cells of one line of the CSV files sweeps and cross-validation write
// (quoted cells may hold commas and doubled quotes).
std::vector<std::string> csvCells(const std::string& line);

// Whether `dir` is a sweep directory (it holds sweep.csv).
bool isSweepDirectory(const std::filesystem::path& dir);

}  // namespace pipelang::record
