// DDP's gradient averaging for the training loop, on c10d's own Reducer (the
// C++ half of torch.nn.parallel.DistributedDataParallel): the parameters are
// put in buckets of about 25 MB (the first 1 MB, in reverse order, as DDP
// does), autograd hooks on every parameter fire as its gradient is ready
// during backward, and a bucket whose gradients are all ready is averaged
// over the ranks with an asynchronous allreduce while backward goes on. The
// step then finds every gradient averaged. In one process it does nothing.
#pragma once

#include <torch/torch.h>

#include <memory>

namespace c10d {
class Reducer;
}

namespace pipelang::runtime::distributed {

class GradientSync {
public:
    // The parameters that need a gradient now (a frozen backbone's do not):
    // a phase that freezes or unfreezes builds a new GradientSync.
    explicit GradientSync(torch::nn::Module& network);
    ~GradientSync();
    // Before the forward pass: `sync` when this batch's backward should
    // average the gradients — false for all but the last batch of a
    // gradient accumulation, which only add up locally (DDP's no_sync).
    void beforeForward(bool sync);
    // After the forward pass, before backward.
    void beforeBackward(bool sync);

private:
    std::unique_ptr<c10d::Reducer> reducer_;
};

// Rank 0's parameters and buffers on every rank, as DDP does when it wraps a
// model: they start equal whatever each rank built or loaded.
void copyFromMain(torch::nn::Module& network);

}  // namespace pipelang::runtime::distributed
