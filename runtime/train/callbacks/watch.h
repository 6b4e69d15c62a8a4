// What `best` and `early_stop` watch: one column of the epochs' table, and
// the best value it has had.
#pragma once

#include <cmath>
#include <string>

#include "runtime/train/fit.h"
#include "runtime/train/metrics.h"

namespace pipelang::runtime {

struct Watch {
    std::string monitor;
    bool higher = false;
    double minDelta = 0;
    double best = 0;
    int64_t bestEpoch = -1;

    Watch(std::string monitorName, double minDelta)
        : monitor(std::move(monitorName)), higher(higherIsBetter(monitor)), minDelta(minDelta) {}

    // Records the epoch's value; true when it improved on the best so far.
    // An epoch without the value (nan) never does.
    bool update(const EpochResult& r) {
        double value = read(r);
        if (std::isnan(value)) return false;
        bool improved = bestEpoch < 0 || (higher ? value > best + minDelta : value < best - minDelta);
        if (improved) {
            best = value;
            bestEpoch = r.epoch;
        }
        return improved;
    }
    double read(const EpochResult& r) const {
        if (monitor == "valid_loss") return r.validLoss;
        if (monitor == "train_loss") return r.trainLoss;
        for (const auto& [name, value] : r.metrics)
            if (name == monitor) return value;
        return std::nan("");
    }
};

}  // namespace pipelang::runtime
