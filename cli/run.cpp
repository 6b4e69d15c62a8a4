// `pipe run`, `pipe predict`, `pipe generate` and `pipe repro`: hand over to `pipe-runtime`, the executable
// beside this one that links LibTorch, so every other command starts instantly.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "cli/command.h"

namespace pipelang::cli {

namespace {

int handOver(const char* command, const std::vector<std::string>& args) {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    auto runtime = (ec ? std::filesystem::path("pipe-runtime") : self.parent_path() / "pipe-runtime").string();
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
    return handOver("run", args);
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

}  // namespace pipelang::cli
