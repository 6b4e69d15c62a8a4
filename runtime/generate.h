// `pipe generate RUN`: samples text from a finished run's language model
// (a train stage whose data has a `chars` or `tokens` block), token by token,
// each drawn from the model's softmax at a temperature.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runtime/models/network.h"

namespace pipelang::runtime {

struct GenerateOptions {
    std::filesystem::path run;  // a run directory
    std::string stage;          // the train stage; empty: the last language model
    int64_t n = 5;              // samples
    double temperature = 1.0;   // 0: always the most likely token
    std::string prompt;         // the text every sample starts from
    int64_t length = 200;       // the most tokens per sample
    uint64_t seed = 0;          // the same seed gives the same samples
};

// Returns the exit code; throws RuntimeError when the run cannot be used.
int generate(const GenerateOptions& options);

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
