// `pipe COMMAND ...`: looks the command up in one table and hands it the rest.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/common.h"
#include "cli/runtime_commands.h"
#include "interpreter/diagnostic.h"

namespace {

using pipelang::cli::Command;

// The front end's own commands; the runtime's (cli/runtime_commands.h) are
// handed to `pipe-runtime`, except a sweep, which `run` runs here.
const Command kFrontCommands[] = {
    {"cv", "run every fold of a k-fold split; out-of-fold predictions and a score table", pipelang::cli::cv},
    {"plot", "draw runs' loss, metric and learning-rate curves as PNG and SVG", pipelang::cli::plot},
    {"status", "how a run is doing: its stages' epochs and, for a Slurm job, the job's state", pipelang::cli::status},
    {"compare", "print the settings in which runs differ beside their final metrics", pipelang::cli::compare},
    {"check", "check files and report every error, without running anything", pipelang::cli::check},
    {"fmt", "rewrite files in the one canonical layout", pipelang::cli::fmt},
    {"plan", "print the resolved pipeline, each value marked with where it came from", pipelang::cli::plan},
    {"graph", "print the execution graph of stages, as text or Graphviz", pipelang::cli::graph},
    {"doc", "the reference of every built-in, from the registry", pipelang::cli::doc},
    {"fetch", "download pretrained weights into PyTorch's cache, where `weights =` finds them", pipelang::cli::fetch},
    {"lsp", "the language server for editors, on stdin and stdout", pipelang::cli::lsp},
};

// Every command, in the order `pipe --help` lists them: the runtime's first.
std::vector<Command> commands() {
    std::vector<Command> all;
    for (const auto& c : pipelang::cli::kRuntimeCommands) all.push_back({c.name, c.synopsis, nullptr});
    for (const auto& c : kFrontCommands) all.push_back(c);
    return all;
}

void usage(FILE* out) {
    std::fprintf(out, "pipe — declarative deep-learning experiments\n\nusage: pipe COMMAND [ARGS]...\n\ncommands:\n");
    for (const auto& c : commands()) std::fprintf(out, "  %-9s %s\n", c.name, c.synopsis);
    std::fprintf(out,
                 "\n`pipe COMMAND --help` describes a command. Exit codes: 0 success, 1 a run failed, "
                 "2 bad usage or a file that does not check.\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return pipelang::cli::kBadInput;
    }
    std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        usage(stdout);
        return pipelang::cli::kOk;
    }
    if (name == "--version") {
        std::printf("pipe %s\n", PIPE_VERSION);
        return pipelang::cli::kOk;
    }
    std::vector<std::string> args(argv + 2, argv + argc);
    for (const auto& c : commands()) {
        if (name != c.name) continue;
        try {
            if (name == "run") return pipelang::cli::run(args);
            return c.run ? c.run(args) : pipelang::cli::handOver(c.name, args);
        } catch (const std::exception& e) {
            // A bug, not a user error: say so plainly, never a stack trace.
            std::fprintf(stderr, "pipe %s: internal error: %s\n", c.name, e.what());
            return pipelang::cli::kFailed;
        }
    }
    std::vector<std::string> names;
    for (const auto& c : commands()) names.push_back(c.name);
    std::fprintf(stderr, "pipe: unknown command `%s`", name.c_str());
    if (auto guess = pipelang::closest(name, names); !guess.empty())
        std::fprintf(stderr, "; did you mean `%s`?", guess.c_str());
    std::fprintf(stderr, "\nrun `pipe --help` for the list of commands\n");
    return pipelang::cli::kBadInput;
}
