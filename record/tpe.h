// The tree-structured Parzen estimator (Bergstra et al., "Algorithms for
// Hyper-Parameter Optimization", 2011), as Optuna's TPESampler does it by
// default: after `startup` points drawn at random, the finished points are
// split into the best tenth (at most 25, at least 1) and the rest; for each
// axis on its own, a Parzen estimator (a mixture of truncated Gaussians
// around the values tried, on a log scale for log ranges, plus a broad
// prior; for a list, a smoothed histogram) is fitted to each group, 24
// candidates are drawn from the good one, and the one with the largest
// ratio good/rest is taken.
//
// Point k is chosen from the points before it alone, with a generator seeded
// from the seed and k: with --jobs 1 a sweep repeats exactly; run at once,
// a point sees those finished when it starts, so the points repeat only
// given the same order of finishing (as Optuna says of its parallel runs).
//
// Unlike Optuna, a point already tried (or running) is not proposed again
// while the axes, all finite, still have one untried: the next best
// candidate is taken, else an untried point at random.
#pragma once

#include <cstdint>
#include <vector>

#include "record/sweep.h"

namespace pipelang::record {

struct TpeSettings {
    int64_t seed = 0;
    size_t startup = 10;       // points drawn at random first (Optuna's n_startup_trials)
    size_t candidates = 24;    // drawn from the good estimator per point (n_ei_candidates)
    double priorWeight = 1.0;  // of the broad prior among the estimator's kernels
};

// How many of `n` finished points count as good: Optuna's default gamma,
// min(ceil(n / 10), 25).
size_t tpeGood(size_t n);

// Point k of a TPE search over `axes`, from what finished before it.
SweepPoint tpePoint(const std::vector<SweepAxis>& axes, size_t k, const SweepHistory& before,
                    const TpeSettings& settings);

}  // namespace pipelang::record
