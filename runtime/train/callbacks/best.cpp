#include "runtime/train/callback.h"
#include "runtime/train/callbacks/watch.h"
#include "runtime/train/loop.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

using Weights = std::vector<std::pair<std::string, torch::Tensor>>;

// In namedState order: the order checkpoint.pt's `kept` is read back in.
Weights snapshot(Network& network) {
    Weights out;
    for (const auto& p : network.named_parameters()) out.push_back({p.key(), p.value().detach().clone()});
    for (const auto& b : network.named_buffers()) out.push_back({b.key(), b.value().detach().clone()});
    return out;
}

void restore(Network& network, const Weights& weights) {
    torch::NoGradGuard noGrad;
    auto params = network.named_parameters();
    auto buffers = network.named_buffers();
    for (const auto& [name, tensor] : weights) {
        if (auto* p = params.find(name)) p->copy_(tensor);
        if (auto* b = buffers.find(name)) b->copy_(tensor);
    }
}

// `best(monitor)`: the stage ends with the weights of its best epoch, not
// its last. A copy of them is held in memory (and in checkpoint.pt).
class Best : public Callback {
public:
    explicit Best(const Value& call) : watch_(stringArg(call, "monitor"), 0) {}

    bool choosesWeights() const override { return true; }

    void afterEpoch(Loop& loop) override {
        if (watch_.update(loop.result.epochs.back())) kept_ = snapshot(loop.network);
    }
    void afterFit(Loop& loop) override {
        if (kept_.empty()) return;
        restore(loop.network, kept_);
        loop.result.keptEpoch = watch_.bestEpoch;
        loop.progress.line("kept the weights of epoch " + std::to_string(watch_.bestEpoch) + " (best " +
                           watch_.monitor + " " + formatNumber(watch_.best) + ")");
    }

    void saveState(TrainState& state) const override {
        state.keepBest = watch_.best, state.keepEpoch = watch_.bestEpoch;
        state.kept = kept_;
    }
    void loadState(const TrainState& state) override {
        watch_.best = state.keepBest, watch_.bestEpoch = state.keepEpoch;
        kept_ = state.kept;
    }

private:
    Watch watch_;
    Weights kept_;
};

const CallbackMakers::Add kBest{"best", [](const Value& call) { return std::make_unique<Best>(call); }};

}  // namespace

}  // namespace pipelang::runtime
