#include "cli/common.h"

#include <unistd.h>
#include <cstdlib>
#include <fstream>

namespace pipelang::cli {

void printDiagnostics(const pipelang::Diagnostics& diags) {
    RenderOptions options;
    options.color = isatty(STDERR_FILENO) && std::getenv("NO_COLOR") == nullptr;
    std::fputs(render(diags, options).c_str(), stderr);
}

bool replaceFile(const std::string& path, const std::string& text) {
    std::string tmp = path + ".pipe-tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(tmp, ignored);
            return false;
        }
    }
    std::error_code ec, ignored;
    auto perms = std::filesystem::status(path, ec).permissions();
    if (!ec) std::filesystem::permissions(tmp, perms, ec);
    std::filesystem::rename(tmp, path, ec);
    if (ec) std::filesystem::remove(tmp, ignored);
    return !ec;
}

}  // namespace pipelang::cli
