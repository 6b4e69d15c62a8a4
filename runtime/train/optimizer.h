// The optimizer of a `train` section over two parameter groups — backbone
// then head — so `lr = slice(lo, hi)` gives each its own rate and a schedule
// can set both at every step.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "interpreter/pipeline.h"
#include "runtime/models/network.h"

namespace pipelang::runtime {

struct PeakRates {
    double backbone;
    double head;
};

// The peak rates the optimizer's `lr` asks for.
PeakRates peakRates(const Value& optimizer);
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const Value& optimizer, Network& network);
// Sets the learning rate of the backbone group (0) and the head group (1).
void setRates(torch::optim::Optimizer& optimizer, double backbone, double head);
// Drops the gradients of the optimizer's parameters (PyTorch's
// zero_grad(set_to_none=True)). LibTorch 1.13's zero_grad fills them with
// zeros instead, and backward then adds into them: two kernels per parameter
// and step, where with no gradient backward simply hands over its own.
void clearGradients(torch::optim::Optimizer& optimizer);

}  // namespace pipelang::runtime
