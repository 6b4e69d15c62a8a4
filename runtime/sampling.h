// Drawing a language model's continuation token by token, for
// `pipe generate` (generate.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "runtime/models/network.h"

namespace pipelang::runtime {

struct Sampling {
    int64_t context = 0;          // the most tokens the model is shown (its window)
    int64_t padId = 0;            // fills a window shorter than `context` on the left
    bool fixedWindow = false;     // the model reads exactly `context` tokens (embedding_mlp)
    std::optional<int64_t> stop;  // the token that ends a sample (not included)
    int64_t length = 200;
    double temperature = 1.0;
};

// Continues `start` (at least one token) with up to `length` tokens drawn
// from `network` with `generator`; returns the new tokens only. A network's
// {1, V} or {1, T, V} scores for a window give the next token's distribution
// by their last position.
std::vector<int64_t> sampleTokens(Network& network, std::vector<int64_t> start, const Sampling& sampling,
                                  torch::Generator& generator);

}  // namespace pipelang::runtime
