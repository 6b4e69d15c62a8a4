// Running `pipe` from a runtime test: its exit status and everything it printed.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
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
    std::string command = PIPE_BINARY;  // appended, not `+`: GCC 12 warns falsely on that (-Warray-bounds)
    command.append(" ").append(args);
    return runShell(command);
}

// `pipe run FILE --runs RUNS --threads 1`, for a test that looks at the run
// afterwards: what pipe said, and the run directory it made (empty when none).
struct TrainedRun {
    CommandResult result;
    std::filesystem::path dir;
};

inline TrainedRun trainRun(const std::filesystem::path& file, const std::filesystem::path& runs) {
    TrainedRun r{runPipeCommand("run " + file.string() + " --runs " + runs.string() + " --threads 1"), {}};
    if (r.result.status == 0 && std::filesystem::is_directory(runs))
        r.dir = std::filesystem::directory_iterator(runs)->path();
    return r;
}

}  // namespace pipelang::runtime
