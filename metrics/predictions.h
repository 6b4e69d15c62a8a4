// Metrics, once: every metric of the registry's `metric` family is one
// function here, over a split's predictions as plain numbers. Training and
// `evaluate` (runtime/train/metrics.h), `pipe interpret`, and the pooled
// out-of-fold score of `pipe cv` (record/cross_validation.cpp) all score
// through it, so a metric cannot mean two things. No LibTorch here: the
// front end's tools use it too.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "interpreter/pipeline.h"
#include "stdlib/implementations.h"

namespace pipelang::metrics {

// A split's predictions, gathered: `rows` items, each with `columns` outputs.
struct Predictions {
    std::string target;            // the target kind: category, multi_category, number, series or tokens
    int64_t rows = 0;              // items (tokens: predicted tokens)
    int64_t columns = 0;           // outputs per item: classes, labels or values
    std::vector<float> outputs;    // rows × columns, row-major: logits for category and multi_category
    std::vector<int64_t> classes;  // category: each item's right class
    std::vector<float> targets;    // multi_category: rows × columns of 0/1; number, series: rows × columns values
    // series: outputs and targets in the columns' own units, each row a
    // window's horizon × target columns (column j is target j % seriesColumns);
    // and per target column the mean absolute error of the seasonal naive
    // forecast over the training span, which `mase` divides by (M4's scale).
    int64_t seriesColumns = 0;
    std::vector<double> naiveScale;
    // tokens: each predicted token's cross-entropy and whether its top score was right
    std::vector<double> tokenLoss;
    std::vector<uint8_t> tokenRight;

    const float* row(int64_t r) const { return outputs.data() + r * columns; }
};

// A metric that does not apply to the target kind (a programming error the
// checker's `accepts` rules out for checked files).
class MetricError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What a metric computes: one number per split, or (confusion_matrix) a table.
struct Metric {
    double (*score)(const Value& call, const Predictions& p) = nullptr;
    bool table = false;
};
using MetricMakers = stdlib::Implementations<stdlib::Family::Metric, Metric>;

// The metric `call` names on `p`; MetricError when it does not apply.
double score(const Value& call, const Predictions& p);
// Whether `call` names a metric reported as a number (not a table).
bool isScalar(const Value& call);

// Counts of items by right class (rows) and predicted class (columns).
std::vector<std::vector<int64_t>> confusionMatrix(const Predictions& p);

// A metric's call with the registry's defaults, for a metric known only by
// name (a column of a sweep's table); null for names that are no metric.
const Value* defaultCall(const std::string& name);

}  // namespace pipelang::metrics
