// `pipe lsp`: the language server, on stdin and stdout (lsp/server.h).
#include <iostream>

#include "cli/common.h"
#include "lsp/server.h"

namespace pipelang::cli {

int lsp(const std::vector<std::string>& args) {
    CLI::App app{
        "Run the language server for editors: the Language Server Protocol on standard input and output "
        "(diagnostics, hover, completion, go-to-definition, outline, formatting). Editors start it; "
        "see editor/vscode for the VS Code extension."};
    bool stdio = false;
    app.add_flag("--stdio", stdio,
                 "talk over standard input and output (the default, accepted for editors that pass it)");
    if (int code = parseArgs(app, "lsp", args); code >= 0) return code;
    std::ios::sync_with_stdio(false);
    return lsp::serve(std::cin, std::cout);
}

}  // namespace pipelang::cli
