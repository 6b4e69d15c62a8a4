#include <cmath>

#include "runtime/error.h"
#include "runtime/train/callbacks/internal.h"
#include "runtime/train/loop.h"

namespace pipelang::runtime {

namespace {

// A loss that is not finite ends the run before the step, while the weights
// are still the last good ones: they are saved where the run's weights go.
class NanGuard : public Callback {
public:
    void beforeFit(Loop& loop) override {
        buffers_ = loop.network.buffers();
        for (const auto& buffer : buffers_) backup_.push_back(buffer.detach().clone());
    }
    // A forward pass in training mode updates batch-norm statistics; they
    // are kept (a few small tensors) so that a step whose loss is not finite
    // leaves the last good state.
    void beforeBatch(Loop&) override {
        for (size_t i = 0; i < buffers_.size(); ++i) backup_[i].copy_(buffers_[i]);
    }
    void afterLoss(Loop& loop) override {
        if (std::isfinite(loop.lossValue)) return;
        {
            torch::NoGradGuard noGrad;
            for (size_t i = 0; i < buffers_.size(); ++i) buffers_[i].copy_(backup_[i]);
        }
        std::filesystem::path kept = loop.stageDir / "weights.safetensors";
        if (loop.writes) saveWeights(loop.network, kept);
        throw RuntimeError("the training loss became " + formatNumber(loop.lossValue) + " at step " +
                           std::to_string(loop.step + 1) + " (epoch " + std::to_string(loop.epoch) + ", batch " +
                           std::to_string(loop.done + 1) + "); the last good weights are in " + kept.string() +
                           "; lower the learning rate or add `clip = 1.0`");
    }

private:
    std::vector<torch::Tensor> buffers_, backup_;
};

}  // namespace

std::unique_ptr<Callback> nanGuard() {
    return std::make_unique<NanGuard>();
}

}  // namespace pipelang::runtime
