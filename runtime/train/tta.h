// Test-time augmentation, as fastai's Learner.tta: predictions on `passes`
// copies of each item made with the training item transforms (seeded by
// the run's seed and the pass), averaged, then blended with the plain
// prediction: (1 - beta) · mean(augmented) + beta · plain, beta = 0.25.
// Predictions are probabilities (softmax for a category, sigmoid for a
// multi-category target) or the values (a number).
#pragma once

#include <torch/torch.h>

#include <string>

#include "interpreter/pipeline.h"
#include "runtime/data/dataset.h"
#include "runtime/models/network.h"
#include "runtime/train/fit.h"

namespace pipelang::runtime {

constexpr double kTtaBeta = 0.25;  // fastai's Learner.tta default

// The network's outputs as predictions (probabilities or values).
torch::Tensor predictionsOf(const torch::Tensor& output, const std::string& target);
// Predictions back as outputs the losses and metrics read as logits:
// log-probabilities (softmax gives back the probabilities), logits, values.
torch::Tensor outputsOf(const torch::Tensor& predictions, const std::string& target);
// fastai's blend: torch.lerp(augmented, plain, beta).
torch::Tensor ttaBlend(const torch::Tensor& augmentedMean, const torch::Tensor& plain);

// evaluate() (fit.h) on the TTA predictions of `passes` augmented copies.
// Throws RuntimeError for data that cannot be augmented (not images).
Evaluation evaluateWithTta(Network& network, const PreparedData& data, const Section& dataSection, Split split,
                           const Section& train, const Value& metrics, const torch::Device& device, int64_t passes);

}  // namespace pipelang::runtime
