// `pipe plot`: pictures of runs drawn by gnuplot (Debian's gnuplot-nox) from
// their metrics.csv and lr.csv. One run gives, per train stage, its loss
// curves (train_loss and valid_loss against the epoch), a curve per metric and
// the learning-rate schedule; several runs give one comparison per loss,
// metric and schedule with a line per run. Every picture is written as PNG
// and/or SVG, beside plots.gp, the gnuplot script that drew them (its data
// inline), to restyle by hand.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "record/run.h"

namespace pipelang::record {

// An executable found in the PATH, as a shell would find it.
std::optional<std::filesystem::path> findProgram(const std::string& name);

// Runs `program` with `args`, waits, and returns its exit status with what it
// printed (stdout and stderr) in `output`.
int runProgram(const std::filesystem::path& program, const std::vector<std::string>& args, std::string& output);

// gnuplot is missing or failed: not the runs' fault.
struct PlotError : RecordError {
    using RecordError::RecordError;
};

// A gnuplot string literal: single quotes, in which only '' is special.
std::string gnuplotQuote(const std::string& text);

// Runs gnuplot on `script` and checks that each of `pictures` was written.
// Throws PlotError when gnuplot is missing (naming the package that brings
// it), fails (with what it said) or leaves a picture out.
void runGnuplot(const std::filesystem::path& script, const std::vector<std::filesystem::path>& pictures);

struct PlotOptions {
    std::filesystem::path out;  // the folder for the pictures, created if missing
    bool png = true;
    bool svg = true;
};

// Draws `runs` (one: its own curves; several: comparisons) into options.out
// and returns the pictures written, in order. Throws RecordError when there is
// nothing to draw (no stage with a finished epoch), PlotError when gnuplot is
// missing (naming the package that brings it) or fails (with what it said).
std::vector<std::filesystem::path> plotRuns(const std::vector<RunRecord>& runs, const PlotOptions& options);

}  // namespace pipelang::record
