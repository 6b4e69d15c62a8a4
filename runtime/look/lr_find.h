// `pipe lr-find FILE`: the learning-rate range test as fastai's `lr_find`
// runs it. The file's model, optimizer, loss and training batches; the rate
// grows exponentially from `start` to `end` over `iters` batches (the rate
// of batch i is start·(end/start)^(i/iters)); the loss is smoothed with a
// debiased exponential moving average (β = 0.98); the test stops early once
// the smoothed loss exceeds four times its minimum. The weights are thrown
// away. Suggestions are read from the curve without its first tenth and last
// five points, as fastai does: `valley` (the default), `steep` and
// `minimum/10`.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace pipelang::runtime {

struct LrFindOptions {
    std::string file;
    std::vector<std::string> overrides;  // --set key=value
    std::string stage;                   // the train stage; empty: the last
    std::string device;                  // "", "cpu" or "cuda" (over the file's choice)
    std::filesystem::path out;           // the folder; empty: lr-find-<file stem>
    double start = 1e-7, end = 10;
    int iters = 100;
};

// One step of the test.
struct LrStep {
    double lr = 0, loss = 0, smoothed = 0;
};

struct LrSuggestion {
    std::string name;  // "valley", "steep", "minimum/10"
    double lr = 0;
    double loss = 0;  // the smoothed loss at the nearest recorded rate, for the plot
};

// The suggestions from recorded (rate, smoothed loss) pairs, `iters` being the
// test's planned length: empty when fewer than two points remain once the
// first iters/10 and the last five are left out.
std::vector<LrSuggestion> suggestRates(const std::vector<LrStep>& steps, int iters);

// fastai's `valley`: the index into `losses` about two thirds down the longest
// run of decreasing values (a longest decreasing subsequence's span).
size_t valleyIndex(const std::vector<double>& losses);

// Returns the exit code; throws RuntimeError on bad input.
int lrFind(const LrFindOptions& options);

}  // namespace pipelang::runtime
