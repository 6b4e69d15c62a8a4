// The `series` block: the rows of a table as one series in time, cut into
// windows. Everything learned from the data is learned on the training span
// alone (the steps the splitter puts before validation), so no value after
// the split reaches training: not as an input, a target, or a statistic.
//
//  - rows are read in file order and must be in time order, one per step:
//    unsorted or repeated times and gaps are errors naming the file's line;
//  - a window at origin t sees rows [t - lookback, t) of every column (the
//    targets, then the `inputs`) and predicts rows [t, t + horizon) of the
//    targets; it belongs to the split of its target rows, and a window whose
//    targets straddle two splits is left out;
//  - `scale = "standard"` subtracts each column's training-span mean and
//    divides by its standard deviation.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/data/splits.h"
#include "runtime/data/table.h"

namespace pipelang::runtime {

// A time as written in a time column: a date, a date and time of day (ISO
// `2014-01-31`, `2014-01-31T13:00:00`, or with slashes, `2014/01/31 13:00`),
// a month (`2014-01`), or a plain number (a year, a step count).
struct TimePoint {
    bool date = false;
    double key = 0;          // seconds since 1970-01-01 for dates; the number itself otherwise
    int64_t month = 0;       // dates: year × 12 + month − 1
    int64_t dayOfMonth = 0;  // dates: 1..31
    double secondOfDay = 0;  // dates
};
std::optional<TimePoint> parseTime(const std::string& text);

// The time column of a series, in row order (checked: increasing, one row per step).
struct TimeAxis {
    bool dates = false;
    std::vector<double> keys;          // per row: TimePoint::key
    std::vector<std::string> written;  // per row, as in the file
    std::string step;                  // the step in words: "1 day", "1 month", "1"
};

struct SeriesSpec {
    std::string time;
    std::vector<std::string> targets, inputs;
    int64_t lookback = 24, horizon = 1, season = 1;
    bool scale = true;
};

struct Series {
    std::string file;
    std::vector<std::string> columns;  // the targets, then the inputs
    int64_t targetCount = 0;
    TimeAxis time;
    std::vector<int64_t> lines;  // per row: the line of the file it starts on
    std::vector<double> values;  // rows × columns, row-major, in the columns' own units

    int64_t rows() const { return int64_t(lines.size()); }
    int64_t columnCount() const { return int64_t(columns.size()); }
    double value(int64_t row, int64_t column) const { return values[size_t(row * columnCount() + column)]; }
};

// Reads and checks a series from a table: a RuntimeError naming the file,
// the line and what to do for a missing column, a time that does not parse,
// times out of order or repeated, a gap, or a value that is not a number.
Series readSeries(const Table& table, const SeriesSpec& spec);

// Each column's mean and standard deviation over the rows on Side::Train
// (mean 0 and deviation 1 when not scaling; deviation 1 for a constant column).
struct SeriesScaling {
    std::vector<double> mean, std;
};
SeriesScaling measureScaling(const Series& series, const std::vector<Side>& sides, bool scale);

// The window origins of each split (Train, Valid, Test), in time order.
using WindowOrigins = std::array<std::vector<int64_t>, 3>;
WindowOrigins windowOrigins(const std::vector<Side>& sides, int64_t lookback, int64_t horizon);

// Inputs {windows × lookback × columns} and targets {windows × horizon ×
// targets} of the windows at `origins`, scaled, row-major.
std::vector<float> windowInputs(const Series& series, const SeriesScaling& scaling, const std::vector<int64_t>& origins,
                                int64_t lookback);
std::vector<float> windowTargets(const Series& series, const SeriesScaling& scaling,
                                 const std::vector<int64_t>& origins, int64_t horizon);

// Naive forecasts of the windows at `origins` in the targets' own units, laid
// out as windowTargets: the last value before the origin at every step; or
// the value one season (`season` steps) before each step, taken from the
// last season seen before the origin (Hyndman's seasonal naive).
std::vector<double> lastValueForecast(const Series& series, const std::vector<int64_t>& origins, int64_t horizon);
std::vector<double> seasonalNaiveForecast(const Series& series, const std::vector<int64_t>& origins, int64_t horizon,
                                          int64_t season);

// M4's MASE scale per target column: the mean absolute difference between
// each training step and the one `season` steps before it, within the
// training span. A RuntimeError when the span is no longer than a season.
std::vector<double> naiveScale(const Series& series, const std::vector<Side>& sides, int64_t season);

}  // namespace pipelang::runtime
