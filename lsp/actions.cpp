// textDocument/codeAction: the checker's fix-its as quick fixes. Each
// diagnostic under the asked range that knows its edit offers it, as a
// workspace edit of the file it lies in (an imported file too).
#include <algorithm>

#include "lsp/document.h"

namespace pipelang::lsp {

json codeActions(const Document& doc, const json& range) {
    json actions = json::array();
    if (!range.is_object() || !range.contains("start") || !range.contains("end")) return actions;
    const uint32_t from = toOffset(doc.file(), positionFrom(range["start"]));
    const uint32_t to = toOffset(doc.file(), positionFrom(range["end"]));
    for (const auto& d : doc.compilation().diags.items()) {
        if (d.fixes.empty() || !d.span.valid()) continue;
        // A diagnostic in this file must touch the range; one in an import is
        // shown on the import statement, so it is offered wherever asked.
        if (d.span.file == &doc.file() && (d.span.end < from || d.span.begin > to)) continue;
        json changes = json::object();
        std::string title;
        for (const auto& fix : d.fixes) {
            if (!fix.span.valid()) continue;
            std::string uri = fix.span.file == &doc.file() ? doc.uri() : pathToUri(fix.span.file->name);
            if (!changes.contains(uri)) changes[uri] = json::array();
            changes[uri].push_back({{"range", rangeOf(fix.span)}, {"newText", fix.text}});
            std::string before(fix.span.file->text.substr(fix.span.begin, fix.span.end - fix.span.begin));
            if (title.empty())
                title = before.empty() ? "Add `" + fix.text + "`" : "Change `" + before + "` to `" + fix.text + "`";
        }
        if (changes.empty()) continue;
        json diagnostic = {{"range", rangeOf(d.span.file == &doc.file() ? d.span : Span{&doc.file(), 0, 0})},
                           {"message", d.message},
                           {"source", "pipe"},
                           {"code", d.code}};
        actions.push_back({{"title", title},
                           {"kind", "quickfix"},
                           {"isPreferred", true},
                           {"diagnostics", json::array({diagnostic})},
                           {"edit", {{"changes", changes}}}});
    }
    return actions;
}

}  // namespace pipelang::lsp
