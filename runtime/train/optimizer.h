// The optimizer of a `train` section over the model's layer groups
// (interpreter/layer_groups.h), one parameter group each, from the input to
// the head, so that `lr = slice(lo, hi)` gives each its own rate and a
// schedule can set them all at every step.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "interpreter/layer_groups.h"
#include "interpreter/pipeline.h"
#include "runtime/models/network.h"

namespace pipelang::runtime {

// The peak rates the optimizer's `lr` asks for: of the first layer group and of the head.
RateRange peakRates(const Value& optimizer);
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const Value& optimizer, Network& network);
// Sets the rates of the optimizer's groups: `lo` for the first, `hi` for the
// head (the last), evenly spaced on a log scale between (fastai's even_mults).
void setRates(torch::optim::Optimizer& optimizer, double lo, double hi);
// Drops the gradients of the optimizer's parameters (PyTorch's
// zero_grad(set_to_none=True)). LibTorch 1.13's zero_grad fills them with
// zeros instead, and backward then adds into them: two kernels per parameter
// and step, where with no gradient backward simply hands over its own.
void clearGradients(torch::optim::Optimizer& optimizer);

}  // namespace pipelang::runtime
