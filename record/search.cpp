#include "record/search.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace pipelang::record {

Draws::Draws(int64_t seed, uint64_t stream) {
    auto s = static_cast<uint64_t>(seed);
    std::seed_seq sequence{uint32_t(s), uint32_t(s >> 32), uint32_t(stream), uint32_t(stream >> 32)};
    rng_.seed(sequence);
}

double Draws::uniform() {
    return double(rng_() >> 11) * 0x1.0p-53;
}

double Draws::normal() {
    // Box-Muller, from two uniforms; 1 - u keeps the logarithm finite.
    double u = 1.0 - uniform(), v = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * v);
}

size_t Draws::below(size_t n) {
    return n == 0 ? 0 : size_t(rng_() % n);
}

bool ranksBefore(double a, double b, bool higherIsBetter) {
    if (std::isnan(a) || std::isnan(b)) return !std::isnan(a) && std::isnan(b);
    return higherIsBetter ? a > b : a < b;
}

size_t pickByWeight(const std::vector<double>& weights, double u) {
    size_t k = 0;
    for (double sum = 0; k + 1 < weights.size() && (sum += weights[k]) <= u;) ++k;
    return k;
}

DrawSpan drawSpan(const SweepRange& range) {
    double lo = range.lo, hi = range.hi;
    if (range.integer) lo -= 0.5, hi += 0.5;
    if (range.log) lo = std::log(lo), hi = std::log(hi);
    return {lo, hi};
}

std::string rangeValue(const SweepRange& range, double inSpan) {
    double x = range.log ? std::exp(inSpan) : inSpan;
    if (range.integer) {
        double whole = std::clamp(std::round(x), range.lo, range.hi);
        return std::to_string(int64_t(whole));
    }
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4g", x);
    Value v{Value::Kind::Float};
    v.number = std::clamp(std::strtod(buffer, nullptr), range.lo, range.hi);
    return v.str();
}

double spanOf(const SweepRange& range, const std::string& text) {
    char* end = nullptr;
    double x = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) return std::nan("");
    if (range.log) return x > 0 ? std::log(x) : std::nan("");
    return x;
}

std::string drawValue(const SweepAxis& axis, Draws& draws) {
    if (!axis.range) return axis.values.empty() ? std::string() : axis.values[draws.below(axis.values.size())];
    DrawSpan span = drawSpan(*axis.range);
    return rangeValue(*axis.range, span.lo + (span.hi - span.lo) * draws.uniform());
}

std::optional<size_t> finiteSize(const std::vector<SweepAxis>& axes, size_t limit) {
    size_t size = 1;
    for (const auto& axis : axes) {
        if (axis.range && !axis.range->integer) return std::nullopt;
        size_t n = axis.range ? size_t(axis.range->hi - axis.range->lo + 1) : axis.values.size();
        if (n != 0 && size > limit / n) return std::nullopt;
        size *= n;
    }
    return size;
}

std::vector<size_t> shuffledIndices(size_t n, size_t count, int64_t seed) {
    count = std::min(count, n);
    // A partial Fisher-Yates shuffle with a fixed generator (mt19937_64 is
    // the same everywhere).
    std::mt19937_64 rng{static_cast<uint64_t>(seed)};
    std::vector<size_t> index(n);
    for (size_t i = 0; i < n; ++i) index[i] = i;
    for (size_t i = 0; i < count; ++i) std::swap(index[i], index[i + size_t(rng() % (n - i))]);
    index.resize(count);
    return index;
}

std::vector<SweepPoint> shuffledPoints(const std::vector<SweepAxis>& axes, size_t count, int64_t seed) {
    std::vector<SweepPoint> grid = gridPoints(axes);
    std::vector<SweepPoint> out;
    for (size_t i : shuffledIndices(grid.size(), count, seed)) out.push_back(grid[i]);
    return out;
}

std::vector<SweepPoint> drawnPoints(const std::vector<SweepAxis>& axes, size_t count, int64_t seed) {
    if (finiteSize(axes)) return shuffledPoints(axes, count, seed);
    Draws draws(seed);
    std::vector<SweepPoint> out;
    for (size_t i = 0; i < count; ++i) {
        SweepPoint p;
        for (const auto& axis : axes) p.push_back({axis.key, drawValue(axis, draws)});
        out.push_back(std::move(p));
    }
    return out;
}

namespace {

// The sweep ranges, as the checker resolved them: a number range, or
// `choice`'s list of values.
void readNumbers(const Value& call, SweepAxis& axis) {
    const Value* lo = call.arg("lo");
    const Value* hi = call.arg("hi");
    const Value* log = call.arg("log");
    if (!lo || !hi) throw RecordError("internal error: `" + call.str() + "` was not resolved");
    axis.range = SweepRange{call.text, lo->number, hi->number, call.text == "loguniform" || (log && log->boolean),
                            call.text == "int_range"};
}
const RangeReaders::Add kUniform{"uniform", readNumbers};
const RangeReaders::Add kLogUniform{"loguniform", readNumbers};
const RangeReaders::Add kIntRange{"int_range", readNumbers};

void readChoice(const Value& call, SweepAxis& axis) {
    const Value* values = call.arg("values");
    if (!values) throw RecordError("internal error: `" + call.str() + "` was not resolved");
    for (const auto& item : values->items) axis.values.push_back(item.str());
}
const RangeReaders::Add kChoice{"choice", readChoice};

}  // namespace

std::string SweepRange::str() const {
    auto number = [&](double x) {
        Value v{integer ? Value::Kind::Int : Value::Kind::Float};
        v.integer = int64_t(x);
        v.number = x;
        return v.str();
    };
    return name + "(" + number(lo) + ", " + number(hi) + (integer && log ? ", log = true" : "") + ")";
}

}  // namespace pipelang::record
