// `pipe COMMAND ...`: looks the command up in one table and hands it the rest.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cli/command.h"
#include "interpreter/diagnostic.h"

namespace {

using pipelang::cli::Command;

const Command kCommands[] = {
    {"run", "check, compile and run a .pipe file on LibTorch: train, evaluate, export", pipelang::cli::run},
    {"predict", "load a finished run and print the top labels of new inputs", pipelang::cli::predict},
    {"generate", "sample text from a finished run's language model", pipelang::cli::generate},
    {"repro", "run a finished run again from its record and report any difference", pipelang::cli::repro},
    {"cv", "run every fold of a k-fold split; out-of-fold predictions and a score table", pipelang::cli::cv},
    {"show", "save one training batch as a captioned picture (images) or a table (rows)", pipelang::cli::show},
    {"interpret", "save a finished run's confusion matrix and its items with the highest loss",
     pipelang::cli::interpret},
    {"lr-find", "the learning-rate range test: loss against rate, with a suggested rate", pipelang::cli::lrFind},
    {"plot", "draw runs' loss, metric and learning-rate curves as PNG and SVG", pipelang::cli::plot},
    {"compare", "print the settings in which runs differ beside their final metrics", pipelang::cli::compare},
    {"check", "check files and report every error, without running anything", pipelang::cli::check},
    {"fmt", "rewrite files in the one canonical layout", pipelang::cli::fmt},
    {"plan", "print the resolved pipeline, each value marked with where it came from", pipelang::cli::plan},
    {"graph", "print the execution graph of stages, as text or Graphviz", pipelang::cli::graph},
    {"doc", "the reference of every built-in, from the registry", pipelang::cli::doc},
    {"lsp", "the language server for editors, on stdin and stdout", pipelang::cli::lsp},
};

void usage(FILE* out) {
    std::fprintf(out, "pipe — declarative deep-learning experiments\n\nusage: pipe COMMAND [ARGS]...\n\ncommands:\n");
    for (const auto& c : kCommands) std::fprintf(out, "  %-9s %s\n", c.name, c.synopsis);
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
    for (const auto& c : kCommands) {
        if (name != c.name) continue;
        try {
            return c.run(args);
        } catch (const std::exception& e) {
            // A bug, not a user error: say so plainly, never a stack trace.
            std::fprintf(stderr, "pipe %s: internal error: %s\n", c.name, e.what());
            return pipelang::cli::kFailed;
        }
    }
    std::vector<std::string> names;
    for (const auto& c : kCommands) names.push_back(c.name);
    std::fprintf(stderr, "pipe: unknown command `%s`", name.c_str());
    if (auto guess = pipelang::closest(name, names); !guess.empty())
        std::fprintf(stderr, "; did you mean `%s`?", guess.c_str());
    std::fprintf(stderr, "\nrun `pipe --help` for the list of commands\n");
    return pipelang::cli::kBadInput;
}
