// The commands of `pipe-runtime`, one file each. A file registers its
// command with a static `Add`; main.cpp finds it by the name `pipe` handed
// over (cli/runtime_commands.h lists the names and their synopses).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>

namespace pipelang::cli::runtime {

using Handler = int (*)(int argc, char** argv);  // argv[0] is the command's name

struct Commands {
    struct Add {
        Add(const char* name, Handler handler) { table()[name] = handler; }
    };
    static Handler find(const std::string& name) {
        auto it = table().find(name);
        return it == table().end() ? nullptr : it->second;
    }

private:
    static std::map<std::string, Handler>& table() {
        static std::map<std::string, Handler> handlers;
        return handlers;
    }
};

// Parses the command line; returns an exit code when the command should stop
// here (0 after --help, 2 for bad usage, which CLI11 has explained), or -1.
inline int parse(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    return -1;
}

}  // namespace pipelang::cli::runtime
