// The loss of a `train` section as a function of outputs and targets.
#pragma once

#include <torch/torch.h>

#include <functional>

#include "interpreter/pipeline.h"

namespace pipelang::runtime {

using LossFn = std::function<torch::Tensor(const torch::Tensor& output, const torch::Tensor& target)>;

LossFn makeLoss(const Value& loss);

}  // namespace pipelang::runtime
