#include <optional>

#include "runtime/distributed/gradient_sync.h"
#include "runtime/models/batch_norm.h"
#include "runtime/train/callbacks/internal.h"
#include "runtime/train/loop.h"

namespace pipelang::runtime {

namespace {

// DDP's part of a data-parallel run: every rank starts from rank 0's
// weights, and the gradients of each step are averaged over the ranks. In
// one process it changes nothing.
class SyncGradients : public Callback {
public:
    explicit SyncGradients(bool syncBatchNorm) : syncBatchNorm_(syncBatchNorm) {}

    void beforeFit(Loop& loop) override {
        distributed::copyFromMain(loop.network);
        models::synchronizeBatchNorm(loop.network, syncBatchNorm_);
    }
    // The parameters a phase trains: a frozen backbone's are left out.
    void beforePhase(Loop& loop) override { sync_.emplace(loop.network); }
    void afterPhase(Loop&) override { sync_.reset(); }

    // Gradients are averaged in the backward of a step's last accumulated
    // batch only, as under DDP's no_sync.
    void beforeBatch(Loop& loop) override { sync_->beforeForward(loop.stepsNow); }
    void afterLoss(Loop& loop) override { sync_->beforeBackward(loop.stepsNow); }

private:
    bool syncBatchNorm_;
    std::optional<distributed::GradientSync> sync_;
};

}  // namespace

std::unique_ptr<Callback> syncGradients(bool syncBatchNorm) {
    return std::make_unique<SyncGradients>(syncBatchNorm);
}

}  // namespace pipelang::runtime
