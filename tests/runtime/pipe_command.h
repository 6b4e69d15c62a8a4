// Running `pipe` from a runtime test: its exit status and everything it printed.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace pipelang::runtime {

struct CommandResult {
    int status;
    std::string output;  // stdout and stderr together
};

inline CommandResult runShell(const std::string& commandLine) {
    std::string command = commandLine + " 2>&1";
    CommandResult r{-1, ""};
    FILE* p = popen(command.c_str(), "r");
    if (!p) return r;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, p)) > 0) r.output.append(buffer, n);
    int status = pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

// `pipe ARGS`, with the pipe built beside the tests.
inline CommandResult runPipeCommand(const std::string& args) {
    return runShell(std::string(PIPE_BINARY) + " " + args);
}

}  // namespace pipelang::runtime
