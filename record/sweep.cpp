#include "record/sweep.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <toml.hpp>

#include "record/search.h"
#include "record/tpe.h"

namespace pipelang::record {

namespace fs = std::filesystem;

namespace {

std::string csvCell(const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string numberText(double v) {
    if (std::isnan(v)) return "nan";
    char buffer[32];
    double magnitude = std::fabs(v);
    std::snprintf(buffer, sizeof buffer, magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e5) ? "%.3e" : "%.6f", v);
    return buffer;
}

const double* metricOf(const PointResult& r, const std::string& metric) {
    for (const auto& [name, value] : r.metrics)
        if (name == metric && !std::isnan(value)) return &value;
    return nullptr;
}

// The union of the metric names of every point, in first-seen order.
std::vector<std::string> metricNames(const std::vector<PointResult>& results) {
    std::vector<std::string> names;
    for (const auto& r : results)
        for (const auto& [name, value] : r.metrics)
            if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    return names;
}

std::vector<std::string> keyNames(const std::vector<PointResult>& results) {
    std::vector<std::string> keys;
    for (const auto& r : results)
        for (const auto& [key, value] : r.point)
            if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    return keys;
}

std::string valueOf(const SweepPoint& point, const std::string& key) {
    for (const auto& [k, v] : point)
        if (k == key) return v;
    return "";
}

std::string metricCell(const PointResult& r, const std::string& name) {
    for (const auto& [n, v] : r.metrics)
        if (n == name) return numberText(v);
    return "";
}

}  // namespace

bool hasSweep(const Pipeline& pipeline) {
    return !pipeline.all("sweep").empty();
}

SweepPlan sweepPlan(const Pipeline& pipeline) {
    SweepPlan plan;
    auto sweeps = pipeline.all("sweep");
    if (sweeps.empty()) return plan;
    const Section& sweep = *sweeps.front();
    for (const auto& [key, value] : sweep.fields) {
        if (key == "strategy") {
            if (value.kind == Value::Kind::Call) plan.strategy = &value;
            if (const Value* trials = value.arg("trials"); trials && value.text == "random") {
                plan.random = true;
                plan.trials = trials->integer;
                plan.seed = value.arg("seed")->integer;
            }
        } else if (key == "metric") {
            if (value.kind == Value::Kind::String) plan.metric = value.text;
        } else if (value.kind == Value::Kind::List) {
            SweepAxis axis{key, {}};
            for (const auto& item : value.items) axis.values.push_back(item.str());
            plan.axes.push_back(std::move(axis));
        } else if (value.kind == Value::Kind::Call) {
            const RangeReader* read = RangeReaders::find(value.text);
            if (!read) throw RecordError("internal error: sweep range `" + value.text + "` has no implementation");
            SweepAxis axis{key, {}};
            (*read)(value, axis);
            plan.axes.push_back(std::move(axis));
        }
    }
    return plan;
}

std::vector<SweepPoint> gridPoints(const std::vector<SweepAxis>& axes) {
    std::vector<SweepPoint> out = {{}};
    for (const auto& axis : axes) {
        std::vector<std::string> values = axis.values;
        if (axis.range && !axis.range->integer)
            throw RecordError("`" + axis.key + " = " + axis.range->str() + "` has no finite set of values for `grid`");
        if (axis.range)
            for (auto v = int64_t(axis.range->lo); v <= int64_t(axis.range->hi); ++v)
                values.push_back(std::to_string(v));
        std::vector<SweepPoint> next;
        for (const auto& partial : out)
            for (const auto& value : values) {
                SweepPoint p = partial;
                p.push_back({axis.key, value});
                next.push_back(std::move(p));
            }
        out = std::move(next);
    }
    return out;
}

std::vector<SweepPoint> randomPoints(const std::vector<SweepAxis>& axes, int64_t trials, int64_t seed) {
    size_t count = size_t(std::max<int64_t>(0, trials));
    if (!finiteSize(axes)) return drawnPoints(axes, count, seed);
    // Distinct combinations, drawn in a seeded shuffle, then back in grid order.
    std::vector<SweepPoint> grid = gridPoints(axes);
    if (count >= grid.size()) return grid;
    std::vector<size_t> chosen = shuffledIndices(grid.size(), count, seed);
    std::sort(chosen.begin(), chosen.end());
    std::vector<SweepPoint> out;
    for (size_t i : chosen) out.push_back(grid[i]);
    return out;
}

Strategy fixedStrategy(std::vector<SweepPoint> points) {
    Strategy s;
    s.count = points.size();
    s.propose = [points = std::move(points)](size_t k, const SweepHistory&) { return points.at(k); };
    return s;
}

namespace {

int64_t intArg(const Value& call, const char* name) {
    const Value* v = call.arg(name);
    if (!v) throw RecordError("internal error: `" + call.str() + "` was not resolved");
    return v->integer;
}

const StrategyMakers::Add kGrid{
    "grid", [](const Value&, const std::vector<SweepAxis>& axes) { return fixedStrategy(gridPoints(axes)); }};

Strategy randomStrategy(const Value& call, const std::vector<SweepAxis>& axes) {
    return fixedStrategy(randomPoints(axes, intArg(call, "trials"), intArg(call, "seed")));
}
const StrategyMakers::Add kRandom{"random", randomStrategy};

// TPE chooses each point as it starts, from those finished (record/tpe.h).
Strategy tpeStrategy(const Value& call, const std::vector<SweepAxis>& axes) {
    TpeSettings settings;
    settings.seed = intArg(call, "seed");
    settings.startup = size_t(intArg(call, "startup"));
    Strategy s;
    s.count = size_t(intArg(call, "trials"));
    s.adaptive = true;
    s.propose = [axes, settings](size_t k, const SweepHistory& before) { return tpePoint(axes, k, before, settings); };
    return s;
}
const StrategyMakers::Add kTpe{"tpe", tpeStrategy};

// ASHA runs points drawn as `random` draws them, in the order drawn (so
// that the first points to reach a rung are no neighbours in the grid), and
// stops the weak ones at its rungs (record/asha.h).
Strategy ashaStrategy(const Value& call, const std::vector<SweepAxis>& axes) {
    Strategy s = fixedStrategy(drawnPoints(axes, size_t(intArg(call, "trials")), intArg(call, "seed")));
    s.rungs = Rungs{intArg(call, "min_epochs"), intArg(call, "reduction")};
    return s;
}
const StrategyMakers::Add kAsha{"asha", ashaStrategy};

}  // namespace

Strategy strategyOf(const SweepPlan& plan) {
    if (!plan.strategy) return fixedStrategy(gridPoints(plan.axes));
    const StrategyMaker* maker = StrategyMakers::find(plan.strategy->text);
    if (!maker) throw RecordError("internal error: strategy `" + plan.strategy->text + "` has no implementation");
    return (*maker)(*plan.strategy, plan.axes);
}

std::vector<SweepPoint> points(const SweepPlan& plan) {
    Strategy s = strategyOf(plan);
    if (s.adaptive)
        throw RecordError("`" + plan.describe() + "` chooses each point from the results of those before it");
    std::vector<SweepPoint> out;
    for (size_t k = 0; k < s.count; ++k) out.push_back(s.propose(k, {}));
    return out;
}

std::vector<size_t> rankPoints(const std::vector<PointResult>& results, const std::string& metric) {
    std::vector<size_t> order(results.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    bool higher = higherIsBetter(metric);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        const double* x = results[a].status == "finished" ? metricOf(results[a], metric) : nullptr;
        const double* y = results[b].status == "finished" ? metricOf(results[b], metric) : nullptr;
        if (!x || !y) return x && !y;  // points with the metric first
        return higher ? *x > *y : *x < *y;
    });
    return order;
}

std::string renderSweepTable(const std::vector<PointResult>& results, const std::vector<size_t>& order,
                             const std::string& metric) {
    std::vector<std::string> keys = keyNames(results), metrics = metricNames(results);
    std::vector<std::string> header = {"", "run"};
    header.insert(header.end(), keys.begin(), keys.end());
    header.insert(header.end(), metrics.begin(), metrics.end());
    header.push_back("time");
    std::vector<std::vector<std::string>> rows;
    for (size_t rank = 0; rank < order.size(); ++rank) {
        const PointResult& r = results[order[rank]];
        bool best = rank == 0 && r.status == "finished" && metricOf(r, metric);
        std::vector<std::string> row = {best ? "*" : "", r.run};
        for (const auto& k : keys) row.push_back(valueOf(r.point, k));
        if (r.status != "finished") {
            row.push_back(r.status + ": " + r.error);
        } else {
            for (const auto& m : metrics) row.push_back(metricCell(r, m));
            char took[32];
            std::snprintf(took, sizeof took, "%.1f s", r.seconds);
            row.push_back(took);
        }
        rows.push_back(std::move(row));
    }
    std::vector<size_t> width(header.size(), 0);
    for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
    for (const auto& row : rows)
        for (size_t c = 0; c + 1 < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (size_t c = 0; c < cells.size(); ++c) {
            out += cells[c];
            if (c + 1 < cells.size()) out += std::string(width[c] - std::min(width[c], cells[c].size()) + 2, ' ');
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();
        return out + "\n";
    };
    std::string out = line(header);
    for (const auto& row : rows) out += line(row);
    std::string direction = higherIsBetter(metric) ? "higher is better" : "lower is better";
    out += "ranked by " + metric + " (" + direction + ")";
    if (!order.empty() && results[order[0]].status == "finished" && metricOf(results[order[0]], metric))
        out += "; * best: " + results[order[0]].run + ", " + metric + " " +
               numberText(*metricOf(results[order[0]], metric));
    return out + "\n";
}

std::string sweepCsv(const std::vector<PointResult>& results, const std::vector<size_t>& order) {
    std::vector<std::string> keys = keyNames(results), metrics = metricNames(results);
    std::string out = "rank,best,run,status";
    for (const auto& k : keys) out += "," + csvCell(k);
    for (const auto& m : metrics) out += "," + csvCell(m);
    out += ",seconds,error\n";
    for (size_t rank = 0; rank < order.size(); ++rank) {
        const PointResult& r = results[order[rank]];
        bool finished = r.status == "finished" && !r.metrics.empty();
        out += std::to_string(rank + 1) + "," + (rank == 0 && finished ? "1" : "0") + "," + csvCell(r.run) + "," +
               r.status;
        for (const auto& k : keys) out += "," + csvCell(valueOf(r.point, k));
        for (const auto& m : metrics) out += "," + metricCell(r, m);
        char took[32];
        std::snprintf(took, sizeof took, "%.2f", r.seconds);
        out += std::string(",") + took + "," + csvCell(r.error) + "\n";
    }
    return out;
}

std::vector<std::pair<std::string, double>> finalMetrics(const fs::path& runDir, const std::string& metric) {
    std::vector<std::pair<std::string, double>> out;
    toml::value record;
    try {
        record = toml::parse((runDir / "record.toml").string());
    } catch (const std::exception&) {
        return out;
    }
    if (!record.contains("stages")) return out;
    // Train stages are those with epochs; the record keeps them sorted by name,
    // so the stage that measures `metric` is found by name, the last one wins.
    const toml::value* chosen = nullptr;
    for (const auto& [name, stage] : toml::find(record, "stages").as_table()) {
        if (!stage.contains("epochs") || !stage.contains("metrics")) continue;
        if (!chosen || toml::find(stage, "metrics").contains(metric)) chosen = &stage;
    }
    if (!chosen) return out;
    const auto& metrics = toml::find(*chosen, "metrics").as_table();
    // train_loss and valid_loss first, then the stage's metrics.
    for (const char* first : {"train_loss", "valid_loss"})
        if (metrics.count(first) && metrics.at(first).is_floating())
            out.push_back({first, metrics.at(first).as_floating()});
    for (const auto& [name, value] : metrics)
        if (name != "train_loss" && name != "valid_loss" && (value.is_floating() || value.is_integer()))
            out.push_back({name, value.is_floating() ? value.as_floating() : double(value.as_integer())});
    return out;
}

std::string exactNumber(double v) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.17g", v);
    return buffer;
}

bool isSweepDirectory(const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir / "sweep.csv", ec);
}

std::vector<std::string> csvCells(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"')
            out.back() += '"', ++i;
        else if (c == '"')
            quoted = !quoted;
        else if (c == ',' && !quoted)
            out.emplace_back();
        else if (c != '\r')
            out.back() += c;
    }
    return out;
}

}  // namespace pipelang::record
