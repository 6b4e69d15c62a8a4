// `pipe check FILE...`: every diagnostic of every file; nothing runs.
// `--fix` makes the edits the checker is sure of (a misspelt name, a value
// outside its set), says each, and checks again.
#include "cli/common.h"
#include "interpreter/compile.h"
#include "interpreter/fixes.h"

namespace pipelang::cli {

int check(const std::vector<std::string>& args) {
    CLI::App app{"Check .pipe files and report every error and warning, without reading data or running anything."};
    std::vector<std::string> files;
    std::vector<std::string> overrides;
    bool quiet = false, fix = false;
    app.add_option("files", files, "the .pipe files to check")->required();
    app.add_flag("--fix", fix,
                 "make the fixes the checker is sure of (a misspelt name or parameter, a value outside its set, a "
                 "missing block reference with one candidate) in the files, print each, then check again");
    app.add_option("--set", overrides, "override a setting, e.g. --set fit.optimizer.lr=1e-3 (checked like the file)");
    app.add_flag("-q,--quiet", quiet, "print errors only, not warnings");
    if (int code = parseArgs(app, "check", args); code >= 0) return code;
    bool failed = false;
    for (const auto& file : files) {
        auto c = compileFile(file, CompileOptions{overrides});
        if (fix) {
            FixedFiles fixed = applyFixes(*c);
            bool written = true;
            for (const auto& [path, text] : fixed.texts)
                if (!replaceFile(path, text)) {
                    std::fprintf(stderr, "pipe check: cannot write `%s`; it was left as it was\n", path.c_str());
                    written = false;
                }
            if (written)
                for (const auto& f : fixed.applied)
                    std::printf("%s:%d:%d: fixed: %s -> %s\n", f.file.c_str(), f.line, f.column, f.before.c_str(),
                                f.after.c_str());
            if (!fixed.applied.empty()) c = compileFile(file, CompileOptions{overrides});
        }
        pipelang::Diagnostics shown;
        for (const auto& d : c->diags.items())
            if (!quiet || d.severity == Severity::Error) shown.add(d);
        printDiagnostics(shown);
        failed = failed || !c->ok();
    }
    return failed ? kBadInput : kOk;
}

}  // namespace pipelang::cli
