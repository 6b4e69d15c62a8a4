// What the commands share: argument parsing with CLI11 and diagnostics output.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/command.h"

namespace pipelang::cli {

// The `pipe-runtime` executable beside this one.
std::filesystem::path runtimeExecutable();

// Runs `pipe-runtime COMMAND ARGS...` in place of this process; returns only
// when it cannot start.
int handOver(const char* command, const std::vector<std::string>& args);

// Replaces the file at `path` with `text` whole: written beside it, given
// its permissions, then renamed over it. False, and the file as it was, when
// that fails.
bool replaceFile(const std::string& path, const std::string& text);

// Runs a CLI11 parser over `args`; returns an exit code when the command
// should stop here (after --help, or on bad usage), or -1 to go on.
template <typename App>
int parseArgs(App& app, const std::string& command, const std::vector<std::string>& args) {
    app.name("pipe " + command);
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last-first
    try {
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        std::fputs(app.help().c_str(), stdout);
        return kOk;
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "pipe %s: %s\n", command.c_str(), e.what());
        std::fprintf(stderr, "run `pipe %s --help` for its usage\n", command.c_str());
        return kBadInput;
    }
    return -1;
}

}  // namespace pipelang::cli
