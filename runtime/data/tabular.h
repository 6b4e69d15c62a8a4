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

// What is learned from the training rows: enough to encode any other table
// with the same columns (as `pipe predict` does).
struct TabularStats {
    std::vector<std::string> cont, cat;
    std::vector<std::string> features;                 // continuous columns, then "NAME_na" indicators
    std::vector<double> medians, means, stds;          // per continuous column
    std::vector<int> indicator;                        // per continuous column: its indicator's feature, or -1
    std::vector<std::vector<std::string>> categories;  // per categorical column: its training values

    int64_t featureCount() const { return int64_t(features.size()); }
};

struct Tabular {
    TabularStats stats;
    std::vector<float> x;        // rows × features
    std::vector<int64_t> codes;  // rows × cat columns
    // Categorical values never seen in training (coded 0, as a missing one),
    // once each, as `column "value"`: predict names them.
    std::vector<std::string> unseen;
};

// The rows whose feature cells are all present (for missing = "drop").
std::vector<int64_t> rowsWithoutMissing(const Table& table, const TabularSpec& spec);

// Encodes every row of `table`; statistics from the rows on Side::Train.
Tabular encodeTabular(const Table& table, const TabularSpec& spec, const std::vector<Side>& sides);

// Encodes every row of `table` with statistics learned before: missing cells
// filled with the medians, categories never seen coded 0.
Tabular applyTabular(const Table& table, const TabularStats& stats);

}  // namespace pipelang::runtime
