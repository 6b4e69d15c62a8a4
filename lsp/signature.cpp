// textDocument/signatureHelp: inside a built-in's parentheses, its signature
// from the registry with the parameter the cursor is at: its type, default,
// allowed values and line of documentation.
#include <algorithm>

#include "lsp/context.h"
#include "lsp/document.h"
#include "stdlib/doc.h"

namespace pipelang::lsp {

namespace {

std::string parameterDoc(const stdlib::Param& p) {
    std::string out = p.doc;
    if (!p.choices.empty()) {
        out += "\n\none of:";
        for (const auto& c : p.choices) out += " `" + c + "`";
    }
    return out;
}

// The parameter the next value goes to: the one being written, else the
// first not yet written (positional arguments fill them in order).
int activeParameter(const Context& c) {
    const auto& params = c.call->params;
    for (size_t i = 0; i < params.size(); ++i)
        if (c.param == &params[i]) return int(i);
    for (size_t i = 0; i < params.size(); ++i)
        if (std::find(c.written.begin(), c.written.end(), params[i].name) == c.written.end()) return int(i);
    return 0;
}

}  // namespace

json signatureHelp(const Document& doc, Position p) {
    Context c = contextAt(doc.tokens(), toOffset(doc.file(), p));
    if (!c.call || c.call->family == stdlib::Family::Section || c.call->params.empty()) return nullptr;
    // One line, its parameters' labels as offsets into it (UTF-16 units:
    // the registry's names and types are ASCII).
    std::string label = c.call->name + "(";
    json parameters = json::array();
    for (size_t i = 0; i < c.call->params.size(); ++i) {
        const auto& param = c.call->params[i];
        if (i) label += ", ";
        const size_t begin = label.size();
        label += stdlib::signature(param);
        parameters.push_back({{"label", {begin, label.size()}},
                              {"documentation", {{"kind", "markdown"}, {"value", parameterDoc(param)}}}});
    }
    label += ")";
    json signature = {{"label", label},
                      {"documentation", {{"kind", "markdown"}, {"value", c.call->doc}}},
                      {"parameters", parameters}};
    return {{"signatures", json::array({signature})}, {"activeSignature", 0}, {"activeParameter", activeParameter(c)}};
}

}  // namespace pipelang::lsp
