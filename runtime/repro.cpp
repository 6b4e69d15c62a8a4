#include "runtime/repro.h"

#include <cmath>
#include <fstream>
#include <toml.hpp>

#include "runtime/error.h"
#include "runtime/execute.h"
#include "runtime/log.h"
#include "runtime/run_record.h"
#include "runtime/train/fit.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

namespace {

toml::value readRecord(const fs::path& run) {
    fs::path path = run / "record.toml";
    if (!fs::exists(path))
        throw RuntimeError("`" + run.string() + "` has no record.toml; is this a run directory written by `pipe run`?");
    try {
        toml::value record = toml::parse(path.string());
        // The parts a rerun needs must all be there: a truncated record is refused whole.
        toml::find<std::string>(record, "source", "path");
        toml::find<std::string>(record, "source", "sha256");
        toml::find<int64_t>(record, "run", "threads");
        toml::find<std::string>(record, "run", "status");
        return record;
    } catch (const std::exception& e) {
        std::string message = e.what();
        throw RuntimeError("`" + path.string() + "` is corrupt or incomplete, so the run cannot be repeated from it (" +
                           message.substr(0, message.find('\n')) + ")");
    }
}

std::vector<std::string> lines(const fs::path& path) {
    std::vector<std::string> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// metrics.csv without its last column, the epoch's time.
std::vector<std::string> metricRows(const fs::path& csv) {
    std::vector<std::string> rows;
    for (auto& line : lines(csv)) rows.push_back(line.substr(0, line.rfind(',')));
    return rows;
}

bool same(double a, double b) {
    return a == b || (std::isnan(a) && std::isnan(b));
}

}  // namespace

int repro(const ReproOptions& options) {
    toml::value before = readRecord(options.run);
    if (toml::find<std::string>(before, "run", "status") != "finished")
        throw RuntimeError("the run `" + options.run.string() + "` did not finish (status \"" +
                           toml::find<std::string>(before, "run", "status") +
                           "\"); only a finished run can be repeated");
    fs::path file = toml::find<std::string>(before, "source", "path");
    if (!fs::exists(file))
        throw RuntimeError("the run's file `" + file.string() + "` is gone; restore it to repeat the run");
    if (sha256File(file) != toml::find<std::string>(before, "source", "sha256"))
        throw RuntimeError("`" + file.string() +
                           "` has changed since the run (its SHA-256 differs); repro repeats "
                           "the file as it was: restore it (the run holds a copy, source.pipe)");

    RunOptions rerun;
    rerun.file = file.string();
    rerun.overrides = lines(options.run / "overrides.txt");
    rerun.runsDir = options.run.parent_path();
    rerun.threads = int(toml::find<int64_t>(before, "run", "threads"));
    rerun.threadsOrigin = rerun.runsOrigin = "record";
    rerun.project = record::projectFromRecord(options.run / "record.toml");  // the data roots it used
    rerun.commandLine = {"pipe", "repro", options.run.string()};
    fs::path made;
    rerun.madeRunDir = &made;
    if (int status = runPipeline(rerun); status != 0) return status;

    toml::value after = readRecord(made);
    std::vector<std::string> differences;
    const auto& stagesBefore = toml::find(before, "stages").as_table();
    const auto& stagesAfter = toml::find(after, "stages").as_table();
    for (const auto& [name, stage] : stagesBefore) {
        if (!stagesAfter.count(name)) {
            differences.push_back("stage `" + name + "` is missing from the rerun");
            continue;
        }
        const auto& again = stagesAfter.at(name);
        if (stage.contains("weights_sha256") &&
            toml::find<std::string>(stage, "weights_sha256") != toml::find_or<std::string>(again, "weights_sha256", ""))
            differences.push_back("stage `" + name + "`: the weights differ (SHA-256 " +
                                  toml::find<std::string>(stage, "weights_sha256").substr(0, 12) + "… against " +
                                  toml::find_or<std::string>(again, "weights_sha256", "none").substr(0, 12) + "…)");
        for (const auto& [metric, value] : toml::find(stage, "metrics").as_table()) {
            double a = value.as_floating(), b = toml::find_or<double>(again, "metrics", metric, std::nan(""));
            if (!same(a, b))
                differences.push_back("stage `" + name + "`: " + metric + " " + formatNumber(a) + " against " +
                                      formatNumber(b));
        }
        fs::path csv = fs::path(name) / "metrics.csv";
        if (fs::exists(options.run / csv)) {
            auto rowsBefore = metricRows(options.run / csv), rowsAfter = metricRows(made / csv);
            for (size_t i = 1; i < std::max(rowsBefore.size(), rowsAfter.size()); ++i) {
                std::string a = i < rowsBefore.size() ? rowsBefore[i] : "(none)";
                std::string b = i < rowsAfter.size() ? rowsAfter[i] : "(none)";
                if (a != b)
                    differences.push_back("stage `" + name + "`, epoch row " + std::to_string(i) + ": " + a +
                                          "  against  " + b);
            }
        }
    }
    log::info("");
    if (differences.empty()) {
        log::info("repro: " + made.filename().string() + " repeats " + options.run.filename().string() +
                  " exactly: the same weights and every metric of every epoch");
        return 0;
    }
    log::error("repro: " + made.filename().string() + " differs from " + options.run.filename().string() + ":");
    for (const auto& d : differences) log::error("    " + d);
    return 1;
}

}  // namespace pipelang::runtime
