#include "record/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "interpreter/compile.h"
#include "record/run.h"

namespace pipelang::record {

namespace fs = std::filesystem;

namespace {

using Settings = std::vector<std::pair<std::string, std::string>>;

void flatten(const std::string& key, const Value& v, Settings& out) {
    if (v.kind != Value::Kind::Call) {
        out.push_back({key, v.str()});
        return;
    }
    out.push_back({key, v.text});
    for (size_t i = 0; i < v.items.size(); ++i) flatten(key + "." + v.names[i], v.items[i], out);
}

// The run's settings, compiled again from its own copy of the source.
Settings runSettings(const fs::path& dir) {
    auto c = compileRun(dir);
    if (!c->ok())
        throw RecordError(dir.string() + ": the run's recorded pipeline no longer checks (an imported file may " +
                          "have changed):\n" + render(c->diags));
    return flattenSettings(c->pipeline);
}

std::string seconds(double total) {
    char buffer[32];
    if (total < 60)
        std::snprintf(buffer, sizeof buffer, "%.1fs", total);
    else
        std::snprintf(buffer, sizeof buffer, "%dm%02ds", int(total / 60), int(std::fmod(total, 60)));
    return buffer;
}

// One row of results for a run: its stages' last epochs.
std::map<std::string, std::string> results(const RunRecord& run, bool prefixStage) {
    std::map<std::string, std::string> out;
    for (const auto& stage : run.stages) {
        const Table& m = stage.metrics;
        std::string prefix = prefixStage ? stage.name + "." : "";
        out[prefix + "epochs"] = std::to_string(m.rows.size());
        if (m.rows.empty()) continue;
        for (size_t i = 0; i < m.columns.size(); ++i)
            if (m.columns[i] != "epoch" && m.columns[i] != "time") out[prefix + m.columns[i]] = m.text.back()[i];
        if (int time = m.column("time"); time >= 0) {
            double total = 0;
            for (const auto& row : m.rows) total += std::isfinite(row[time]) ? row[time] : 0;
            out[prefix + "time"] = seconds(total);
        }
    }
    return out;
}

// Characters, not bytes: values may hold UTF-8.
size_t displayWidth(const std::string& s) {
    return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

// A cell of at most kMaxCell characters: a long value (a list of transforms,
// a path) ends in `...`; plan.txt in the run holds it whole.
constexpr size_t kMaxCell = 40;
std::string shorten(const std::string& cell) {
    if (displayWidth(cell) <= kMaxCell) return cell;
    std::string out;
    size_t chars = 0;
    for (char ch : cell) {
        bool starts = (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
        if (starts && ++chars > kMaxCell - 3) break;
        out += ch;
    }
    return out + "...";
}

// Rows of cells in aligned columns, two spaces apart.
std::string layout(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()), 0);
        for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], displayWidth(row[i]));
    }
    std::string out;
    for (const auto& row : rows) {
        for (size_t i = 0; i < row.size(); ++i)
            out += row[i] + (i + 1 < row.size() ? std::string(widths[i] - displayWidth(row[i]) + 2, ' ') : "");
        out += "\n";
    }
    return out;
}

size_t maxLineWidth(const std::string& text) {
    size_t widest = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) widest = std::max(widest, displayWidth(line));
    return widest;
}

void addOnce(std::vector<std::string>& names, const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

}  // namespace

Settings flattenSettings(const Pipeline& pipeline) {
    Settings out;
    out.push_back({"seed", pipeline.seed ? std::to_string(*pipeline.seed) : "none"});
    std::map<std::string, int> seen;  // unnamed `evaluate` and `export` statements may repeat
    for (const auto& section : pipeline.sections) {
        // An unnamed `evaluate`/`export` is known by its kind, not by its implied name.
        std::string name = section.named ? section.name : section.kind;
        int n = ++seen[name];
        std::string prefix = n == 1 ? name : name + "#" + std::to_string(n);
        for (const auto& [field, value] : section.fields) flatten(prefix + "." + field, value, out);
    }
    return out;
}

Comparison compareRuns(const std::vector<fs::path>& dirs) {
    Comparison c;
    std::vector<RunRecord> runs;
    std::vector<std::map<std::string, std::string>> settings;
    std::vector<std::string> keys;
    for (const auto& dir : dirs) {
        runs.push_back(readRun(dir));
        c.runs.push_back(runs.back().name);
        std::map<std::string, std::string> values;
        for (const auto& [key, value] : runSettings(dir)) {
            values[key] = value;
            addOnce(keys, key);
        }
        settings.push_back(std::move(values));
    }
    auto valueOf = [](const std::map<std::string, std::string>& values, const std::string& key) {
        auto at = values.find(key);
        return at == values.end() ? std::string("-") : at->second;
    };
    for (const auto& key : keys) {
        bool differs = std::any_of(settings.begin(), settings.end(), [&](const auto& values) {
            return valueOf(values, key) != valueOf(settings[0], key);
        });
        if (differs) c.settings.push_back(key);
    }
    for (const auto& values : settings) {
        c.values.emplace_back();
        for (const auto& key : c.settings) c.values.back().push_back(valueOf(values, key));
    }

    // Metrics under their stage's name only when the runs have several stages.
    std::vector<std::string> stages;
    for (const auto& run : runs)
        for (const auto& stage : run.stages) addOnce(stages, stage.name);
    bool prefix = stages.size() > 1;
    for (const auto& stage : stages) {
        std::string p = prefix ? stage + "." : "";
        std::vector<std::string> columns = {p + "epochs", p + "train_loss", p + "valid_loss"};
        for (const auto& run : runs)
            for (const auto& s : run.stages)
                if (s.name == stage)
                    for (const auto& column : s.metrics.columns)
                        if (column != "epoch" && column != "time") addOnce(columns, p + column);
        columns.push_back(p + "time");
        for (const auto& column : columns) c.metrics.push_back(column);
    }
    for (const auto& run : runs) {
        auto row = results(run, prefix);
        c.results.emplace_back();
        for (const auto& metric : c.metrics) c.results.back().push_back(valueOf(row, metric));
    }
    return c;
}

std::string renderComparison(const Comparison& c, size_t width) {
    // One row per run reads best (a sweep: many runs, a few settings); where
    // that is wider than `width`, one row per setting and a column per run.
    std::vector<std::string> header = {"run"};
    header.insert(header.end(), c.settings.begin(), c.settings.end());
    header.insert(header.end(), c.metrics.begin(), c.metrics.end());
    std::vector<std::vector<std::string>> rows = {header};
    for (size_t r = 0; r < c.runs.size(); ++r) {
        rows.push_back({c.runs[r]});
        rows.back().insert(rows.back().end(), c.values[r].begin(), c.values[r].end());
        rows.back().insert(rows.back().end(), c.results[r].begin(), c.results[r].end());
    }
    for (auto& row : rows)
        for (auto& cell : row) cell = shorten(cell);
    std::string table = layout(rows);
    if (maxLineWidth(table) > width) {
        std::vector<std::vector<std::string>> columns(header.size());
        for (const auto& row : rows)
            for (size_t i = 0; i < row.size(); ++i) columns[i].push_back(row[i]);
        columns[0][0] = "";
        table = layout(columns);
    }
    if (c.runs.size() > 1 && c.settings.empty()) table = "the runs' settings are the same\n" + table;
    return table;
}

}  // namespace pipelang::record
