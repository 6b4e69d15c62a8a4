#include "runtime/data/tabular.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "runtime/data/targets.h"
#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

// A continuous column as numbers, NaN where a cell is missing.
std::vector<double> numbers(const Table& table, size_t column) {
    std::vector<double> out(size_t(table.size()));
    for (int64_t r = 0; r < table.size(); ++r) {
        const std::string& cell = table.cell(r, column);
        if (isMissing(cell)) {
            out[size_t(r)] = std::numeric_limits<double>::quiet_NaN();
            continue;
        }
        auto v = parseNumber(cell);
        if (!v)
            throw RuntimeError("`" + table.name + "` line " + std::to_string(table.lines[size_t(r)]) + ": `" + cell +
                               "` in the continuous column `" + table.columns[column] +
                               "` is not a number; fix the cell, or list the column under `cat`.");
        out[size_t(r)] = *v;
    }
    return out;
}

double median(std::vector<double> values) {
    size_t n = values.size(), mid = n / 2;
    std::nth_element(values.begin(), values.begin() + long(mid), values.end());
    double upper = values[mid];
    if (n % 2) return upper;
    double lower = *std::max_element(values.begin(), values.begin() + long(mid));
    return (lower + upper) / 2;
}

}  // namespace

std::vector<int64_t> rowsWithoutMissing(const Table& table, const TabularSpec& spec) {
    std::vector<size_t> columns;
    for (const auto& name : spec.cont) columns.push_back(table.require(name, "a continuous feature"));
    for (const auto& name : spec.cat) columns.push_back(table.require(name, "a categorical feature"));
    std::vector<int64_t> keep;
    for (int64_t r = 0; r < table.size(); ++r)
        if (std::none_of(columns.begin(), columns.end(), [&](size_t c) { return isMissing(table.cell(r, c)); }))
            keep.push_back(r);
    return keep;
}

Tabular encodeTabular(const Table& table, const TabularSpec& spec, const std::vector<Side>& sides) {
    TabularStats stats;
    stats.cont = spec.cont;
    stats.cat = spec.cat;
    stats.features = spec.cont;
    const size_t n = size_t(table.size());
    for (const auto& name : spec.cont) {
        auto values = numbers(table, table.require(name, "a continuous feature"));
        std::vector<double> train;
        bool trainMissing = false;
        for (size_t r = 0; r < n; ++r)
            if (sides[r] == Side::Train) {
                if (std::isnan(values[r]))
                    trainMissing = true;
                else
                    train.push_back(values[r]);
            }
        if (train.empty())
            throw RuntimeError("the continuous column `" + name +
                               "` has no values in the training rows; fill it in or remove it from `cont`.");
        double fill = median(train);
        // Mean and deviation after filling, as fastai (FillMissing, then Normalize).
        double sum = 0, squares = 0;
        for (double v : train) sum += v;
        size_t count = train.size();
        if (trainMissing) {
            size_t missing = 0;
            for (size_t r = 0; r < n; ++r) missing += sides[r] == Side::Train && std::isnan(values[r]);
            sum += fill * double(missing);
            count += missing;
        }
        double mean = sum / double(count);
        for (size_t r = 0; r < n; ++r)
            if (sides[r] == Side::Train) {
                double v = std::isnan(values[r]) ? fill : values[r];
                squares += (v - mean) * (v - mean);
            }
        double std = std::sqrt(squares / double(count));  // as fastai: the population deviation
        if (!(std > 1e-12)) std = 1;                      // a constant column stays at 0
        stats.medians.push_back(fill);
        stats.means.push_back(mean);
        stats.stds.push_back(std);
        stats.indicator.push_back(trainMissing ? int(stats.features.size()) : -1);
        if (trainMissing) stats.features.push_back(name + "_na");
    }
    for (const auto& name : spec.cat) {
        size_t column = table.require(name, "a categorical feature");
        std::set<std::string> seen;
        for (size_t r = 0; r < n; ++r)
            if (sides[r] == Side::Train && !isMissing(table.cell(int64_t(r), column)))
                seen.insert(table.cell(int64_t(r), column));
        stats.categories.push_back(sortedClasses({seen.begin(), seen.end()}));
    }
    return applyTabular(table, stats);
}

Tabular applyTabular(const Table& table, const TabularStats& stats) {
    Tabular t;
    t.stats = stats;
    const size_t n = size_t(table.size()), f = stats.features.size(), k = stats.cat.size();
    t.x.assign(n * f, 0.f);
    for (size_t c = 0; c < stats.cont.size(); ++c) {
        auto values = numbers(table, table.require(stats.cont[c], "a continuous feature"));
        for (size_t r = 0; r < n; ++r) {
            float* row = t.x.data() + r * f;
            bool missing = std::isnan(values[r]);
            row[c] = float(((missing ? stats.medians[c] : values[r]) - stats.means[c]) / stats.stds[c]);
            if (stats.indicator[c] >= 0) row[stats.indicator[c]] = missing ? 1.f : 0.f;
        }
    }
    t.codes.assign(n * k, 0);
    for (size_t c = 0; c < k; ++c) {
        size_t column = table.require(stats.cat[c], "a categorical feature");
        std::map<std::string, int64_t> code;
        for (size_t i = 0; i < stats.categories[c].size(); ++i) code[stats.categories[c][i]] = int64_t(i) + 1;
        std::set<std::string> unseen;
        for (size_t r = 0; r < n; ++r) {
            const std::string& cell = table.cell(int64_t(r), column);
            auto it = code.find(cell);
            t.codes[r * k + c] = it == code.end() ? 0 : it->second;
            if (it == code.end() && !isMissing(cell) && unseen.insert(cell).second)
                t.unseen.push_back("`" + stats.cat[c] + "` \"" + cell + "\"");
        }
    }
    return t;
}

}  // namespace pipelang::runtime
