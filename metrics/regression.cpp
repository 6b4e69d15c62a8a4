// Metrics of regressions: every output against its target value.
#include <cmath>

#include "metrics/predictions.h"

namespace pipelang::metrics {

namespace {

void expectNumber(const Value& call, const Predictions& p) {
    if (p.target != "number")
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

}  // namespace

}  // namespace pipelang::metrics
