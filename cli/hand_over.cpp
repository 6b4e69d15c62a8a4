// Handing a command to `pipe-runtime`: the executable replaces this process,
// so its output, exit code and signals are the user's directly.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli/common.h"

namespace pipelang::cli {

namespace fs = std::filesystem;

fs::path runtimeExecutable() {
    std::error_code ec;
    auto self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path("pipe-runtime") : self.parent_path() / "pipe-runtime";
}

int handOver(const char* command, const std::vector<std::string>& args) {
    auto runtime = runtimeExecutable().string();
    if (!fs::exists(runtime)) {
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

}  // namespace pipelang::cli
