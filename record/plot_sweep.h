// `pipe plot SWEEPDIR`: a sweep (or `pipe cv`) compared as pictures, drawn by
// gnuplot: its ranking metric per point as bars in ranked order, the best
// point in another colour (sweep.png / sweep.svg), then the loss and metric
// curves of every finished point, a line per point (as `pipe plot RUN...`).
#pragma once

#include <filesystem>
#include <vector>

#include "record/plot.h"

namespace pipelang::record {

// Throws RecordError when the sweep has no finished point with the metric,
// PlotError when gnuplot is missing or fails.
std::vector<std::filesystem::path> plotSweep(const std::filesystem::path& sweepDir, const PlotOptions& options);

}  // namespace pipelang::record
