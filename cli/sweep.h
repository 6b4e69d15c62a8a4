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

// Runs the points into a new `<stem>-<kind>-<date>-<time>` directory under the
// runs folder (--runs, else pipe.toml's `runs`, else runs/), prints a line per
// finished point, then prints the table ranked by `metric` and saves it as
// sweep.csv and sweep.txt.
SweepOutcome runSweep(const RunFlags& command, const std::vector<record::SweepPoint>& points, const std::string& metric,
                      const std::string& kind, const std::string& describe);

}  // namespace pipelang::cli
