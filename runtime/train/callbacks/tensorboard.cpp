#include <optional>

#include "record/tensorboard.h"
#include "runtime/train/callbacks/internal.h"
#include "runtime/train/loop.h"

namespace pipelang::runtime {

namespace {

// Losses, metrics and the learning rate for `tensorboard --logdir runs`, all
// against the global training step.
class TensorBoard : public Callback {
public:
    void beforeFit(Loop& loop) override { events_.emplace(loop.stageDir); }
    void beforeBatch(Loop& loop) override { events_->scalar("lr", loop.globalStep, loop.lr); }
    void afterEpoch(Loop& loop) override {
        const EpochResult& r = loop.result.epochs.back();
        events_->scalar("loss/train", loop.globalStep, r.trainLoss);
        if (loop.hasValid) {
            events_->scalar("loss/valid", loop.globalStep, r.validLoss);
            for (const auto& [name, value] : r.metrics) events_->scalar("metrics/" + name, loop.globalStep, value);
        }
        events_->flush();
    }

private:
    std::optional<record::EventWriter> events_;
};

}  // namespace

std::unique_ptr<Callback> tensorBoard() {
    return std::make_unique<TensorBoard>();
}

}  // namespace pipelang::runtime
