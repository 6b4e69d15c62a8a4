#include "cli/common.h"

#include <unistd.h>
#include <cstdlib>

namespace pipelang::cli {

void printDiagnostics(const pipelang::Diagnostics& diags) {
    RenderOptions options;
    options.color = isatty(STDERR_FILENO) && std::getenv("NO_COLOR") == nullptr;
    std::fputs(render(diags, options).c_str(), stderr);
}

}  // namespace pipelang::cli
