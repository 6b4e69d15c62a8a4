#include "cli/sweep.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "cli/common.h"
#include "interpreter/compile.h"
#include "record/project.h"
#include "record/run.h"
#include "record/sweep_run.h"

namespace pipelang::cli {

namespace fs = std::filesystem;

namespace {

// The options every point of a sweep runs with, from the command line and
// pipe.toml; `code` is set when they cannot be had.
record::SweepRunOptions runOptions(const RunFlags& command, const std::string& metric, int& code) {
    record::SweepRunOptions options;
    record::Project project;
    try {
        project = record::projectFor(command.file);
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "pipe run: error: %s\n", e.what());
        code = 2;
        return options;
    }
    options.runtime = runtimeExecutable();
    if (!fs::exists(options.runtime)) {
        std::fprintf(stderr, "pipe run: the LibTorch runtime `%s` is not built; build with scripts/build\n",
                     options.runtime.c_str());
        code = 1;
        return options;
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
    options.sweepDir = !command.runs.empty() ? fs::path(command.runs) : project.runs ? *project.runs : fs::path("runs");
    return options;
}

}  // namespace

SweepOutcome runSweep(const RunFlags& command, const record::Strategy& strategy, const std::string& metric,
                      const std::string& kind, const std::string& describe,
                      const std::vector<record::SweepAxis>& axes) {
    SweepOutcome outcome;
    record::SweepRunOptions options = runOptions(command, metric, outcome.code);
    if (outcome.code) return outcome;
    try {
        options.sweepDir = record::makeRunDirectory(options.sweepDir, command.file, kind);
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "pipe run: error: %s\n", e.what());
        outcome.code = 1;
        return outcome;
    }
    outcome.dir = options.sweepDir;
    record::SweepSummary summary{kind, command.file, metric, describe, strategy.count};
    summary.axes = axes;
    record::writeSweepToml(options.sweepDir, summary);
    std::string threads =
        options.threads > 0 ? std::to_string(options.threads) + " thread" + (options.threads == 1 ? "" : "s") + " each"
                            : "threads as a single run";
    std::printf("%s %s: %zu points (%s), %d at a time, %s\n", kind.c_str(), options.sweepDir.c_str(), strategy.count,
                describe.c_str(), options.jobs, threads.c_str());
    std::fflush(stdout);

    bool interrupted = false;
    auto began = std::chrono::steady_clock::now();
    outcome.results = record::runPoints(strategy, options, interrupted, stdout);
    summary.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    std::string table = record::saveSweepTable(options.sweepDir, outcome.results, metric);
    std::printf("\n%s", table.c_str());
    summary.epochs = 0;
    summary.seconds = 0;
    size_t stopped = 0;
    for (const auto& r : outcome.results) {
        *summary.epochs += r.epochs;
        *summary.seconds += r.seconds;
        stopped += r.status == "stopped";
    }
    record::writeSweepToml(options.sweepDir, summary);
    std::printf("spent %lld epochs over the points (%.1f s of runs, %.1f s in all)%s\n",
                static_cast<long long>(*summary.epochs), *summary.seconds, *summary.wall,
                stopped ? (", " + std::to_string(stopped) + " stopped early by asha").c_str() : "");
    std::printf("saved %s and sweep.txt\n", (options.sweepDir / "sweep.csv").c_str());
    bool failed = false;
    for (const auto& r : outcome.results) failed = failed || (r.status != "finished" && r.status != "stopped");
    outcome.code = interrupted ? 130 : failed ? 1 : 0;
    return outcome;
}

int runSweepPoint(const RunFlags& command, int64_t point, const std::string& sweepDir) {
    auto c = compileFile(command.file, CompileOptions{command.overrides});
    printDiagnostics(c->diags);
    if (!c->ok()) return kBadInput;
    if (!record::hasSweep(c->pipeline)) {
        std::fprintf(stderr, "pipe run: --sweep-point runs a point of a sweep, but `%s` has no sweep block\n",
                     command.file.c_str());
        return kBadInput;
    }
    record::SweepPlan plan = record::sweepPlan(c->pipeline);
    record::Strategy strategy = record::strategyOf(plan);
    if (point < 0 || size_t(point) >= strategy.count) {
        std::fprintf(stderr, "pipe run: the sweep has points 0 to %zu, not %lld\n", strategy.count - 1,
                     static_cast<long long>(point));
        return kBadInput;
    }
    int code = 0;
    record::SweepRunOptions options = runOptions(command, plan.metric, code);
    if (code) return code;
    options.sweepDir = sweepDir;
    if (!fs::is_directory(options.sweepDir)) {
        std::fprintf(stderr, "pipe run: the sweep directory `%s` does not exist\n", sweepDir.c_str());
        return kBadInput;
    }
    record::PointResult r;
    try {
        r = record::runOnePoint(size_t(point), strategy, options);
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "pipe run: error: %s\n", e.what());
        return kFailed;
    }
    std::string line = r.run + " ";
    for (const auto& [key, value] : r.point) line += " " + key + "=" + value;
    std::printf("%s  %s%s\n", line.c_str(), r.status.c_str(), r.error.empty() ? "" : (": " + r.error).c_str());
    if (r.status == "finished" || r.status == "stopped") return kOk;
    return r.exitCode ? r.exitCode : kFailed;
}

}  // namespace pipelang::cli
