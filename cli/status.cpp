// `pipe status RUN`: how a run is doing, from what it has written (its
// record's status, each stage's epochs and last metrics) and, for a run
// submitted with --slurm, what Slurm says of its job. For a sweep's
// directory: the table of its points so far, saved as sweep.csv and
// sweep.txt (what a Slurm array's tasks call as each ends).
#include <toml.hpp>

#include "cli/common.h"
#include "cluster/slurm.h"
#include "record/run.h"
#include "record/sweep_run.h"

namespace pipelang::cli {

namespace fs = std::filesystem;

namespace {

// The run's own word: [run] status of record.toml (running, finished, failed, interrupted).
std::string recordedStatus(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_regular_file(dir / "record.toml", ec)) return "";
    try {
        toml::value record = toml::parse((dir / "record.toml").string());
        if (!record.contains("run") || !toml::find(record, "run").contains("status")) return "";
        return toml::find<std::string>(record, "run", "status");
    } catch (const std::exception&) {
        return "";  // being rewritten this instant, or damaged: the stages below still tell
    }
}

// The job ids of slurm.toml, oldest first.
std::vector<std::string> slurmJobs(const fs::path& dir) {
    std::vector<std::string> ids;
    std::error_code ec;
    if (!fs::is_regular_file(dir / "slurm.toml", ec)) return ids;
    try {
        toml::value jobs = toml::parse((dir / "slurm.toml").string());
        if (jobs.contains("job"))
            for (const auto& job : toml::find(jobs, "job").as_array())
                ids.push_back(toml::find<std::string>(job, "id"));
    } catch (const std::exception& e) {
        std::string message = e.what();
        throw record::RecordError((dir / "slurm.toml").string() + " cannot be read (" +
                                  message.substr(0, message.find('\n')) + ")");
    }
    return ids;
}

// A sweep's directory: its sweep.toml's metric and number of points.
struct SweepFile {
    std::string metric;
    size_t points = 0;
};
std::optional<SweepFile> sweepFile(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_regular_file(dir / "sweep.toml", ec)) return std::nullopt;
    try {
        toml::value sweep = toml::parse((dir / "sweep.toml").string());
        return SweepFile{toml::find<std::string>(sweep, "metric"), size_t(toml::find<int64_t>(sweep, "points"))};
    } catch (const std::exception& e) {
        std::string message = e.what();
        throw record::RecordError((dir / "sweep.toml").string() + " cannot be read (" +
                                  message.substr(0, message.find('\n')) + ")");
    }
}

std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", v);
    return text;
}

}  // namespace

int status(const std::vector<std::string>& args) {
    CLI::App app{
        "Print how a run is doing: its status, each train stage's epochs and last metrics, and for a run "
        "submitted with `pipe run --slurm` the state of its Slurm job."};
    std::string runArg;
    app.add_option("run", runArg, "a run directory, e.g. runs/fashion-20261203-160000")->required();
    if (int code = parseArgs(app, "status", args); code >= 0) return code;
    fs::path dir = runArg;
    try {
        auto jobs = slurmJobs(dir);
        auto sweep = sweepFile(dir);
        if (!record::isRunDirectory(dir) && jobs.empty() && !sweep)
            throw record::RecordError(runArg + " is not a run directory: it has no source.pipe and no slurm.toml");
        std::printf("run %s\n", record::runName(dir).c_str());
        if (!jobs.empty()) {
            const std::string& id = jobs.back();
            std::string said;
            try {
                auto state = cluster::jobState(id);
                said = state ? state->state + (state->detail.empty() ? "" : ", " + state->detail) + " (" +
                                   state->source + ")"
                             : "no longer known to Slurm";
            } catch (const cluster::SlurmError& e) {
                said = e.what();
            }
            std::printf("  Slurm job %s: %s\n", id.c_str(), said.c_str());
        }
        if (sweep) {
            auto results = record::readPointResults(dir, sweep->points);
            std::printf("\n%s", record::saveSweepTable(dir, results, sweep->metric).c_str());
            return kOk;
        }
        std::string recorded = recordedStatus(dir);
        if (!record::isRunDirectory(dir)) {
            std::printf("  not started yet\n");
            return kOk;
        }
        std::printf("  %s\n", recorded.empty() ? "started" : recorded.c_str());
        auto run = record::readRun(dir);
        for (const auto& stage : run.stages) {
            const auto& t = stage.metrics;
            std::string line = "  stage " + stage.name + ": " + std::to_string(t.rows.size()) +
                               (t.rows.size() == 1 ? " epoch" : " epochs") + " done";
            if (!t.rows.empty())
                for (size_t c = 1; c < t.columns.size(); ++c)
                    if (t.columns[c] != "time") line += ", " + t.columns[c] + " " + number(t.rows.back()[c]);
            std::printf("%s\n", line.c_str());
        }
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "pipe status: %s\n", e.what());
        return kBadInput;
    }
    return kOk;
}

}  // namespace pipelang::cli
