// `pipe interpret RUN`: a finished run's model on one of its splits, as
// fastai's ClassificationInterpretation shows it: the confusion matrix
// (CSV, a table on the terminal, a heatmap) and the items with the highest
// loss (CSV naming each item; for images a captioned grid). A regression
// lists its worst residuals instead. Files go into RUN/interpret/.
#pragma once

#include <filesystem>
#include <string>

namespace pipelang::runtime {

struct InterpretOptions {
    std::filesystem::path run;
    std::string split = "valid";  // "valid" or "test"
    std::string stage;            // the train stage; empty: the last
    int top = 9;                  // items with the highest loss
};

// Returns the exit code; throws RuntimeError on bad input (no weights, a
// split the run's data does not have).
int interpret(const InterpretOptions& options);

}  // namespace pipelang::runtime
