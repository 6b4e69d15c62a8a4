// Learning-rate schedules, in fastai's layers: pure shapes (a multiplier of
// the peak rate over a phase's progress t in [0, 1]) → phases (epochs, frozen
// or not, peak rates for backbone and head) → the plan of a whole `schedule`.
// `fine_tune` is two one-cycle phases: frozen backbone, then unfrozen with
// discriminative rates.
#pragma once

#include <functional>
#include <vector>

#include "interpreter/pipeline.h"

namespace pipelang::runtime {

using Shape = std::function<double(double t, int64_t epoch)>;

struct Phase {
    int64_t epochs = 1;
    bool frozen = false;       // backbone frozen: only the head learns
    double backboneLr = 1e-3;  // peak rates, before the shape's multiplier
    double headLr = 1e-3;
    Shape shape;
};

// The phases of `schedule`, given the optimizer's peak rates (equal unless
// `lr = slice(lo, hi)`).
std::vector<Phase> planSchedule(const Value& schedule, double backboneLr, double headLr);

// The shapes themselves, exposed for tests.
double oneCycle(double t, double pctStart, double div, double finalDiv);
double warmupCosine(double t, double warmup);
double warmupLinear(double t, double warmup);

}  // namespace pipelang::runtime
