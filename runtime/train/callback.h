// The events of the training loop (loop.h) and the callbacks that act on
// them, as in fastai's Learner and Lightning's Trainer: the loop trains and
// raises events; everything else a stage does while it trains — the progress
// bar, metrics.csv, checkpoints, `best`, `early_stop` — is a callback.
//
// Events, in the order the loop raises them:
//
//   beforeFit
//     beforePhase                  (a phase of the schedule: `fine_tune` has two)
//       beforeEpoch
//         beforeBatch              the batch is on the device, the rates are set
//         afterLoss                the loss is computed; backward comes next
//         afterBackward
//         beforeStep, afterStep    only for a batch the optimizer steps after
//         afterBatch               the epoch's loss sums include the batch
//       beforeValidate             the epoch's training batches are done
//       afterEpoch                 its row (result.epochs.back()) is complete
//     afterPhase
//   afterFit                       only when training ran to its end
//
// Callbacks see each event in the order of the loop's list, which fit()
// builds: the ones that decide about the batch (accumulation, the NaN guard)
// before the ones that act on it, the user's (`keep`, `callbacks`) after the
// files, and the checkpoint last, so that it saves what every other one
// updated. An event an epoch skipped on resume is not raised for it.
#pragma once

#include <functional>
#include <memory>

#include "interpreter/pipeline.h"
#include "stdlib/implementations.h"

namespace pipelang::runtime {

struct Loop;
struct TrainState;

class Callback {
public:
    virtual ~Callback() = default;

    virtual void beforeFit(Loop&) {}
    virtual void beforePhase(Loop&) {}
    virtual void beforeEpoch(Loop&) {}
    virtual void beforeBatch(Loop&) {}
    virtual void afterLoss(Loop&) {}
    virtual void afterBackward(Loop&) {}
    virtual void beforeStep(Loop&) {}
    virtual void afterStep(Loop&) {}
    virtual void afterBatch(Loop&) {}
    virtual void beforeValidate(Loop&) {}
    virtual void afterEpoch(Loop&) {}
    virtual void afterPhase(Loop&) {}
    virtual void afterFit(Loop&) {}

    // The callback's part of checkpoint.pt, so that a resumed run goes on
    // with what it had seen (the best epoch so far, the weights kept).
    virtual void saveState(TrainState&) const {}
    virtual void loadState(const TrainState&) {}

    // True for a callback that decides which weights the stage ends with:
    // the only kind `keep = ...` takes.
    virtual bool choosesWeights() const { return false; }
};

// The callbacks a .pipe file names (`best`, `early_stop`, `checkpoint`):
// each implementation file registers its maker, which reads the resolved
// call's arguments.
using CallbackMaker = std::function<std::unique_ptr<Callback>(const Value& call)>;
using CallbackMakers = stdlib::Implementations<stdlib::Family::Callback, CallbackMaker>;

}  // namespace pipelang::runtime
