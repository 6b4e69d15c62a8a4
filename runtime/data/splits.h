// Splitters: which items train, which validate. Every splitter is a pure
// function of the listing and its own seed, so a split repeats exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "interpreter/pipeline.h"
#include "runtime/data/listing.h"

namespace pipelang::runtime {

enum class Side : int8_t { Train = 0, Valid = 1, Test = 2, None = 3 };

// Assigns every listed item to a side. `labels` (one per item) are used by
// the stratified splitters; `fold` picks the validation fold of a k-fold
// splitter (0 when not given). `folder(train, valid)` also sends items in a
// folder named `test` to the test side; items in none of its folders are
// left out (Side::None).
// `time` is a series' time axis (series.h), which the splitters in time
// (`before`, `last`) need and the others pass over.
struct TimeAxis;
std::vector<Side> assignSplits(const Value& splitter, const Listing& listing, const std::vector<std::string>& labels,
                               std::optional<int64_t> fold, const TimeAxis* time = nullptr);

// The number of folds of a k-fold splitter, 0 for the others.
int64_t foldCount(const Value& splitter);

}  // namespace pipelang::runtime
