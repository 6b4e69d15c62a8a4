// Learning-rate schedules, in fastai's layers: pure shapes (a multiplier of
// the peak rate over a phase's progress t in [0, 1]) → phases (epochs, frozen
// or not, peak rates of the first layer group and of the head) → the plan of
// a whole `schedule`. The shape scales every layer group's peak alike.
// `fine_tune` is two one-cycle phases: frozen backbone, then unfrozen with
// discriminative rates.
#pragma once

#include <functional>
#include <vector>

#include "interpreter/layer_groups.h"
#include "interpreter/pipeline.h"

namespace pipelang::runtime {

using Shape = std::function<double(double t, int64_t epoch)>;

struct Phase {
    int64_t epochs = 1;
    bool frozen = false;  // backbone frozen: only the head learns
    // Peak rates before the shape's multiplier: of the first layer group and
    // of the head, the groups between evenly spaced on a log scale.
    RateRange peak = {1e-3, 1e-3};
    Shape shape;
};

// The phases of `schedule`, given the optimizer's peak rates (equal unless
// `lr = slice(lo, hi)`).
std::vector<Phase> planSchedule(const Value& schedule, RateRange peak);

// The shapes themselves, exposed for tests.
double oneCycle(double t, double pctStart, double div, double finalDiv);
double warmupCosine(double t, double warmup);
double warmupLinear(double t, double warmup);

}  // namespace pipelang::runtime
