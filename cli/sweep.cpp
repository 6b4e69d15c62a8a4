#include "cli/sweep.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "cli/common.h"
#include "record/project.h"
#include "record/sweep_run.h"

namespace pipelang::cli {

namespace fs = std::filesystem;

SweepOutcome runSweep(const RunFlags& command, const std::vector<record::SweepPoint>& points, const std::string& metric,
                      const std::string& kind, const std::string& describe) {
    SweepOutcome outcome;
    record::Project project;
    try {
        project = record::projectFor(command.file);
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "pipe run: error: %s\n", e.what());
        outcome.code = 2;
        return outcome;
    }
    record::SweepRunOptions options;
    options.runtime = runtimeExecutable();
    if (!fs::exists(options.runtime)) {
        std::fprintf(stderr, "pipe run: the LibTorch runtime `%s` is not built; build with scripts/build\n",
                     options.runtime.c_str());
        outcome.code = 1;
        return outcome;
    }
    options.file = command.file;
    options.overrides = command.overrides;
    options.device = command.device;
    options.jobs = std::max(1, command.jobs);
    // Threads: --threads, else pipe.toml's (the runtime reads it), else the cores split between the jobs.
    options.threads = command.threads > 0 ? command.threads
                      : project.threads   ? 0
                      : options.jobs > 1  ? record::threadsPerJob(options.jobs)
                                          : 0;
    options.metric = metric;
    fs::path runs = !command.runs.empty() ? fs::path(command.runs) : project.runs ? *project.runs : fs::path("runs");
    try {
        options.sweepDir = record::makeSweepDirectory(runs, command.file, kind);
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "pipe run: error: %s\n", e.what());
        outcome.code = 1;
        return outcome;
    }
    outcome.dir = options.sweepDir;
    std::string threads =
        options.threads > 0 ? std::to_string(options.threads) + " thread" + (options.threads == 1 ? "" : "s") + " each"
                            : "threads as a single run";
    std::printf("%s %s: %zu points (%s), %d at a time, %s\n", kind.c_str(), options.sweepDir.c_str(), points.size(),
                describe.c_str(), options.jobs, threads.c_str());
    std::fflush(stdout);

    bool interrupted = false;
    outcome.results = record::runPoints(points, options, interrupted, stdout);
    auto order = record::rankPoints(outcome.results, metric);
    std::string table = record::renderSweepTable(outcome.results, order, metric);
    std::printf("\n%s", table.c_str());
    std::ofstream(options.sweepDir / "sweep.txt") << table;
    std::ofstream(options.sweepDir / "sweep.csv") << record::sweepCsv(outcome.results, order);
    std::ofstream(options.sweepDir / "sweep.toml")
        << "# what `pipe plot` needs to draw this " << kind << "\nkind = \"" << kind << "\"\nfile = \""
        << fs::absolute(command.file).lexically_normal().string() << "\"\nmetric = \"" << metric
        << "\"\nhigher_is_better = " << (record::higherIsBetter(metric) ? "true" : "false") << "\n";
    std::printf("saved %s and sweep.txt\n", (options.sweepDir / "sweep.csv").c_str());
    bool failed = false;
    for (const auto& r : outcome.results) failed = failed || r.status != "finished";
    outcome.code = interrupted ? 130 : failed ? 1 : 0;
    return outcome;
}

}  // namespace pipelang::cli
