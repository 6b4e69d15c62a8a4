// Drawing a sweep's points: a seeded generator that gives the same numbers
// on every machine, a value drawn from an axis (a list's value, or a number
// of a range), and whole points drawn from the axes. `random`, `tpe` and
// `asha` draw through here.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "record/sweep.h"

namespace pipelang::record {

// A generator for point `stream` of a sweep seeded with `seed`. mt19937_64
// and seed_seq are specified to the bit, and the numbers below are computed
// here rather than by the library's distributions (whose algorithms the
// standard leaves open): the same seed draws the same points everywhere.
class Draws {
public:
    explicit Draws(int64_t seed, uint64_t stream = 0);
    double uniform();        // in [0, 1)
    double normal();         // mean 0, standard deviation 1
    size_t below(size_t n);  // in 0 .. n-1
    std::mt19937_64& engine() { return rng_; }

private:
    std::mt19937_64 rng_;
};

// Whether metric `a` ranks before `b`: better (larger when higher is
// better), a NaN (a point that diverged) after every number.
bool ranksBefore(double a, double b, bool higherIsBetter);

// The index a uniform draw `u` in [0, 1) falls on among `weights` (summing to 1).
size_t pickByWeight(const std::vector<double>& weights, double u);

// The span a range is drawn over: its bounds, as logarithms on a log scale,
// and widened by half a step each way for whole numbers (so that rounding
// gives each number its fair share).
struct DrawSpan {
    double lo = 0, hi = 0;
};
DrawSpan drawSpan(const SweepRange& range);
// A number of the span back to a value of the range, as .pipe text: reals
// kept to 4 significant digits (a point's settings read well and say exactly
// what it ran with), whole numbers rounded, both within the bounds.
std::string rangeValue(const SweepRange& range, double inSpan);
// Where a value of the range lies in its span; NaN for text that is no number.
double spanOf(const SweepRange& range, const std::string& text);

// A value of the axis: one of its values, or a number drawn evenly over its span.
std::string drawValue(const SweepAxis& axis, Draws& draws);

// How many combinations the axes have: nothing when an axis is a range of
// reals or there are more than `limit` (too many to list).
std::optional<size_t> finiteSize(const std::vector<SweepAxis>& axes, size_t limit = 100000);

// The first `count` of a seeded shuffle of 0 .. n-1 (all of them when there are fewer).
std::vector<size_t> shuffledIndices(size_t n, size_t count, int64_t seed);

// The first `count` points of a seeded shuffle of the grid (every one when
// there are fewer): distinct combinations, in the order they were drawn.
// `random` sorts them back into the grid's order; `asha` runs them as drawn.
std::vector<SweepPoint> shuffledPoints(const std::vector<SweepAxis>& axes, size_t count, int64_t seed);

// `count` points: shuffledPoints when the axes are finite, else each point
// drawn from every axis in turn.
std::vector<SweepPoint> drawnPoints(const std::vector<SweepAxis>& axes, size_t count, int64_t seed);

}  // namespace pipelang::record
