#include "runtime/data/series.h"

#include <cmath>
#include <cstdio>
#include <regex>

#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

// Days since 1970-01-01 of a date in the proleptic Gregorian calendar
// (Howard Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t daysInMonth(int64_t y, int64_t m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

std::string plural(int64_t n, const std::string& unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

// A step of `seconds` in words: "1 day", "6 hours", "90 seconds".
std::string durationText(double seconds) {
    const int64_t s = std::llround(seconds);
    if (s % 86400 == 0) return plural(s / 86400, "day");
    if (s % 3600 == 0) return plural(s / 3600, "hour");
    if (s % 60 == 0) return plural(s / 60, "minute");
    return plural(s, "second");
}

std::string numberText(double x) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.10g", x);
    return buffer;
}

std::string where(const Table& table, int64_t row) {
    return "`" + table.name + "` line " + std::to_string(table.lines[size_t(row)]);
}

}  // namespace

std::optional<TimePoint> parseTime(const std::string& text) {
    static const std::regex date(
        R"(^\s*(\d{4})[-/](\d{1,2})(?:[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?)?)?(?:Z)?\s*$)");
    std::smatch m;
    if (std::regex_match(text, m, date)) {
        int64_t year = std::stoll(m[1]), month = std::stoll(m[2]), day = m[3].matched ? std::stoll(m[3]) : 1;
        int64_t hour = m[4].matched ? std::stoll(m[4]) : 0, minute = m[5].matched ? std::stoll(m[5]) : 0;
        double second = m[6].matched ? std::stod(m[6]) : 0;
        if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 ||
            second >= 61)
            return std::nullopt;
        TimePoint t;
        t.date = true;
        t.month = year * 12 + month - 1;
        t.dayOfMonth = day;
        t.secondOfDay = double(hour * 3600 + minute * 60) + second;
        t.key = double(daysFromCivil(year, month, day)) * 86400.0 + t.secondOfDay;
        return t;
    }
    if (auto number = parseNumber(text); number && std::isfinite(*number)) {
        TimePoint t;
        t.key = *number;
        return t;
    }
    return std::nullopt;
}

Series readSeries(const Table& table, const SeriesSpec& spec) {
    Series s;
    s.file = table.name;
    if (spec.targets.empty())
        throw RuntimeError("a series needs at least one target column: write `targets = [\"...\"]`");
    const size_t timeColumn = table.require(spec.time, "the series' time");
    std::vector<size_t> columns;
    for (const auto& name : spec.targets) columns.push_back(table.require(name, "a target of the series"));
    for (const auto& name : spec.inputs) columns.push_back(table.require(name, "an input of the series"));
    s.columns = spec.targets;
    s.columns.insert(s.columns.end(), spec.inputs.begin(), spec.inputs.end());
    s.targetCount = int64_t(spec.targets.size());
    const int64_t n = table.size();
    if (n == 0) throw RuntimeError("`" + table.name + "` has no rows: a series needs one row per time step");

    // Times: one kind, increasing, one row per step.
    std::vector<TimePoint> times;
    for (int64_t r = 0; r < n; ++r) {
        const std::string& cell = table.cell(r, timeColumn);
        auto t = isMissing(cell) ? std::nullopt : parseTime(cell);
        if (!t)
            throw RuntimeError(where(table, r) + ": the time `" + cell + "` in column `" + spec.time +
                               "` is not a date (2014-01-31, 2014/01/31 13:00, 2014-01) or a number; write every "
                               "time in one of these forms");
        if (r > 0 && t->date != times[0].date)
            throw RuntimeError(where(table, r) + ": the time `" + cell + "` is " + (t->date ? "a date" : "a number") +
                               ", but line " + std::to_string(table.lines[0]) + "'s `" + table.cell(0, timeColumn) +
                               "` is " + (times[0].date ? "a date" : "a number") + "; write every time in column `" +
                               spec.time + "` the same way");
        if (r > 0 && t->key <= times.back().key) {
            const std::string& before = table.cell(r - 1, timeColumn);
            if (t->key == times.back().key)
                throw RuntimeError(where(table, r) + ": the time `" + cell + "` is also on line " +
                                   std::to_string(table.lines[size_t(r - 1)]) +
                                   "; a series has one row per time step: remove or merge the repeated rows");
            throw RuntimeError(where(table, r) + ": the time `" + cell + "` comes before `" + before + "` on line " +
                               std::to_string(table.lines[size_t(r - 1)]) +
                               "; a series' rows must be in time order: sort the file by `" + spec.time + "`");
        }
        times.push_back(*t);
        s.time.written.push_back(cell);
        s.time.keys.push_back(t->key);
    }
    s.time.dates = times[0].date;
    if (n > 1) {
        // The step is the smallest difference; a larger one is a gap. Dates
        // on one day of the month at one time of day step by months.
        bool monthly = s.time.dates;
        for (const auto& t : times)
            monthly = monthly && t.dayOfMonth == times[0].dayOfMonth && t.secondOfDay == times[0].secondOfDay;
        auto diff = [&](int64_t r) {
            return monthly ? double(times[size_t(r)].month - times[size_t(r - 1)].month)
                           : times[size_t(r)].key - times[size_t(r - 1)].key;
        };
        double step = diff(1);
        for (int64_t r = 2; r < n; ++r) step = std::min(step, diff(r));
        auto stepText = [&](double steps) {
            if (monthly) return plural(std::llround(steps * step), "month");
            return s.time.dates ? durationText(steps * step) : numberText(steps * step);
        };
        s.time.step = stepText(1);
        for (int64_t r = 1; r < n; ++r) {
            double steps = diff(r) / step;
            if (std::fabs(steps - 1) < 1e-9) continue;
            throw RuntimeError(where(table, r) + ": the series jumps from `" + s.time.written[size_t(r - 1)] +
                               "` (line " + std::to_string(table.lines[size_t(r - 1)]) + ") to `" +
                               s.time.written[size_t(r)] + "`, " + stepText(steps) + " where its step is " +
                               s.time.step +
                               "; a series needs a row at every step: add the missing rows (e.g. with "
                               "the value before), or start the series after the gap");
        }
    } else {
        s.time.step = "1";
    }

    // Values: a number in every cell of every column used.
    s.values.resize(size_t(n) * columns.size());
    for (int64_t r = 0; r < n; ++r)
        for (size_t c = 0; c < columns.size(); ++c) {
            const std::string& cell = table.cell(r, columns[c]);
            const char* role = int64_t(c) < s.targetCount ? "target" : "input";
            if (isMissing(cell))
                throw RuntimeError(where(table, r) + ": the " + std::string(role) + " column `" + s.columns[c] +
                                   "` is empty; a series needs a value at every step: fill it in the file");
            auto x = parseNumber(cell);
            if (!x || !std::isfinite(*x))
                throw RuntimeError(where(table, r) + ": the " + std::string(role) + " column `" + s.columns[c] +
                                   "` holds `" + cell +
                                   "`, not a number; a series forecasts numbers: name numeric "
                                   "columns in `targets` and `inputs`");
            s.values[size_t(r) * columns.size() + c] = *x;
        }
    s.lines = table.lines;
    return s;
}

SeriesScaling measureScaling(const Series& series, const std::vector<Side>& sides, bool scale) {
    const int64_t k = series.columnCount();
    SeriesScaling out{std::vector<double>(size_t(k), 0.0), std::vector<double>(size_t(k), 1.0)};
    if (!scale) return out;
    for (int64_t c = 0; c < k; ++c) {
        double sum = 0, count = 0;
        for (int64_t r = 0; r < series.rows(); ++r)
            if (sides[size_t(r)] == Side::Train) {
                sum += series.value(r, c);
                ++count;
            }
        if (count == 0) continue;
        double mean = sum / count, squares = 0;
        for (int64_t r = 0; r < series.rows(); ++r)
            if (sides[size_t(r)] == Side::Train) squares += (series.value(r, c) - mean) * (series.value(r, c) - mean);
        double std = std::sqrt(squares / count);  // the population deviation, as sklearn's StandardScaler
        out.mean[size_t(c)] = mean;
        out.std[size_t(c)] = std > 1e-12 ? std : 1.0;
    }
    return out;
}

WindowOrigins windowOrigins(const std::vector<Side>& sides, int64_t lookback, int64_t horizon) {
    WindowOrigins out;
    const int64_t n = int64_t(sides.size());
    for (int64_t t = lookback; t + horizon <= n; ++t) {
        Side side = sides[size_t(t)];
        if (side == Side::None) continue;
        bool whole = true;
        for (int64_t h = 1; h < horizon; ++h) whole = whole && sides[size_t(t + h)] == side;
        // Training windows see only training steps: their inputs come before their targets.
        if (side == Side::Train)
            for (int64_t r = t - lookback; r < t; ++r) whole = whole && sides[size_t(r)] == Side::Train;
        if (whole) out[size_t(side)].push_back(t);
    }
    return out;
}

std::vector<float> windowInputs(const Series& series, const SeriesScaling& scaling, const std::vector<int64_t>& origins,
                                int64_t lookback) {
    const int64_t k = series.columnCount();
    std::vector<float> out;
    out.reserve(origins.size() * size_t(lookback * k));
    for (int64_t t : origins)
        for (int64_t r = t - lookback; r < t; ++r)
            for (int64_t c = 0; c < k; ++c)
                out.push_back(float((series.value(r, c) - scaling.mean[size_t(c)]) / scaling.std[size_t(c)]));
    return out;
}

std::vector<float> windowTargets(const Series& series, const SeriesScaling& scaling,
                                 const std::vector<int64_t>& origins, int64_t horizon) {
    std::vector<float> out;
    out.reserve(origins.size() * size_t(horizon * series.targetCount));
    for (int64_t t : origins)
        for (int64_t r = t; r < t + horizon; ++r)
            for (int64_t c = 0; c < series.targetCount; ++c)
                out.push_back(float((series.value(r, c) - scaling.mean[size_t(c)]) / scaling.std[size_t(c)]));
    return out;
}

std::vector<double> lastValueForecast(const Series& series, const std::vector<int64_t>& origins, int64_t horizon) {
    std::vector<double> out;
    for (int64_t t : origins)
        for (int64_t h = 0; h < horizon; ++h)
            for (int64_t c = 0; c < series.targetCount; ++c) out.push_back(series.value(t - 1, c));
    return out;
}

std::vector<double> seasonalNaiveForecast(const Series& series, const std::vector<int64_t>& origins, int64_t horizon,
                                          int64_t season) {
    std::vector<double> out;
    for (int64_t t : origins)
        for (int64_t h = 0; h < horizon; ++h) {
            // Step t + h takes the value of the same step of the last season before t.
            int64_t seasons = h / season + 1;
            int64_t from = t + h - seasons * season;
            if (from < 0)
                throw RuntimeError("the seasonal naive forecast of the window at `" + series.time.written[size_t(t)] +
                                   "` needs the value " + std::to_string(season) +
                                   " steps (`season`) before it, which is before the series starts; lower `season` "
                                   "or start validation later");
            for (int64_t c = 0; c < series.targetCount; ++c) out.push_back(series.value(from, c));
        }
    return out;
}

std::vector<double> naiveScale(const Series& series, const std::vector<Side>& sides, int64_t season) {
    std::vector<double> out;
    for (int64_t c = 0; c < series.targetCount; ++c) {
        double sum = 0;
        int64_t count = 0;
        for (int64_t r = season; r < series.rows(); ++r)
            if (sides[size_t(r)] == Side::Train && sides[size_t(r - season)] == Side::Train) {
                sum += std::fabs(series.value(r, c) - series.value(r - season, c));
                ++count;
            }
        if (count == 0)
            throw RuntimeError("the training span of `" + series.file + "` is no longer than one season (" +
                               std::to_string(season) +
                               " steps), so `mase` has nothing to scale by; lower `season` "
                               "or train on more steps");
        out.push_back(sum / double(count));
    }
    return out;
}

}  // namespace pipelang::runtime
