// What `pipe run` (a file with a sweep block) and `pipe cv` share: the
// options of a run, the sweep directory, its points run as `pipe-runtime`
// processes, and the ranked table printed and saved.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cli/run_flags.h"
#include "record/sweep.h"

namespace pipelang::cli {

struct SweepOutcome {
    int code = 0;  // 0 every point finished, 1 some failed, 2 bad input, 130 interrupted
    std::filesystem::path dir;
    std::vector<record::PointResult> results;  // in point order
};

// Runs the strategy's points into a new `<stem>-<kind>-<date>-<time>`
// directory under the runs folder (--runs, else pipe.toml's `runs`, else
// runs/), prints a line per finished point, then prints the table ranked by
// `metric` and saves it as sweep.csv and sweep.txt, and what the sweep spent.
SweepOutcome runSweep(const RunFlags& command, const record::Strategy& strategy, const std::string& metric,
                      const std::string& kind, const std::string& describe, const std::vector<record::SweepAxis>& axes);

// `pipe run FILE --sweep-point K --sweep-dir D` (hidden; what a Slurm array
// task runs): point K (from 0) of the file's sweep, run into the sweep
// directory D, which holds the others. Exits 0 when the point finished or
// was stopped by asha, else as its run did.
int runSweepPoint(const RunFlags& command, int64_t point, const std::string& sweepDir);

}  // namespace pipelang::cli
