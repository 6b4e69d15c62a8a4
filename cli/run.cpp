// `pipe run`, `predict`, `generate`, `repro`, `show`, `interpret` and `lr-find`: hand over to
// `pipe-runtime`, the executable beside this one that links LibTorch, so every other command starts
// instantly. A file with a sweep block is run here instead, as one `pipe-runtime` process per point.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "cli/common.h"
#include "cli/sweep.h"
#include "interpreter/compile.h"

namespace pipelang::cli {

namespace {

int handOver(const char* command, const std::vector<std::string>& args) {
    auto runtime = runtimeExecutable().string();
    if (!std::filesystem::exists(runtime)) {
        std::fprintf(stderr, "pipe %s: the LibTorch runtime `%s` is not built; build with scripts/build\n", command,
                     runtime.c_str());
        return kFailed;
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(runtime.c_str()));
    argv.push_back(const_cast<char*>(command));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(runtime.c_str(), argv.data());
    std::fprintf(stderr, "pipe %s: cannot start `%s`: %s\n", command, runtime.c_str(), std::strerror(errno));
    return kFailed;
}

}  // namespace

int run(const std::vector<std::string>& args) {
    // Only a sweep is run here; everything else, --help and bad usage included,
    // is the runtime's to answer.
    CLI::App app;
    app.allow_extras();
    SweepCommand command;
    std::string resume, runDir;
    app.add_option("file", command.file);
    app.add_option("--resume", resume);
    app.add_option("--set", command.overrides);
    app.add_option("--device", command.device);
    app.add_option("--runs", command.runs);
    app.add_option("--threads", command.threads);
    app.add_option("--run-dir", runDir);
    app.add_option("--jobs", command.jobs);
    app.set_help_flag();
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    bool help = false;
    for (const auto& a : args) help = help || a == "--help" || a == "-h";
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError&) {
        return handOver("run", args);
    }
    std::vector<std::string> runtimeArgs;  // the arguments without --jobs, which is the sweep's
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--jobs")
            ++i;
        else if (args[i].rfind("--jobs=", 0) != 0)
            runtimeArgs.push_back(args[i]);
    }
    if (help) {
        int code = handOver("run", args);
        return code;
    }
    if (command.file.empty() || !resume.empty() || !runDir.empty()) return handOver("run", runtimeArgs);
    auto c = compileFile(command.file, CompileOptions{command.overrides});
    if (!c->ok() || !record::hasSweep(c->pipeline)) {
        if (command.jobs != 1 && c->ok()) {
            std::fprintf(stderr, "pipe run: --jobs runs the points of a sweep at once, but `%s` has no sweep block\n",
                         command.file.c_str());
            return kBadInput;
        }
        return handOver("run", runtimeArgs);  // it prints the diagnostics
    }
    if (command.jobs < 1) {
        std::fprintf(stderr, "pipe run: --jobs takes a number of processes, 1 or more\n");
        return kBadInput;
    }
    printDiagnostics(c->diags);  // warnings
    record::SweepPlan plan = record::sweepPlan(c->pipeline);
    auto points = record::points(plan);
    return runSweep(command, points, plan.metric, "sweep", plan.describe()).code;
}

int predict(const std::vector<std::string>& args) {
    return handOver("predict", args);
}
int generate(const std::vector<std::string>& args) {
    return handOver("generate", args);
}
int repro(const std::vector<std::string>& args) {
    return handOver("repro", args);
}
int show(const std::vector<std::string>& args) {
    return handOver("show", args);
}
int interpret(const std::vector<std::string>& args) {
    return handOver("interpret", args);
}
int lrFind(const std::vector<std::string>& args) {
    return handOver("lr-find", args);
}

}  // namespace pipelang::cli
