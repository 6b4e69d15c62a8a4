// textDocument/references and textDocument/rename for the names a file
// declares: blocks and `let` constants, in the document and the files it
// imports. A name is found where it is declared and where a value, a sweep
// key (`fit.optimizer.lr`) or an evaluate/export statement (`fit on d.valid`)
// begins with it; a field or parameter name of the same spelling is not it.
#include <algorithm>
#include <regex>

#include "lsp/document.h"

namespace pipelang::lsp {

namespace {

void collect(const ast::Expr& e, const std::string& name, std::vector<Span>& out) {
    if (e.kind == ast::Expr::Kind::Ref && !e.path.parts.empty() && e.path.parts[0].text == name)
        out.push_back(e.path.parts[0].span);
    for (const auto& a : e.args)
        if (a.value) collect(*a.value, name, out);
}

// Every place `name` is declared or referred to, in the document's modules.
std::vector<Span> occurrences(const Document& doc, const std::string& name) {
    std::vector<Span> out;
    for (const auto& m : doc.compilation().modules)
        for (const auto& s : m.statements) {
            if (s.name && s.name->text == name &&
                (s.kind == ast::Statement::Kind::Let || s.kind == ast::Statement::Kind::Block))
                out.push_back(s.name->span);
            if (s.value) collect(*s.value, name, out);
            for (const ast::Path* p : {&s.subject, &s.target})
                if (!p->parts.empty() && p->parts[0].text == name) out.push_back(p->parts[0].span);
            for (const auto& f : s.fields) {
                if (s.blockKind == ast::BlockKind::Sweep && f.key.parts.size() > 1 && f.key.parts[0].text == name)
                    out.push_back(f.key.parts[0].span);
                if (f.value) collect(*f.value, name, out);
            }
        }
    return out;
}

// The declared name at `p`: a declaration's own name or a reference to one.
const Declaration* declarationAt(const Document& doc, Position p) {
    if (doc.compilation().modules.empty()) return nullptr;
    const uint32_t offset = toOffset(doc.file(), p);
    for (const auto& d : doc.declarations()) {
        if (d.kind != "let" && (!d.statement || !d.statement->name)) continue;  // an unnamed block
        for (const Span& s : occurrences(doc, d.name))
            if (s.file == &doc.file() && s.begin <= offset && offset <= s.end) return &d;
    }
    return nullptr;
}

json locationOf(const Span& span) {
    return {{"uri", pathToUri(span.file->name)}, {"range", rangeOf(span)}};
}

}  // namespace

json references(const Document& doc, Position p, bool includeDeclaration) {
    json out = json::array();
    const Declaration* d = declarationAt(doc, p);
    if (!d) return out;
    for (const Span& s : occurrences(doc, d->name)) {
        bool declaration = s.file == d->nameSpan.file && s.begin == d->nameSpan.begin;
        if (declaration && !includeDeclaration) continue;
        out.push_back(locationOf(s));
    }
    return out;
}

RenameResult rename(const Document& doc, Position p, const std::string& newName) {
    const Declaration* d = declarationAt(doc, p);
    if (!d) return {nullptr, "there is no block or `let` name here to rename"};
    static const std::regex identifier("^[A-Za-z_][A-Za-z0-9_]*$");
    if (!std::regex_match(newName, identifier))
        return {nullptr, "`" + newName + "` is not a name: letters, digits and `_`, not starting with a digit"};
    static const std::vector<std::string> reserved = {
        "seed", "import", "let", "tokenizer", "data", "model", "train", "sweep", "evaluate", "export",
        "on",   "with",   "to",  "tta",       "true", "false", "none",  "valid", "test"};
    if (std::find(reserved.begin(), reserved.end(), newName) != reserved.end())
        return {nullptr, "`" + newName + "` is a word of the language; choose another name"};
    if (newName != d->name && doc.declaration(newName))
        return {nullptr, "`" + newName + "` is already the name of a block or `let`"};
    json changes = json::object();
    for (const Span& s : occurrences(doc, d->name)) {
        std::string uri = s.file == &doc.file() ? doc.uri() : pathToUri(s.file->name);
        if (!changes.contains(uri)) changes[uri] = json::array();
        changes[uri].push_back({{"range", rangeOf(s)}, {"newText", newName}});
    }
    return {{{"changes", changes}}, ""};
}

}  // namespace pipelang::lsp
