#include "runtime/train/callback.h"
#include "runtime/train/loop.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

// `checkpoint(every)`: the weights of every N-th epoch, in
// checkpoints/epoch-E.safetensors, beside the stage's final weights.
class EpochWeights : public Callback {
public:
    explicit EpochWeights(const Value& call) : every_(intArg(call, "every")) {}

    void afterEpoch(Loop& loop) override {
        if (!loop.writes || (loop.epoch + 1) % every_ != 0) return;
        std::filesystem::create_directories(loop.stageDir / "checkpoints");
        saveWeights(loop.network,
                    loop.stageDir / "checkpoints" / ("epoch-" + std::to_string(loop.epoch) + ".safetensors"));
    }

private:
    int64_t every_;
};

const CallbackMakers::Add kCheckpoint{"checkpoint",
                                      [](const Value& call) { return std::make_unique<EpochWeights>(call); }};

}  // namespace

}  // namespace pipelang::runtime
