// `pipe plan FILE`: the resolved pipeline, each value marked with its origin.
#include "interpreter/plan.h"
#include "cli/common.h"
#include "interpreter/compile.h"

namespace pipelang::cli {

int plan(const std::vector<std::string>& args) {
    CLI::App app{
        "Print the resolved pipeline: every setting of every block, each marked as written, default, "
        "from data or override."};
    std::string file;
    std::vector<std::string> overrides;
    bool json = false;
    app.add_option("file", file, "the .pipe file")->required();
    app.add_option("--set", overrides, "override a setting, e.g. --set fit.optimizer.lr=1e-3 (shown as override)");
    app.add_flag("--json", json, "print the same tree as JSON, for tools");
    if (int code = parseArgs(app, "plan", args); code >= 0) return code;
    auto c = compileFile(file, CompileOptions{overrides});
    printDiagnostics(c->diags);
    if (!c->ok()) return kBadInput;
    std::fputs((json ? renderPlanJson(c->pipeline) : renderPlan(c->pipeline)).c_str(), stdout);
    return kOk;
}

}  // namespace pipelang::cli
