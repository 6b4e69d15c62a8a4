// The loss of a `train` section as a function of outputs and targets.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <utility>

#include "interpreter/pipeline.h"

namespace pipelang::runtime {

using LossFn = std::function<torch::Tensor(const torch::Tensor& output, const torch::Tensor& target)>;

LossFn makeLoss(const Value& loss);

// The loss of a batch mixed by mixup or cutmix (dataset.h: yMix, lam), as
// fastai's MixUp and CutMix: per item lam·loss(y) + (1 - lam)·loss(yMix),
// averaged. Class targets become the mixed one-hot distributions, on which
// cross entropy (with or without label smoothing) is exactly that blend of
// the two losses; float targets (multi_category, number) are blended, as
// fastai blends them.
torch::Tensor mixedLoss(const LossFn& loss, const torch::Tensor& output, const torch::Tensor& y,
                        const torch::Tensor& yMix, const torch::Tensor& lam);

// The id in next-token targets where there is nothing to predict.
constexpr int64_t kIgnoreToken = -100;

// Next-token predictions and targets (int64 {B, T}, see Batch) as rows of
// scores {N, V} and the ids {N} they are compared with: a {B, V} output
// predicts y's last column, a {B, T, V} one every column.
std::pair<torch::Tensor, torch::Tensor> tokenPredictions(const torch::Tensor& output, const torch::Tensor& target);

}  // namespace pipelang::runtime
