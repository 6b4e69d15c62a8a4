// Training and scoring of one `train` stage. fit() builds what the section
// names (schedule, optimizer, loss, metrics, callbacks) from its values and
// hands them to the loop (loop.h), which raises the events every callback
// acts on (callback.h): `keep` and `callbacks` decide what to keep and when
// to stop, the loop's own ones write the files and the checkpoints.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/pipeline.h"
#include "runtime/data/dataset.h"
#include "runtime/models/network.h"
#include "runtime/train/progress.h"

namespace pipelang::runtime {

struct EpochResult {
    int64_t epoch = 0;
    double trainLoss = 0;
    double validLoss = 0;  // NaN without a validation split
    std::vector<std::pair<std::string, double>> metrics;
    double seconds = 0;
};

struct FitResult {
    std::vector<EpochResult> epochs;
    std::optional<int64_t> keptEpoch;  // the epoch whose weights were kept by `best`
    bool stoppedEarly = false;
};

struct Evaluation {
    double loss = 0;
    std::vector<std::pair<std::string, double>> metrics;
    std::string confusion;  // a table, when `confusion_matrix` was asked for
    int64_t items = 0;
};

// Trains `network` on `data` as the train section says. Writes metrics.csv
// (and checkpoints, when asked) under `stageDir`. Batch size and loader
// threads come from `dataSection`.
FitResult fit(Network& network, const PreparedData& data, const Section& dataSection, const Section& train,
              const torch::Device& device, const std::filesystem::path& stageDir, Progress& progress,
              bool resume = false);

// Loss and metrics of `network` on one split, without changing it.
Evaluation evaluate(Network& network, const PreparedData& data, const Section& dataSection, Split split,
                    const Section& train, const Value& metrics, const torch::Device& device);

std::string formatNumber(double value);  // a table cell: 0.9123, 1.234e-05, nan

// The naive forecasts of a split (PreparedData::baselines), scored with
// `metrics` beside the model's scores `model` on the same items, so that a
// user sees whether the network earns its keep: the lines of a table (a
// header, the model, then each forecast) and every score as
// "FORECAST_METRIC" (model_mae, last_value_mae). Empty when the data has none.
struct BaselineComparison {
    std::vector<std::string> lines;
    std::vector<std::pair<std::string, double>> scores;
};
BaselineComparison compareWithBaselines(const PreparedData& data, Split split, const Value& metrics,
                                        const std::vector<std::pair<std::string, double>>& model);

}  // namespace pipelang::runtime
