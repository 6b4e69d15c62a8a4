// Runs the built `pipe` executable from a test, for exit codes and output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace pipelang::testing {

struct CliResult {
    int code = -1;    // the exit status
    std::string out;  // stdout, and stderr when asked for
};

// `pipe ARGS` in the source directory, so example paths are relative to it.
inline CliResult runPipe(const std::string& args, bool withStderr = false) {
    std::string command =
        "cd '" PIPE_SOURCE_DIR "' && '" PIPE_BINARY "' " + args + (withStderr ? " 2>&1" : " 2>/dev/null");
    CliResult result;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return result;
    std::array<char, 4096> buffer;
    for (size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) result.out.append(buffer.data(), n);
    int status = pclose(pipe);
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

}  // namespace pipelang::testing
