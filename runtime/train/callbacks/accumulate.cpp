#include "runtime/train/callbacks/internal.h"
#include "runtime/train/loop.h"

namespace pipelang::runtime {

namespace {

// Gradients of several batches summed before one step: each batch's loss is
// divided by N, so that the step sees their mean, as one larger batch would.
class AccumulateGradients : public Callback {
public:
    explicit AccumulateGradients(int64_t batches) : batches_(batches) {}

    // The last batch of an epoch steps with what it has.
    void beforeBatch(Loop& loop) override {
        loop.stepsNow = (loop.done + 1) % batches_ == 0 || loop.done + 1 == loop.batches;
    }
    void afterLoss(Loop& loop) override {
        if (batches_ != 1) loop.loss = loop.loss / double(batches_);
    }

private:
    int64_t batches_;
};

}  // namespace

std::unique_ptr<Callback> accumulateGradients(int64_t batches) {
    return std::make_unique<AccumulateGradients>(batches);
}

}  // namespace pipelang::runtime
