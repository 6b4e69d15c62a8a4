#include "runtime/train/callbacks/internal.h"
#include "runtime/train/loop.h"

namespace pipelang::runtime {

namespace {

class ClipGradients : public Callback {
public:
    explicit ClipGradients(double maxNorm) : maxNorm_(maxNorm) {}

    // Before the step, after accumulation and averaging over the ranks:
    // the norm is that of the gradient the step uses.
    void beforeStep(Loop& loop) override { torch::nn::utils::clip_grad_norm_(loop.network.parameters(), maxNorm_); }

private:
    double maxNorm_;
};

}  // namespace

std::unique_ptr<Callback> clipGradients(double maxNorm) {
    return std::make_unique<ClipGradients>(maxNorm);
}

}  // namespace pipelang::runtime
