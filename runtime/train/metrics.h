// Metrics over a whole epoch: outputs and targets are gathered batch by
// batch, then each metric is computed once on everything, so macro averages
// and AUC are exact rather than averaged over batches.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/pipeline.h"
#include "metrics/predictions.h"
#include "runtime/data/dataset.h"
#include "stdlib/registry.h"

namespace pipelang::runtime {

class Metrics {
public:
    Metrics(const Value& list, const DataInfo& info);
    void reset();
    void add(const torch::Tensor& output, const torch::Tensor& target);
    // Replaces the outputs and targets gathered here by `gatherRows` of
    // them: in a data-parallel run, every rank's rows (each rank scored its
    // shard), so the metrics are those of the whole split.
    void gather(const std::function<torch::Tensor(const torch::Tensor&)>& gatherRows);
    // Every scalar metric in the order written (confusion matrices excluded).
    std::vector<std::pair<std::string, double>> compute() const;
    // The confusion matrix as a table with class names, or "" when none was asked for.
    std::string confusionTable() const;
    std::vector<std::string> names() const;

private:
    metrics::Predictions gathered() const;

    std::vector<const Value*> metrics_;
    const DataInfo& info_;
    std::vector<torch::Tensor> outputs_, targets_;
};

// True when a larger value of the metric is better (accuracy), false when a
// smaller one is (losses, error rates): the registry says.
inline bool higherIsBetter(const std::string& metric) {
    return stdlib::higherIsBetter(metric);
}

// Outputs and targets on the CPU as the plain numbers metrics/ scores; for
// a tokens target, `output` is the epoch's token summary.
metrics::Predictions predictions(const torch::Tensor& output, const torch::Tensor& target, const std::string& kind);

// A series' predictions and targets, scaled as the network sees them,
// turned back into the target columns' own units, with `mase`'s scales.
void seriesUnits(metrics::Predictions& p, const DataInfo& info);

// One metric on gathered outputs and targets (exposed for tests).
double computeMetric(const Value& metric, const torch::Tensor& output, const torch::Tensor& target,
                     const std::string& targetKind);

}  // namespace pipelang::runtime
