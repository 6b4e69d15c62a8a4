// <stage>/valid_predictions.csv: what a trained model predicts for every item
// of its validation split, one row per item in the split's order, named by
// its row in the source table where the data block says (`<data>/items.csv`).
// `pipe cv` pools these across folds into out-of-fold predictions.
//
//     row,target,prediction[,p_<class>...]
//
// `row` is the item's row in the source (0: the first row), or its position in
// the validation split when the data does not name rows; `target` and
// `prediction` are class names for a category target (with one probability
// column per class) and numbers for a number target.
#pragma once

#include <filesystem>

#include "runtime/data/dataset.h"
#include "runtime/models/network.h"

namespace pipelang::runtime {

// Writes the file for a category or number target; returns false (writing
// nothing) for other targets or when there is no validation split.
bool writeValidPredictions(Network& network, const PreparedData& data, const Section& dataSection,
                           const torch::Device& device, const std::filesystem::path& itemsCsv,
                           const std::filesystem::path& file);

}  // namespace pipelang::runtime
