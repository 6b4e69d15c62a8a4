// The batch norm of pipe's convolutional backbones: LibTorch's BatchNorm2d
// (same parameters, buffers, names and arithmetic), which in a data-parallel run with
// `sync_bn = true` normalises a training batch by the statistics of the whole
// batch over every rank — DDP's SyncBatchNorm — instead of its own shard's.
// Otherwise, as under DDP, each rank uses its own shard's statistics.
#pragma once

#include <torch/torch.h>

namespace pipelang::runtime::models {

// Its own module rather than a subclass of torch::nn::BatchNorm2dImpl,
// whose base class Debian's LibTorch does not export; the same parameters
// and buffers, initialised as LibTorch's, and the same ATen batch_norm.
class BatchNorm2dImpl : public torch::nn::Cloneable<BatchNorm2dImpl> {
public:
    explicit BatchNorm2dImpl(int64_t features, double eps = 1e-5, double momentum = 0.1);
    void reset() override;
    torch::Tensor forward(const torch::Tensor& input);
    void pretty_print(std::ostream& stream) const override;

    int64_t features;
    double eps, momentum;
    bool synchronized = false;  // set by synchronizeBatchNorm
    torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(BatchNorm2d);

// Turns SyncBatchNorm on (or off) for every batch norm of `network`. It acts
// only while the network trains in a run of more than one process.
void synchronizeBatchNorm(torch::nn::Module& network, bool on);

// Batch norm over the batch of every rank, differentiable: forward averages
// the per-channel sums and sums of squares over the ranks; backward, the
// per-channel sums of the gradient terms (exposed for tests).
torch::Tensor syncBatchNorm(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias,
                            torch::Tensor runningMean, torch::Tensor runningVar, double momentum, double eps);

}  // namespace pipelang::runtime::models
