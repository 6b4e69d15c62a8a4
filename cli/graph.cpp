// `pipe graph FILE [--dot]`: the stages a run performs and what they hand on.
#include "interpreter/graph.h"
#include "cli/common.h"
#include "interpreter/compile.h"

namespace pipelang::cli {

int graph(const std::vector<std::string>& args) {
    CLI::App app{
        "Print the execution graph: the stages of a run in order (load, tokenizer, prepare, train, "
        "evaluate, export) and the artifacts each hands the next."};
    std::string file;
    std::vector<std::string> overrides;
    bool dot = false;
    app.add_option("file", file, "the .pipe file")->required();
    app.add_option("--set", overrides, "override a setting, e.g. --set fit.optimizer.lr=1e-3");
    app.add_flag("--dot", dot, "print Graphviz DOT instead, e.g. `pipe graph f.pipe --dot | dot -Tsvg > f.svg`");
    if (int code = parseArgs(app, "graph", args); code >= 0) return code;
    auto c = compileFile(file, CompileOptions{overrides});
    printDiagnostics(c->diags);
    if (!c->ok()) return kBadInput;
    Graph g = buildGraph(c->pipeline);
    std::fputs((dot ? renderDot(g) : renderText(g)).c_str(), stdout);
    return kOk;
}

}  // namespace pipelang::cli
