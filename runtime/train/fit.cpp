#include "runtime/train/fit.h"

#include <cmath>
#include <memory>

#include "runtime/distributed/collectives.h"
#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/train/callbacks/internal.h"
#include "runtime/train/loop.h"
#include "runtime/train/loss.h"
#include "runtime/train/metrics.h"
#include "runtime/train/optimizer.h"
#include "runtime/train/schedule.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

std::string formatNumber(double value) {
    if (std::isnan(value)) return "nan";
    char buffer[32];
    double magnitude = std::fabs(value);
    std::snprintf(buffer, sizeof buffer, magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e5) ? "%.3e" : "%.6f",
                  value);
    return buffer;
}

BaselineComparison compareWithBaselines(const PreparedData& data, Split split, const Value& metricList,
                                        const std::vector<std::pair<std::string, double>>& model) {
    BaselineComparison out;
    auto baselines = data.baselines(split);
    if (baselines.empty() || model.empty()) return out;
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> rows = {{"model", model}};
    for (const auto& b : baselines) {
        Metrics metrics(metricList, data.info());
        metrics.add(b.output, b.target);
        rows.push_back({b.name, metrics.compute()});
    }
    size_t width = 10;
    for (const auto& [name, _] : rows) width = std::max(width, name.size() + 2);
    auto cell = [](const std::string& text, size_t w) {
        return text + std::string(w > text.size() ? w - text.size() : 1, ' ');
    };
    std::string header = cell("forecast", width);
    for (const auto& [metric, _] : model) header += cell(metric, 12);
    out.lines.push_back(header.substr(0, header.find_last_not_of(' ') + 1));
    for (const auto& [name, scores] : rows) {
        std::string line = cell(name, width);
        for (const auto& [metric, value] : scores) {
            line += cell(formatNumber(value), 12);
            out.scores.push_back({name + "_" + metric, value});
        }
        out.lines.push_back(line.substr(0, line.find_last_not_of(' ') + 1));
    }
    return out;
}

Evaluation evaluate(Network& network, const PreparedData& data, const Section& dataSection, Split split,
                    const Section& train, const Value& metricList, const torch::Device& device) {
    Evaluation result;
    LossFn loss = makeLoss(fieldOf(train, "loss"));
    Metrics metrics(metricList, data.info());
    // Scoring keeps no activations for backward, so it can take larger batches.
    auto loader = data.loader(split, 2 * integerField(dataSection, "batch_size"), integerField(dataSection, "workers"));
    loader->start(0);
    torch::NoGradGuard noGrad;
    network.eval();
    double total = 0;
    const std::string precision = stringField(train, "precision");
    while (auto batch = loader->next()) {
        Batch b = toDevice(std::move(*batch), device);
        auto out = forwardAt(network, b, precision, device);
        total += loss(out, b.y).item<double>() * double(b.size());
        result.items += b.size();
        metrics.add(out, b.y);
    }
    if (distributed::distributed()) {
        // Each rank scored its shard of the split: the loss and the metrics
        // are those of the whole split, the same on every rank.
        if (distributed::anyRank(result.items == 0))
            throw RuntimeError("the " + std::string(split == Split::Test ? "test" : "validation") + " split has " +
                               "fewer items than there are processes; run with fewer, or give it more items");
        total = distributed::allReduceSum(total);
        result.items = int64_t(distributed::allReduceSum(double(result.items)));
        metrics.gather(distributed::allGatherRows);
    }
    result.loss = result.items ? total / double(result.items) : std::nan("");
    result.metrics = metrics.compute();
    result.confusion = metrics.confusionTable();
    return result;
}

namespace {

// `keep` and `callbacks`, each made by the maker its implementation
// registered. A later callback of a built-in replaces an earlier one, so
// `callbacks = [best(...)]` overrides `keep = best(...)`; `keep` takes only
// a callback that chooses the stage's weights, and leaves out any other.
std::vector<std::unique_ptr<Callback>> namedCallbacks(const Section& train) {
    std::vector<std::pair<std::string, std::unique_ptr<Callback>>> made;
    auto add = [&](const Value& call, bool keep) {
        std::unique_ptr<Callback> callback = makerOf<CallbackMakers>(call)(call);
        if (keep && !callback->choosesWeights()) return;
        for (auto& [name, earlier] : made)
            if (name == call.text) {
                earlier = std::move(callback);
                return;
            }
        made.emplace_back(call.text, std::move(callback));
    };
    if (const Value& keep = fieldOf(train, "keep"); !keep.isNone()) add(keep, true);
    for (const Value& call : fieldOf(train, "callbacks").items) add(call, false);
    std::vector<std::unique_ptr<Callback>> out;
    for (auto& [name, callback] : made) out.push_back(std::move(callback));
    return out;
}

// The stage's callbacks, in the order they see each event (callback.h).
void addCallbacks(Loop& loop) {
    auto& list = loop.callbacks;
    list.push_back(accumulateGradients(integerField(loop.train, "accumulate")));
    list.push_back(nanGuard());
    list.push_back(syncGradients(fieldOf(loop.train, "sync_bn").boolean));
    if (const Value& clip = fieldOf(loop.train, "clip"); !clip.isNone()) list.push_back(clipGradients(clip.number));
    list.push_back(progressTable());
    if (loop.writes) {
        list.push_back(metricsCsv());
        list.push_back(lrCsv());
        list.push_back(tensorBoard());
    }
    for (auto& callback : namedCallbacks(loop.train)) list.push_back(std::move(callback));
    list.push_back(checkpointState());
}

}  // namespace

FitResult fit(Network& network, const PreparedData& data, const Section& dataSection, const Section& train,
              const torch::Device& device, const fs::path& stageDir, Progress& progress, bool resume) {
    Loop loop(network, data, dataSection, train, device, stageDir, progress);
    const Value& optimizer = fieldOf(train, "optimizer");
    loop.lossFn = makeLoss(fieldOf(train, "loss"));
    loop.phases = planSchedule(fieldOf(train, "schedule"), peakRates(optimizer));
    loop.optimizer = makeOptimizer(optimizer, network);
    loop.metricList = &fieldOf(train, "metrics");
    loop.metricNames = Metrics(*loop.metricList, data.info()).names();
    loop.precision = stringField(train, "precision");
    checkPrecision(loop.precision, device);  // an unsupported precision fails before any work
    loop.batchSize = integerField(dataSection, "batch_size");
    loop.workers = integerField(dataSection, "workers");
    // `batch_size` is the whole batch of a step, as in one process: each of
    // N data-parallel ranks loads batch_size / N of it.
    if (loop.batchSize % distributed::size() != 0)
        throw RuntimeError("batch_size " + std::to_string(loop.batchSize) + " does not divide among " +
                           std::to_string(distributed::size()) + " processes; use a multiple of " +
                           std::to_string(distributed::size()));
    loop.writes = distributed::isMain();
    loop.hasValid = data.size(Split::Valid) > 0;
    addCallbacks(loop);
    if (loop.writes) fs::create_directories(stageDir);
    if (resume) resumeFromCheckpoint(loop);
    return loop.run();
}

}  // namespace pipelang::runtime
