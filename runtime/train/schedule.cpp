#include "runtime/train/schedule.h"

#include <cmath>

#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

// A schedule's maker plans its phases from the optimizer's peak rates.
using ScheduleMaker = std::vector<Phase> (*)(const Value& call, RateRange peak);
using ScheduleMakers = stdlib::Implementations<stdlib::Family::Schedule, ScheduleMaker>;

// From a to b along half a cosine, as t goes from 0 to 1.
double cosineBetween(double a, double b, double t) {
    return b + (a - b) * (1 + std::cos(M_PI * t)) / 2;
}

// A warmup below 1 is a share of the run; from 1 on it counts epochs.
double warmupShare(double warmup, int64_t epochs) {
    return warmup < 1 ? warmup : warmup / double(epochs);
}

}  // namespace

double oneCycle(double t, double pctStart, double div, double finalDiv) {
    if (t < pctStart) return cosineBetween(1 / div, 1, t / pctStart);
    return cosineBetween(1, 1 / finalDiv, (t - pctStart) / (1 - pctStart));
}

double warmupCosine(double t, double warmup) {
    if (t < warmup) return t / warmup;
    return cosineBetween(1, 0, (t - warmup) / (1 - warmup));
}

double warmupLinear(double t, double warmup) {
    if (t < warmup) return t / warmup;
    return (1 - t) / (1 - warmup);
}

namespace {

// One phase of the schedule's epochs, its rate shaped by `shape`.
std::vector<Phase> onePhase(const Value& s, RateRange peak, Shape shape) {
    return {Phase{intArg(s, "epochs"), false, peak, std::move(shape)}};
}

const ScheduleMakers::Add kConstant{
    "constant", [](const Value& s, RateRange peak) { return onePhase(s, peak, [](double, int64_t) { return 1.0; }); }};

std::vector<Phase> stepSchedule(const Value& s, RateRange peak) {
    double every = numberArg(s, "every"), gamma = numberArg(s, "gamma");
    return onePhase(s, peak, [=](double, int64_t epoch) { return std::pow(gamma, std::floor(double(epoch) / every)); });
}
const ScheduleMakers::Add kStep{"step", stepSchedule};

template <double (*shape)(double t, double warmup)>
std::vector<Phase> warmupSchedule(const Value& s, RateRange peak) {
    double warmup = warmupShare(numberArg(s, "warmup"), intArg(s, "epochs"));
    return onePhase(s, peak, [=](double t, int64_t) { return shape(t, warmup); });
}
const ScheduleMakers::Add kLinear{"linear", warmupSchedule<warmupLinear>};
const ScheduleMakers::Add kCosine{"cosine", warmupSchedule<warmupCosine>};

std::vector<Phase> oneCycleSchedule(const Value& s, RateRange peak) {
    double pct = numberArg(s, "pct_start"), div = numberArg(s, "div"), finalDiv = numberArg(s, "final_div");
    return onePhase(s, peak, [=](double t, int64_t) { return oneCycle(t, pct, div, finalDiv); });
}
const ScheduleMakers::Add kOneCycle{"one_cycle", oneCycleSchedule};

// fastai: one cycle with the backbone frozen (pct_start 0.99), then the
// whole model at slice(base_lr / 2 / lr_mult, base_lr / 2) (fineTuneRates).
std::vector<Phase> fineTuneSchedule(const Value& s, RateRange peak) {
    RateRange unfrozen = fineTuneRates(s, peak.hi);
    double base = 2 * unfrozen.hi;  // base_lr itself: halving and doubling are exact
    int64_t frozenEpochs = intArg(s, "freeze_epochs");
    std::vector<Phase> phases;
    if (frozenEpochs > 0)
        phases.push_back(
            {frozenEpochs, true, {base, base}, [](double t, int64_t) { return oneCycle(t, 0.99, 25, 1e5); }});
    phases.push_back(
        {intArg(s, "epochs"), false, unfrozen, [](double t, int64_t) { return oneCycle(t, 0.3, 25, 1e5); }});
    return phases;
}
const ScheduleMakers::Add kFineTune{"fine_tune", fineTuneSchedule};

}  // namespace

std::vector<Phase> planSchedule(const Value& s, RateRange peak) {
    return makerOf<ScheduleMakers>(s)(s, peak);
}

}  // namespace pipelang::runtime
