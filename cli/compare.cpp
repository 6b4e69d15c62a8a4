// `pipe compare RUN...`: the settings in which runs differ, beside their final metrics.
#include "record/compare.h"

#include "cli/common.h"
#include "record/run.h"

namespace pipelang::cli {

int compare(const std::vector<std::string>& args) {
    CLI::App app{
        "Print a table of runs: the settings in which they differ (resolved from each run's own source.pipe "
        "and --set overrides) beside the metrics of their last epoch."};
    std::vector<std::string> runs;
    app.add_option("runs", runs, "run directories, e.g. runs/fashion-*")->required();
    if (int code = parseArgs(app, "compare", args); code >= 0) return code;
    try {
        auto comparison = record::compareRuns(std::vector<std::filesystem::path>(runs.begin(), runs.end()));
        std::fputs(record::renderComparison(comparison).c_str(), stdout);
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "pipe compare: %s\n", e.what());
        return kBadInput;
    }
    return kOk;
}

}  // namespace pipelang::cli
