// `pipe run`: a file with a sweep block is run here, as one `pipe-runtime`
// process per point; everything else, --help and bad usage included, is
// handed to `pipe-runtime run` (cli/runtime/run.cpp), which reads the same
// flags (cli/run_flags.h).
#include <cstdio>

#include "cli/common.h"
#include "cli/run_flags.h"
#include "cli/slurm.h"
#include "cli/sweep.h"
#include "interpreter/compile.h"

namespace pipelang::cli {

int run(const std::vector<std::string>& args) {
    CLI::App app;
    app.allow_extras();
    app.set_help_flag();
    RunFlags flags;
    addRunFlags(app, flags);
    bool help = false;
    for (const auto& a : args) help = help || a == "--help" || a == "-h";
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last-first
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError&) {
        return handOver("run", args);
    }
    if (help) return handOver("run", args);
    if (flags.slurm) return submitToSlurm(flags);
    if (flags.sweepPoint >= 0 || !flags.sweepDir.empty()) {
        if (flags.sweepPoint < 0 || flags.sweepDir.empty() || flags.file.empty()) {
            std::fprintf(stderr, "pipe run: --sweep-point K and --sweep-dir D go together, with the file\n");
            return kBadInput;
        }
        return runSweepPoint(flags, flags.sweepPoint, flags.sweepDir);
    }
    std::vector<std::string> runtimeArgs = withoutFlags(args, {"--jobs"});  // the sweep's, not a run's
    if (flags.file.empty() || !flags.resume.empty() || !flags.runDir.empty()) return handOver("run", runtimeArgs);
    auto c = compileFile(flags.file, CompileOptions{flags.overrides});
    if (!c->ok() || !record::hasSweep(c->pipeline)) {
        if (flags.jobs != 1 && c->ok()) {
            std::fprintf(stderr, "pipe run: --jobs runs the points of a sweep at once, but `%s` has no sweep block\n",
                         flags.file.c_str());
            return kBadInput;
        }
        return handOver("run", runtimeArgs);  // it prints the diagnostics
    }
    printDiagnostics(c->diags);  // warnings
    record::SweepPlan plan = record::sweepPlan(c->pipeline);
    return runSweep(flags, record::strategyOf(plan), plan.metric, "sweep", plan.describe(), plan.axes).code;
}

}  // namespace pipelang::cli
