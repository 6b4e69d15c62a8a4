// Metrics of regressions: every output against its target value.
#include <cmath>

#include "metrics/predictions.h"

namespace pipelang::metrics {

namespace {

void expectNumber(const Value& call, const Predictions& p) {
    if (p.target != "number" && p.target != "series")
        throw MetricError("metric `" + call.text + "` does not apply to a " + p.target + " target");
}

double squaredError(const Predictions& p) {
    double sum = 0;
    for (size_t i = 0; i < p.outputs.size(); ++i) {
        double e = double(p.outputs[i]) - double(p.targets[i]);
        sum += e * e;
    }
    return sum;
}

double mse(const Value& call, const Predictions& p) {
    expectNumber(call, p);
    return squaredError(p) / double(p.outputs.size());
}
const MetricMakers::Add kMse{"mse", {mse}};

double rmse(const Value& call, const Predictions& p) {
    return std::sqrt(mse(call, p));
}
const MetricMakers::Add kRmse{"rmse", {rmse}};

double mae(const Value& call, const Predictions& p) {
    expectNumber(call, p);
    double sum = 0;
    for (size_t i = 0; i < p.outputs.size(); ++i) sum += std::fabs(double(p.outputs[i]) - double(p.targets[i]));
    return sum / double(p.outputs.size());
}
const MetricMakers::Add kMae{"mae", {mae}};

// The share of the targets' variance the predictions explain.
double r2(const Value& call, const Predictions& p) {
    expectNumber(call, p);
    double mean = 0;
    for (float t : p.targets) mean += double(t);
    mean /= double(p.targets.size());
    double total = 0;
    for (float t : p.targets) total += (double(t) - mean) * (double(t) - mean);
    return 1 - squaredError(p) / std::max(total, 1e-12);
}
const MetricMakers::Add kR2{"r2", {r2}};

void expectSeries(const Value& call, const Predictions& p) {
    if (p.target != "series")
        throw MetricError("metric `" + call.text + "` scores forecasts; it does not apply to a " + p.target +
                          " target");
}

// M4's sMAPE: 200·|y − ŷ| / (|y| + |ŷ|), averaged over every step of every
// window; a step where both are 0 is a perfect forecast and counts 0.
double smape(const Value& call, const Predictions& p) {
    expectSeries(call, p);
    double sum = 0;
    for (size_t i = 0; i < p.outputs.size(); ++i) {
        double y = double(p.targets[i]), f = double(p.outputs[i]);
        double denominator = std::fabs(y) + std::fabs(f);
        if (denominator > 0) sum += 200 * std::fabs(y - f) / denominator;
    }
    return sum / double(p.outputs.size());
}
const MetricMakers::Add kSmape{"smape", {smape}};

// M4's MASE: each absolute error over its target column's scale (the mean
// absolute error of the seasonal naive forecast within the training span),
// averaged over every step of every window.
double mase(const Value& call, const Predictions& p) {
    expectSeries(call, p);
    const size_t k = size_t(p.seriesColumns);
    if (k == 0 || p.naiveScale.size() != k)
        throw MetricError("metric `mase` needs the naive forecast's error on the training span of each of the " +
                          std::to_string(k) + " target columns");
    double sum = 0;
    for (size_t i = 0; i < p.outputs.size(); ++i) {
        double scale = p.naiveScale[(i % size_t(p.columns)) % k];
        if (!(scale > 0)) return std::nan("");  // a naive forecast without error scales nothing
        sum += std::fabs(double(p.outputs[i]) - double(p.targets[i])) / scale;
    }
    return sum / double(p.outputs.size());
}
const MetricMakers::Add kMase{"mase", {mase}};

}  // namespace

}  // namespace pipelang::metrics
