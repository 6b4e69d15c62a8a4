// `pipe plot RUN...`: loss, metric and learning-rate curves of runs, drawn by gnuplot.
#include "record/plot.h"
#include "record/plot_sweep.h"
#include "record/sweep.h"

#include "cli/common.h"

namespace pipelang::cli {

int plot(const std::vector<std::string>& args) {
    CLI::App app{
        "Draw a run's loss curves, metric curves and learning-rate schedule as PNG and SVG, through gnuplot; "
        "with several runs, one comparison per loss and metric with a line per run; with a sweep directory, "
        "the sweep's metric per point and every point's curves."};
    std::vector<std::string> runs;
    std::string out;
    std::string format;
    app.add_option("runs", runs, "run directories, e.g. runs/fashion-20261122-134538, or one sweep directory")
        ->required();
    app.add_option("--out", out,
                   "folder for the pictures (default: RUN/plots for one run, plots/ in the current folder for "
                   "several)");
    app.add_option("--format", format, "png or svg (default: both)")->check(CLI::IsMember({"png", "svg"}));
    if (int code = parseArgs(app, "plot", args); code >= 0) return code;

    record::PlotOptions options;
    options.png = format != "svg";
    options.svg = format != "png";
    try {
        if (runs.size() == 1 && record::isSweepDirectory(runs.front())) {
            // A sweep (or `pipe cv`): the metric per point, then every point's curves.
            options.out = out.empty() ? std::filesystem::path(runs.front()) / "plots" : std::filesystem::path(out);
            for (const auto& picture : record::plotSweep(runs.front(), options))
                std::printf("%s\n", std::filesystem::proximate(picture).c_str());
            return kOk;
        }
        std::vector<record::RunRecord> records;
        for (const auto& run : runs) records.push_back(record::readRun(run));
        options.out = !out.empty()       ? std::filesystem::path(out)
                      : runs.size() == 1 ? std::filesystem::path(runs.front()) / "plots"
                                         : std::filesystem::path("plots");
        for (const auto& picture : record::plotRuns(records, options))
            std::printf("%s\n", std::filesystem::proximate(picture).c_str());
    } catch (const record::PlotError& e) {
        std::fprintf(stderr, "pipe plot: %s\n", e.what());
        return kFailed;
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "pipe plot: %s\n", e.what());
        return kBadInput;
    }
    return kOk;
}

}  // namespace pipelang::cli
