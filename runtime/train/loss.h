// The loss of a `train` section as a function of outputs and targets.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <utility>

#include "interpreter/pipeline.h"

namespace pipelang::runtime {

using LossFn = std::function<torch::Tensor(const torch::Tensor& output, const torch::Tensor& target)>;

LossFn makeLoss(const Value& loss);

// The id in next-token targets where there is nothing to predict.
constexpr int64_t kIgnoreToken = -100;

// Next-token predictions and targets (int64 {B, T}, see Batch) as rows of
// scores {N, V} and the ids {N} they are compared with: a {B, V} output
// predicts y's last column, a {B, T, V} one every column.
std::pair<torch::Tensor, torch::Tensor> tokenPredictions(const torch::Tensor& output, const torch::Tensor& target);

}  // namespace pipelang::runtime
