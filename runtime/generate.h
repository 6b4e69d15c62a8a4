// `pipe generate RUN`: samples text from a finished run's language model
// (a train stage whose data has a `chars` or `tokens` block), token by token,
// each drawn from the model's softmax at a temperature (sampling.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

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

}  // namespace pipelang::runtime
