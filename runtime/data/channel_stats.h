// What `normalize()` measures on the training items of data decoded from
// files (sound, video): each channel's mean and standard deviation, on a
// seeded sample when there are many, the same for any number of threads.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <utility>
#include <vector>

#include "interpreter/pipeline.h"

namespace pipelang::runtime {

// `rows` if it has at most `most`, else a seeded sample of that many, in order.
std::vector<int64_t> statsSample(const std::vector<int64_t>& rows, int64_t most, uint64_t seed);

// Per-channel mean and standard deviation of the items `item(row)` for the
// given rows; an item is {channels, ...} once `channelsFirst` has arranged it.
// Each item's sums are made on all cores and added up in order, in double.
std::pair<std::vector<double>, std::vector<double>> channelStats(const std::vector<int64_t>& rows, int64_t channels,
                                                                 const std::function<torch::Tensor(int64_t row)>& item);

// The mean and standard deviation `normalize(...)` asks for, one per channel:
// its `mean` and `std` (one value, or one per channel) where written, the
// rest from `measure`; a deviation of 0 becomes 1. Throws RuntimeError for a
// list of the wrong length.
std::pair<std::vector<float>, std::vector<float>> normalization(
    const Value* normalize, size_t channels,
    const std::function<std::pair<std::vector<double>, std::vector<double>>()>& measure);

}  // namespace pipelang::runtime
