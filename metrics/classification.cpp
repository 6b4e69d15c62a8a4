// Metrics of classifiers: one class per item (category), several labels per
// item (multi_category), and next-token prediction (tokens).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "metrics/arguments.h"
#include "metrics/predictions.h"

namespace pipelang::metrics {

namespace {

int64_t argmax(const float* scores, int64_t n) {
    return int64_t(std::max_element(scores, scores + n) - scores);
}

double nanValue() {
    return std::nan("");
}

void expect(const Predictions& p, const Value& call, std::initializer_list<const char*> kinds) {
    for (const char* kind : kinds)
        if (p.target == kind) return;
    throw MetricError("metric `" + call.text + "` does not apply to a " + p.target + " target");
}

// The share of items whose top-scored class is right (tokens: of predicted tokens).
double rightShare(const Value& call, const Predictions& p) {
    expect(p, call, {"category", "tokens"});
    if (p.target == "tokens") {
        if (p.tokenRight.empty()) return nanValue();
        double right = 0;
        for (uint8_t r : p.tokenRight) right += r;
        return right / double(p.tokenRight.size());
    }
    double right = 0;
    for (int64_t r = 0; r < p.rows; ++r) right += argmax(p.row(r), p.columns) == p.classes[size_t(r)];
    return right / double(p.rows);
}

double accuracy(const Value& call, const Predictions& p) {
    return rightShare(call, p);
}
const MetricMakers::Add kAccuracy{"accuracy", {accuracy}};

double errorRate(const Value& call, const Predictions& p) {
    return 1 - rightShare(call, p);
}
const MetricMakers::Add kErrorRate{"error_rate", {errorRate}};

// The right class among the k highest scores: fewer than k classes score above it.
double topK(const Value& call, const Predictions& p) {
    expect(p, call, {"category"});
    int64_t k = std::min<int64_t>(int64_t(numberArgument(call, "k")), p.columns);
    double hits = 0;
    for (int64_t r = 0; r < p.rows; ++r) {
        const float* s = p.row(r);
        float right = s[p.classes[size_t(r)]];
        int64_t above = std::count_if(s, s + p.columns, [right](float v) { return v > right; });
        hits += above < k;
    }
    return hits / double(p.rows);
}
const MetricMakers::Add kTopK{"top_k", {topK}};

// Per class: true positives, predicted and actual counts.
struct ClassCounts {
    std::vector<double> tp, predicted, actual;
};

// Which labels are predicted on: category items have one, their top class;
// multi_category labels are on when their probability tops `threshold`.
ClassCounts classCounts(const Value& call, const Predictions& p) {
    ClassCounts c{std::vector<double>(size_t(p.columns)), std::vector<double>(size_t(p.columns)),
                  std::vector<double>(size_t(p.columns))};
    if (p.target == "category") {
        auto cm = confusionMatrix(p);
        for (size_t i = 0; i < cm.size(); ++i)
            for (size_t j = 0; j < cm.size(); ++j) {
                c.actual[i] += double(cm[i][j]);
                c.predicted[j] += double(cm[i][j]);
                if (i == j) c.tp[i] += double(cm[i][j]);
            }
        return c;
    }
    expect(p, call, {"category", "multi_category"});
    double threshold = numberArgument(call, "threshold");
    for (int64_t r = 0; r < p.rows; ++r)
        for (int64_t l = 0; l < p.columns; ++l) {
            bool on = 1 / (1 + std::exp(-double(p.row(r)[l]))) > threshold;
            bool truth = p.targets[size_t(r * p.columns + l)] > 0.5f;
            c.predicted[size_t(l)] += on, c.actual[size_t(l)] += truth, c.tp[size_t(l)] += on && truth;
        }
    return c;
}

// Macro averages: each class counts once, whatever its size.
double mean(const std::vector<double>& values) {
    return values.empty() ? nanValue() : std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
}
std::vector<double> precisions(const ClassCounts& c) {
    std::vector<double> out;
    for (size_t i = 0; i < c.tp.size(); ++i) out.push_back(c.tp[i] / std::max(c.predicted[i], 1.0));
    return out;
}
std::vector<double> recalls(const ClassCounts& c) {
    std::vector<double> out;
    for (size_t i = 0; i < c.tp.size(); ++i) out.push_back(c.tp[i] / std::max(c.actual[i], 1.0));
    return out;
}

double precision(const Value& call, const Predictions& p) {
    return mean(precisions(classCounts(call, p)));
}
const MetricMakers::Add kPrecision{"precision", {precision}};

double recall(const Value& call, const Predictions& p) {
    return mean(recalls(classCounts(call, p)));
}
const MetricMakers::Add kRecall{"recall", {recall}};

double f1(const Value& call, const Predictions& p) {
    ClassCounts c = classCounts(call, p);
    auto pr = precisions(c), re = recalls(c);
    std::vector<double> scores;
    for (size_t i = 0; i < pr.size(); ++i) scores.push_back(2 * pr[i] * re[i] / std::max(pr[i] + re[i], 1e-12));
    return mean(scores);
}
const MetricMakers::Add kF1{"f1", {f1}};

// Area under the ROC curve of one score per item against 0/1 labels, by
// ranks (the Mann–Whitney statistic), ties given their average rank; NaN
// when one side is empty.
double auc(const std::vector<double>& score, const std::vector<uint8_t>& positive) {
    size_t n = score.size();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
    double positives = 0, rankSum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && score[order[j + 1]] == score[order[i]]) ++j;
        double rank = (double(i) + double(j)) / 2 + 1;
        for (size_t k = i; k <= j; ++k)
            if (positive[order[k]]) positives += 1, rankSum += rank;
        i = j + 1;
    }
    double negatives = double(n) - positives;
    if (positives == 0 || negatives == 0) return nanValue();
    return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
}

// One class (or label) against the rest, averaged over those with both sides.
double rocAuc(const Value& call, const Predictions& p) {
    expect(p, call, {"category", "multi_category"});
    auto column = [&](int64_t c, std::vector<double>& score, std::vector<uint8_t>& positive) {
        score.assign(size_t(p.rows), 0);
        positive.assign(size_t(p.rows), 0);
        for (int64_t r = 0; r < p.rows; ++r) {
            const float* s = p.row(r);
            if (p.target == "category") {  // softmax probabilities
                double top = *std::max_element(s, s + p.columns), sum = 0;
                for (int64_t k = 0; k < p.columns; ++k) sum += std::exp(double(s[k]) - top);
                score[size_t(r)] = std::exp(double(s[c]) - top) / sum;
                positive[size_t(r)] = p.classes[size_t(r)] == c;
            } else {
                score[size_t(r)] = s[c];
                positive[size_t(r)] = p.targets[size_t(r * p.columns + c)] > 0.5f;
            }
        }
    };
    std::vector<double> score;
    std::vector<uint8_t> positive;
    if (p.target == "category" && p.columns == 2) {
        column(1, score, positive);
        return auc(score, positive);
    }
    double sum = 0;
    int64_t counted = 0;
    for (int64_t c = 0; c < p.columns; ++c) {
        column(c, score, positive);
        double a = auc(score, positive);
        if (!std::isnan(a)) sum += a, ++counted;
    }
    return counted ? sum / double(counted) : nanValue();
}
const MetricMakers::Add kRocAuc{"roc_auc", {rocAuc}};

// A table, not a number: printed after `evaluate` and drawn by `pipe interpret`.
const MetricMakers::Add kConfusionMatrix{"confusion_matrix", {nullptr, true}};

// The share of (item, label) pairs called right.
double accuracyMulti(const Value& call, const Predictions& p) {
    expect(p, call, {"multi_category"});
    double threshold = numberArgument(call, "threshold"), right = 0;
    for (int64_t i = 0; i < p.rows * p.columns; ++i) {
        bool on = 1 / (1 + std::exp(-double(p.outputs[size_t(i)]))) > threshold;
        right += on == (p.targets[size_t(i)] > 0.5f);
    }
    return p.rows ? right / double(p.rows * p.columns) : nanValue();
}
const MetricMakers::Add kAccuracyMulti{"accuracy_multi", {accuracyMulti}};

// exp of the mean cross-entropy per predicted token.
double perplexity(const Value& call, const Predictions& p) {
    expect(p, call, {"tokens"});
    if (p.tokenLoss.empty()) return nanValue();
    return std::exp(mean(p.tokenLoss));
}
const MetricMakers::Add kPerplexity{"perplexity", {perplexity}};

}  // namespace

std::vector<std::vector<int64_t>> confusionMatrix(const Predictions& p) {
    size_t n = size_t(p.columns);
    std::vector<std::vector<int64_t>> cm(n, std::vector<int64_t>(n, 0));
    for (int64_t r = 0; r < p.rows; ++r) {
        int64_t truth = p.classes[size_t(r)], predicted = argmax(p.row(r), p.columns);
        if (truth >= 0 && size_t(truth) < n) ++cm[size_t(truth)][size_t(predicted)];
    }
    return cm;
}

}  // namespace pipelang::metrics
