// `pipe check FILE...`: every diagnostic of every file; nothing runs.
#include "cli/common.h"
#include "interpreter/compile.h"

namespace pipelang::cli {

int check(const std::vector<std::string>& args) {
    CLI::App app{"Check .pipe files and report every error and warning, without reading data or running anything."};
    std::vector<std::string> files;
    std::vector<std::string> overrides;
    bool quiet = false;
    app.add_option("files", files, "the .pipe files to check")->required();
    app.add_option("--set", overrides, "override a setting, e.g. --set fit.optimizer.lr=1e-3 (checked like the file)");
    app.add_flag("-q,--quiet", quiet, "print errors only, not warnings");
    if (int code = parseArgs(app, "check", args); code >= 0) return code;
    bool failed = false;
    for (const auto& file : files) {
        auto c = compileFile(file, CompileOptions{overrides});
        pipelang::Diagnostics shown;
        for (const auto& d : c->diags.items())
            if (!quiet || d.severity == Severity::Error) shown.add(d);
        printDiagnostics(shown);
        failed = failed || !c->ok();
    }
    return failed ? kBadInput : kOk;
}

}  // namespace pipelang::cli
