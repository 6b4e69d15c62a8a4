// Asynchronous successive halving (Li et al., "A System for Massively
// Parallel Hyperparameter Tuning", 2020), as Optuna's
// SuccessiveHalvingPruner and Ray Tune's ASHAScheduler do it: each point
// reports its metric after min_epochs, min_epochs x reduction, ... epochs
// (the rungs), and goes on only while it is in the top 1/reduction of the
// points that have reached that rung so far, itself included.
//
// There is no central driver: the reports are rows of `asha.csv` in the
// sweep directory, appended under flock(2), and the process that watches a
// point (record/sweep_run.h) decides from every row of the rung at the
// moment it reports. So the points of a sweep decide alike whether they run
// one at a time, `--jobs N` at once, or as the tasks of a Slurm array on
// several machines sharing the directory. With --jobs 1 the decisions
// repeat exactly; at once, they depend on which points reported first.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "record/sweep.h"

namespace pipelang::record {

struct RungDecision {
    bool keep = true;
    size_t reported = 0;  // points that reached the rung so far, this one included
    size_t kept = 0;      // how many of them the rung keeps: max(1, reported / reduction)
    double cutoff = 0;    // the worst value still kept
};

// Whether `value` is among the best max(1, n / reduction) of the `n` values
// reported at a rung (`reported` includes `value`). NaN is worst. As in
// Optuna, the first points at a rung, fewer than `reduction`, go on only if
// they are the best so far.
RungDecision decideAtRung(const std::vector<double>& reported, double value, int64_t reduction, bool higherIsBetter);

// Reports `value` of point `run` at `rung` into `<sweepDir>/asha.csv`
// (`rung,epochs,run,value`) and decides from every report of that rung,
// under an exclusive lock of the file. A report made again (a point resumed
// after its process was stopped) is not added twice.
RungDecision reportAtRung(const std::filesystem::path& sweepDir, const Rungs& rungs, int rung, int64_t epochs,
                          const std::string& run, double value, bool higherIsBetter);

// Why a point was stopped, for its status: "after 3 epochs: valid_loss
// 0.8123 is not in the top 1/3 of the 4 points at rung 2 (the cutoff is 0.7432)".
std::string stopReason(const Rungs& rungs, int rung, int64_t epochs, const std::string& metric, double value,
                       const RungDecision& decision);

}  // namespace pipelang::record
