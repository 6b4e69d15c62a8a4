// The `tabular` block: a table's feature columns made into model inputs,
// with everything learned from the training rows only (fastai's
// FillMissing, Normalize and Categorify):
//  - continuous columns: a missing cell is filled with the column's training
//    median, and, when the column has missing cells in training, an
//    is-missing indicator (0/1) column is added; then each column is
//    normalised with its training mean and standard deviation. Indicators
//    follow the continuous columns and are not normalised.
//  - categorical columns: codes 1..K for the training values in sorted
//    order; 0 for a missing cell or a value never seen in training.
#pragma once

#include <string>
#include <vector>

#include "runtime/data/splits.h"
#include "runtime/data/table.h"

namespace pipelang::runtime {

struct TabularSpec {
    std::vector<std::string> cont, cat;
    bool dropMissing = false;  // missing = "drop"
};

struct Tabular {
    std::vector<std::string> features;                // continuous columns, then "NAME_na" indicators
    std::vector<double> medians, means, stds;          // per continuous column (before indicators)
    std::vector<std::vector<std::string>> categories;  // per categorical column: its training values
    std::vector<float> x;                              // rows × features
    std::vector<int64_t> codes;                        // rows × cat columns

    int64_t featureCount() const { return int64_t(features.size()); }
};

// The rows whose feature cells are all present (for missing = "drop").
std::vector<int64_t> rowsWithoutMissing(const Table& table, const TabularSpec& spec);

// Encodes every row of `table`; statistics from the rows on Side::Train.
Tabular encodeTabular(const Table& table, const TabularSpec& spec, const std::vector<Side>& sides);

}  // namespace pipelang::runtime
