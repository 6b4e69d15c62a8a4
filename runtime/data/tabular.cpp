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
    Tabular t;
    const size_t n = size_t(table.size());
    std::vector<std::vector<double>> columns;
    std::vector<std::vector<float>> indicators;
    std::vector<std::string> indicatorNames;
    for (const auto& name : spec.cont) {
        auto values = numbers(table, table.require(name, "a continuous feature"));
        std::vector<double> train;
        bool trainMissing = false;
        for (size_t r = 0; r < n; ++r)
            if (sides[r] == Side::Train) {
                if (std::isnan(values[r])) trainMissing = true;
                else train.push_back(values[r]);
            }
        if (train.empty())
            throw RuntimeError("the continuous column `" + name +
                               "` has no values in the training rows; fill it in or remove it from `cont`.");
        double fill = median(train);
        if (trainMissing) {
            std::vector<float> flag(n);
            for (size_t r = 0; r < n; ++r) flag[r] = std::isnan(values[r]) ? 1.f : 0.f;
            indicators.push_back(std::move(flag));
            indicatorNames.push_back(name + "_na");
        }
        double sum = 0, squares = 0;
        int64_t count = 0;
        for (size_t r = 0; r < n; ++r) {
            if (std::isnan(values[r])) values[r] = fill;
            if (sides[r] == Side::Train) sum += values[r], ++count;
        }
        double mean = sum / double(count);
        for (size_t r = 0; r < n; ++r)
            if (sides[r] == Side::Train) squares += (values[r] - mean) * (values[r] - mean);
        double std = std::sqrt(squares / double(count));  // as fastai: the population deviation
        if (!(std > 1e-12)) std = 1;  // a constant column stays at 0
        t.features.push_back(name);
        t.medians.push_back(fill);
        t.means.push_back(mean);
        t.stds.push_back(std);
        columns.push_back(std::move(values));
    }
    t.features.insert(t.features.end(), indicatorNames.begin(), indicatorNames.end());
    const size_t f = t.features.size();
    t.x.resize(n * f);
    for (size_t r = 0; r < n; ++r) {
        float* row = t.x.data() + r * f;
        for (size_t c = 0; c < columns.size(); ++c) row[c] = float((columns[c][r] - t.means[c]) / t.stds[c]);
        for (size_t c = 0; c < indicators.size(); ++c) row[columns.size() + c] = indicators[c][r];
    }

    const size_t k = spec.cat.size();
    t.codes.resize(n * k);
    for (size_t c = 0; c < k; ++c) {
        size_t column = table.require(spec.cat[c], "a categorical feature");
        std::set<std::string> seen;
        for (size_t r = 0; r < n; ++r)
            if (sides[r] == Side::Train && !isMissing(table.cell(int64_t(r), column)))
                seen.insert(table.cell(int64_t(r), column));
        t.categories.push_back(sortedClasses({seen.begin(), seen.end()}));
        std::map<std::string, int64_t> code;
        for (size_t i = 0; i < t.categories.back().size(); ++i) code[t.categories.back()[i]] = int64_t(i) + 1;
        for (size_t r = 0; r < n; ++r) {
            auto it = code.find(table.cell(int64_t(r), column));
            t.codes[r * k + c] = it == code.end() ? 0 : it->second;
        }
    }
    return t;
}

}  // namespace pipelang::runtime
