// `pipe predict RUN INPUT...`: a finished run's model on new inputs, prepared
// exactly as its validation items were (the run's vocabulary and statistics),
// printed as the top labels with their probabilities.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pipelang::runtime {

struct PredictOptions {
    std::filesystem::path run;  // a run directory
    std::vector<std::filesystem::path> inputs;
    std::string stage;  // the train stage; empty: the last one
    int top = 3;        // labels shown per item
    int tta = 0;        // augmented copies averaged in (fastai's Learner.tta), 0: none
};

// Returns the exit code: 0, or 1 when the run or an input cannot be used.
int predict(const PredictOptions& options);

}  // namespace pipelang::runtime
