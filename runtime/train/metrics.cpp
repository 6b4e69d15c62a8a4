#include "runtime/train/metrics.h"

#include <cmath>
#include <cstdio>

#include "runtime/error.h"
#include "runtime/train/loss.h"

namespace pipelang::runtime {

namespace {

// Macro precision / recall / F1 from per-class counts of a confusion matrix.
double macro(const torch::Tensor& confusion, const std::string& which) {
    auto tp = confusion.diagonal().to(torch::kDouble);
    auto predicted = confusion.sum(0).to(torch::kDouble);
    auto actual = confusion.sum(1).to(torch::kDouble);
    auto precision = tp / predicted.clamp_min(1);
    auto recall = tp / actual.clamp_min(1);
    if (which == "precision") return precision.mean().item<double>();
    if (which == "recall") return recall.mean().item<double>();
    auto f1 = 2 * precision * recall / (precision + recall).clamp_min(1e-12);
    return f1.mean().item<double>();
}

// Area under the ROC curve of one score column against 0/1 labels, by ranks
// (the Mann–Whitney statistic), ties given their average rank.
double auc(const torch::Tensor& score, const torch::Tensor& positive) {
    auto order = score.argsort();
    auto sorted = score.index_select(0, order);
    auto labels = positive.index_select(0, order).to(torch::kDouble);
    int64_t n = score.size(0);
    std::vector<double> ranks(static_cast<size_t>(n));
    auto s = sorted.accessor<float, 1>();
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j + 1 < n && s[j + 1] == s[i]) ++j;
        for (int64_t k = i; k <= j; ++k) ranks[size_t(k)] = (double(i) + double(j)) / 2 + 1;
        i = j + 1;
    }
    double positives = labels.sum().item<double>();
    double negatives = double(n) - positives;
    if (positives == 0 || negatives == 0) return std::nan("");
    double rankSum = 0;
    auto l = labels.accessor<double, 1>();
    for (int64_t i = 0; i < n; ++i) rankSum += l[i] * ranks[size_t(i)];
    return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
}

torch::Tensor confusionMatrix(const torch::Tensor& output, const torch::Tensor& target, int64_t classes) {
    auto predicted = output.argmax(1);
    auto index = target * classes + predicted;
    return torch::bincount(index, {}, classes * classes).reshape({classes, classes});
}

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

double tokenMetric(const std::string& name, const torch::Tensor& summary) {
    if (summary.size(0) == 0) return std::nan("");
    if (name == "perplexity") return std::exp(summary.select(1, 0).to(torch::kDouble).mean().item<double>());
    if (name == "accuracy") return summary.select(1, 1).to(torch::kDouble).mean().item<double>();
    if (name == "error_rate") return 1 - summary.select(1, 1).to(torch::kDouble).mean().item<double>();
    throw RuntimeError("metric `" + name + "` does not apply to a tokens target in this runtime");
}

double argOr(const Value& call, const char* name, double fallback) {
    const Value* v = call.arg(name);
    return v && !v->isNone() ? v->number : fallback;
}

}  // namespace

double computeMetric(const Value& m, const torch::Tensor& out, const torch::Tensor& y, const std::string& kind) {
    const std::string& name = m.text;
    if (kind == "tokens") return tokenMetric(name, tokenSummary(out, y));
    if (kind == "number") {
        auto pred = out.reshape({-1}).to(torch::kDouble);
        auto truth = y.reshape({-1}).to(torch::kDouble);
        auto err = pred - truth;
        if (name == "mse") return err.pow(2).mean().item<double>();
        if (name == "rmse") return std::sqrt(err.pow(2).mean().item<double>());
        if (name == "mae") return err.abs().mean().item<double>();
        if (name == "r2") {
            double ssRes = err.pow(2).sum().item<double>();
            double ssTot = (truth - truth.mean()).pow(2).sum().item<double>();
            return 1 - ssRes / std::max(ssTot, 1e-12);
        }
    } else if (kind == "multi_category") {
        auto prob = out.sigmoid();
        double threshold = argOr(m, "threshold", 0.5);
        auto predicted = (prob > threshold).to(torch::kFloat);
        if (name == "accuracy_multi") return (predicted == y).to(torch::kDouble).mean().item<double>();
        if (name == "precision" || name == "recall" || name == "f1") {
            auto tp = (predicted * y).sum(0).to(torch::kDouble);
            auto p = tp / predicted.sum(0).to(torch::kDouble).clamp_min(1);
            auto r = tp / y.sum(0).to(torch::kDouble).clamp_min(1);
            if (name == "precision") return p.mean().item<double>();
            if (name == "recall") return r.mean().item<double>();
            return (2 * p * r / (p + r).clamp_min(1e-12)).mean().item<double>();
        }
        if (name == "roc_auc") {
            double sum = 0;
            int64_t counted = 0;
            for (int64_t c = 0; c < out.size(1); ++c) {
                double a = auc(out.select(1, c).contiguous(), y.select(1, c).contiguous());
                if (!std::isnan(a)) sum += a, ++counted;
            }
            return counted ? sum / double(counted) : std::nan("");
        }
    } else {  // category
        int64_t classes = out.size(1);
        if (name == "accuracy") return (out.argmax(1) == y).to(torch::kDouble).mean().item<double>();
        if (name == "error_rate") return 1 - (out.argmax(1) == y).to(torch::kDouble).mean().item<double>();
        if (name == "top_k") {
            int64_t k = std::min<int64_t>(int64_t(argOr(m, "k", 5)), classes);
            auto top = std::get<1>(out.topk(k, 1));
            return (top == y.unsqueeze(1)).any(1).to(torch::kDouble).mean().item<double>();
        }
        if (name == "precision" || name == "recall" || name == "f1")
            return macro(confusionMatrix(out, y, classes), name);
        if (name == "roc_auc") {
            // One class against the rest, averaged over the classes present.
            auto prob = out.softmax(1);
            if (classes == 2) return auc(prob.select(1, 1).contiguous(), (y == 1).to(torch::kFloat));
            double sum = 0;
            int64_t counted = 0;
            for (int64_t c = 0; c < classes; ++c) {
                double a = auc(prob.select(1, c).contiguous(), (y == c).to(torch::kFloat));
                if (!std::isnan(a)) sum += a, ++counted;
            }
            return counted ? sum / double(counted) : std::nan("");
        }
    }
    throw RuntimeError("metric `" + name + "` does not apply to a " + kind + " target in this runtime");
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
        if (m->text != "confusion_matrix") out.push_back(m->text);
    return out;
}

std::vector<std::pair<std::string, double>> Metrics::compute() const {
    std::vector<std::pair<std::string, double>> out;
    if (outputs_.empty()) return out;
    auto output = torch::cat(outputs_);
    if (info_.target == "tokens") {
        for (const Value* m : metrics_) out.push_back({m->text, tokenMetric(m->text, output)});
        return out;
    }
    auto target = torch::cat(targets_);
    for (const Value* m : metrics_)
        if (m->text != "confusion_matrix") out.push_back({m->text, computeMetric(*m, output, target, info_.target)});
    return out;
}

std::string Metrics::confusionTable() const {
    bool wanted = false;
    for (const Value* m : metrics_) wanted = wanted || m->text == "confusion_matrix";
    if (!wanted || outputs_.empty() || info_.target != "category") return "";
    auto output = torch::cat(outputs_);
    auto target = torch::cat(targets_);
    int64_t n = output.size(1);
    auto cm = confusionMatrix(output, target, n);
    size_t width = 6;
    for (const auto& c : info_.classes) width = std::max(width, c.size());
    std::string out = "confusion matrix (rows: actual, columns: predicted)\n";
    char cell[64];
    out += std::string(width + 2, ' ');
    for (int64_t j = 0; j < n; ++j) {
        std::snprintf(cell, sizeof cell, "%6lld", (long long)j);
        out += cell;
    }
    out += "\n";
    for (int64_t i = 0; i < n; ++i) {
        std::string label = size_t(i) < info_.classes.size() ? info_.classes[size_t(i)] : std::to_string(i);
        std::snprintf(cell, sizeof cell, "%2lld %-*s", (long long)i, int(width - 1), label.c_str());
        out += cell;
        for (int64_t j = 0; j < n; ++j) {
            std::snprintf(cell, sizeof cell, "%6lld", (long long)cm[i][j].item<int64_t>());
            out += cell;
        }
        out += "\n";
    }
    return out;
}

}  // namespace pipelang::runtime
