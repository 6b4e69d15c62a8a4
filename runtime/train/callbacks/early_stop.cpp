#include "runtime/train/callback.h"
#include "runtime/train/callbacks/watch.h"
#include "runtime/train/loop.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

// `early_stop(monitor, patience, min_delta)`: training ends after `patience`
// epochs without an improvement of at least `min_delta`.
class EarlyStop : public Callback {
public:
    explicit EarlyStop(const Value& call)
        : watch_(stringArg(call, "monitor"), numberArg(call, "min_delta")), patience_(intArg(call, "patience")) {}

    void afterEpoch(Loop& loop) override {
        watch_.update(loop.result.epochs.back());
        if (loop.epoch - watch_.bestEpoch < patience_) return;
        loop.progress.line("stopping early: `" + watch_.monitor + "` has not improved for " +
                           std::to_string(patience_) + " epochs");
        loop.result.stoppedEarly = true;
    }

    void saveState(TrainState& state) const override {
        state.stopBest = watch_.best, state.stopEpoch = watch_.bestEpoch;
    }
    void loadState(const TrainState& state) override {
        watch_.best = state.stopBest, watch_.bestEpoch = state.stopEpoch;
    }

private:
    Watch watch_;
    int64_t patience_;
};

const CallbackMakers::Add kEarlyStop{"early_stop", [](const Value& call) { return std::make_unique<EarlyStop>(call); }};

}  // namespace

}  // namespace pipelang::runtime
