// `pipe cv FILE`: every fold of a k-fold splitter (`kfold`, `stratified_kfold`,
// `group_kfold`) as a run of its own — a sweep over the data block's `fold` —
// then the out-of-fold predictions (every item predicted by the one fold
// that held it out) and a score table: each fold's final metrics, their mean
// and standard deviation, and every metric measured again on the pooled
// out-of-fold predictions.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "interpreter/pipeline.h"
#include "record/sweep.h"

namespace pipelang::record {

struct FoldsPlan {
    std::string data;   // the data block split into folds
    std::string stage;  // the train stage whose validation predictions are pooled
    int64_t k = 0;
    const Value* metrics = nullptr;  // the train stage's `metrics`, in the pipeline
};

// The folds of the pipeline's last train stage's data. Throws RecordError
// when that data block's split is not a k-fold splitter.
FoldsPlan foldsPlan(const Pipeline& pipeline);

// The sweep points: `<data>.fold = 0` ... `k - 1`.
std::vector<SweepPoint> foldPoints(const FoldsPlan& plan);

struct CrossValidation {
    std::string oofCsv;  // row,fold,target,prediction[,p_<class>...], sorted by row
    std::string table;   // per fold, mean, std, pooled
    std::string csv;     // the same table as CSV: fold,run,<metrics...>
    int64_t items = 0;   // rows in the out-of-fold predictions
};

// Pools the folds' `<stage>/valid_predictions.csv` (fold i is `runs[i]`) and
// scores them. Throws RecordError when a fold's predictions are missing or
// malformed, or an item was predicted by two folds.
// Every metric of the folds' table is scored again on the pooled
// predictions, with its arguments from `metrics` (the train stage's list;
// registry defaults when null).
CrossValidation crossValidate(const std::vector<PointResult>& folds, const std::filesystem::path& sweepDir,
                              const std::string& stage, const Value* metrics = nullptr);

}  // namespace pipelang::record
