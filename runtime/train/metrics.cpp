#include "runtime/train/metrics.h"

#include <cstdio>

#include "runtime/error.h"
#include "runtime/train/loss.h"

namespace pipelang::runtime {

namespace {

// Next-token predictions reduced, as they arrive, to what the token metrics
// need: {N, 2} rows of (cross-entropy, 1 if the top score is right) for the
// N tokens that have a target. A language model's epoch of {B, T, V} scores
// would not fit in memory otherwise.
torch::Tensor tokenSummary(const torch::Tensor& output, const torch::Tensor& target) {
    auto [scores, next] = tokenPredictions(output.detach(), target.detach());
    torch::Tensor keep = next != kIgnoreToken;
    scores = scores.index({keep}).to(torch::kFloat32);
    next = next.index({keep});
    torch::Tensor nll = torch::nn::functional::cross_entropy(
        scores, next, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    torch::Tensor right = (scores.argmax(1) == next).to(torch::kFloat32);
    return torch::stack({nll, right}, 1).to(torch::kCPU);
}

double scoreOrFail(const Value& metric, const metrics::Predictions& p) {
    try {
        return metrics::score(metric, p);
    } catch (const metrics::MetricError& e) {
        throw RuntimeError(std::string(e.what()) + " in this runtime");
    }
}

}  // namespace

metrics::Predictions predictions(const torch::Tensor& output, const torch::Tensor& target, const std::string& kind) {
    metrics::Predictions p;
    p.target = kind;
    if (kind == "tokens") {  // `output` is a token summary
        torch::Tensor summary = output.to(torch::kDouble).contiguous();
        p.rows = summary.size(0);
        auto s = summary.accessor<double, 2>();
        for (int64_t i = 0; i < p.rows; ++i) {
            p.tokenLoss.push_back(s[i][0]);
            p.tokenRight.push_back(s[i][1] > 0.5);
        }
        return p;
    }
    torch::Tensor out = output.to(torch::kFloat).reshape({output.size(0), -1}).contiguous();
    p.rows = out.size(0);
    p.columns = out.size(1);
    p.outputs.assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
    if (kind == "category") {
        torch::Tensor y = target.to(torch::kLong).contiguous();
        p.classes.assign(y.data_ptr<int64_t>(), y.data_ptr<int64_t>() + y.numel());
    } else {
        torch::Tensor y = target.to(torch::kFloat).contiguous();
        p.targets.assign(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
    }
    return p;
}

double computeMetric(const Value& m, const torch::Tensor& out, const torch::Tensor& y, const std::string& kind) {
    if (kind == "tokens") return scoreOrFail(m, predictions(tokenSummary(out, y), {}, kind));
    return scoreOrFail(m, predictions(out.detach().to(torch::kCPU), y.detach().to(torch::kCPU), kind));
}

Metrics::Metrics(const Value& list, const DataInfo& info) : info_(info) {
    for (const auto& m : list.items) metrics_.push_back(&m);
}

void Metrics::reset() {
    outputs_.clear();
    targets_.clear();
}

void Metrics::add(const torch::Tensor& output, const torch::Tensor& target) {
    if (info_.target == "tokens") {
        outputs_.push_back(tokenSummary(output, target));
        return;
    }
    outputs_.push_back(output.detach().to(torch::kCPU, torch::kFloat));
    targets_.push_back(target.detach().to(torch::kCPU));
}

void Metrics::gather(const std::function<torch::Tensor(const torch::Tensor&)>& gatherRows) {
    if (outputs_.empty()) return;
    outputs_ = {gatherRows(torch::cat(outputs_))};
    targets_ = {gatherRows(torch::cat(targets_))};
}

std::vector<std::string> Metrics::names() const {
    std::vector<std::string> out;
    for (const Value* m : metrics_)
        if (metrics::isScalar(*m)) out.push_back(m->text);
    return out;
}

metrics::Predictions Metrics::gathered() const {
    metrics::Predictions p =
        predictions(torch::cat(outputs_), targets_.empty() ? torch::Tensor() : torch::cat(targets_), info_.target);
    if (info_.target == "series") seriesUnits(p, info_);
    return p;
}

void seriesUnits(metrics::Predictions& p, const DataInfo& info) {
    const size_t k = info.seriesMean.size();
    if (k == 0 || p.columns % int64_t(k) != 0)
        throw RuntimeError("internal error: a series' predictions have " + std::to_string(p.columns) + " columns for " +
                           std::to_string(k) + " target columns");
    for (size_t i = 0; i < p.outputs.size(); ++i) {
        size_t c = (i % size_t(p.columns)) % k;
        p.outputs[i] = float(double(p.outputs[i]) * info.seriesStd[c] + info.seriesMean[c]);
        p.targets[i] = float(double(p.targets[i]) * info.seriesStd[c] + info.seriesMean[c]);
    }
    p.seriesColumns = int64_t(k);
    p.naiveScale = info.naiveScale;
}

std::vector<std::pair<std::string, double>> Metrics::compute() const {
    std::vector<std::pair<std::string, double>> out;
    if (outputs_.empty()) return out;
    metrics::Predictions p = gathered();
    for (const Value* m : metrics_)
        if (metrics::isScalar(*m)) out.push_back({m->text, scoreOrFail(*m, p)});
    return out;
}

std::string Metrics::confusionTable() const {
    bool wanted = false;
    for (const Value* m : metrics_) wanted = wanted || m->text == "confusion_matrix";
    if (!wanted || outputs_.empty() || info_.target != "category") return "";
    auto cm = metrics::confusionMatrix(gathered());
    size_t n = cm.size();
    size_t width = 6;
    for (const auto& c : info_.classes) width = std::max(width, c.size());
    std::string out = "confusion matrix (rows: actual, columns: predicted)\n";
    char cell[64];
    out += std::string(width + 2, ' ');
    for (size_t j = 0; j < n; ++j) {
        std::snprintf(cell, sizeof cell, "%6lld", (long long)j);
        out += cell;
    }
    out += "\n";
    for (size_t i = 0; i < n; ++i) {
        std::string label = i < info_.classes.size() ? info_.classes[i] : std::to_string(i);
        std::snprintf(cell, sizeof cell, "%2lld %-*s", (long long)i, int(width - 1), label.c_str());
        out += cell;
        for (size_t j = 0; j < n; ++j) {
            std::snprintf(cell, sizeof cell, "%6lld", (long long)cm[i][j]);
            out += cell;
        }
        out += "\n";
    }
    return out;
}

}  // namespace pipelang::runtime
