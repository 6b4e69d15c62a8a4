// textDocument/hover: the registry's documentation of the built-in, field or
// parameter under the cursor (rendered by stdlib/doc, like `pipe doc`), or
// the declaration a name refers to.
#include "lsp/context.h"
#include "lsp/document.h"
#include "stdlib/doc.h"

namespace pipelang::lsp {

using stdlib::Builtin;
using stdlib::Family;

namespace {

std::string code(const std::string& text) {
    return "```pipe\n" + text + "\n```\n";
}

std::string paramDoc(const Builtin& owner, const stdlib::Param& p) {
    std::string what = owner.family == Family::Section ? "field of the `" + owner.name + "` block"
                                                       : "parameter of `" + owner.name + "`";
    return code(stdlib::signature(p)) + "\n" + p.doc + "\n\n*" + what + "*";
}

// The first line of a declaration, and for a block what that kind of block is.
std::string declarationDoc(const Declaration& d) {
    std::string_view text = d.statement->span.text();
    std::string first(text.substr(0, text.find('\n')));
    if (first.size() > 100) first = first.substr(0, 97) + "...";
    std::string out = code(first);
    if (const Builtin* section = stdlib::registry().find(Family::Section, d.kind)) out += "\n" + section->doc + "\n";
    if (d.nameSpan.file)
        out += "\n*declared in " + d.nameSpan.file->name + ":" + std::to_string(d.nameSpan.line()) + "*";
    return out;
}

std::string builtinsDoc(const std::vector<const Builtin*>& entries) {
    return entries.empty() ? "" : stdlib::renderMarkdown(entries);
}

std::string hoverText(const Document& doc, const Token& t, const Token* next) {
    std::string word(t.text());
    Context c = contextAt(doc.tokens(), t.span.begin);
    bool key = next && next->text() == "=";
    bool call = next && next->text() == "(";
    auto section = [&](const std::string& name) { return stdlib::registry().find(Family::Section, name); };
    switch (c.where) {
    case Context::Where::Nothing:
    case Context::Where::Statement:
        if (const Builtin* b = section(word)) return builtinsDoc({b});
        if (word == "seed") return code("seed N") + "\nThe random seed of everything in the run.";
        if (word == "import")
            return code("import \"FILE\"") + "\nMakes the blocks and `let`s of another file part of this one.";
        if (word == "let") return code("let NAME = VALUE") + "\nA named constant, usable wherever a value goes.";
        if (const Declaration* d = doc.declaration(word)) return declarationDoc(*d);  // a block's own name
        return "";
    case Context::Where::Keyword: return c.section ? builtinsDoc({c.section}) : "";
    case Context::Where::Field:
        if (c.section)
            if (const auto* p = c.section->param(word)) return paramDoc(*c.section, *p);
        if (const Declaration* d = doc.declaration(word)) return declarationDoc(*d);  // a sweep key
        return "";
    case Context::Where::Member:
        if (const Declaration* d = doc.declaration(c.path[0])) return declarationDoc(*d);
        return "";
    case Context::Where::Value: break;
    }
    if (c.argumentStart && key && c.call)
        if (const auto* p = c.call->param(word)) return paramDoc(*c.call, *p);
    const Declaration* d = doc.declaration(word);
    bool refExpected = c.expected && (c.expected->kind == stdlib::Type::Kind::Ref);
    if (d && !call && (refExpected || d->kind == "let" || !builtinFor(c.expected, word))) return declarationDoc(*d);
    if (c.expected)
        for (Family family : callFamilies(*c.expected, true))
            if (const Builtin* b = stdlib::registry().find(family, word)) return builtinsDoc({b});
    std::vector<const Builtin*> entries;
    for (const Builtin* b : stdlib::registry().lookup(word))
        if (b->family != Family::Section) entries.push_back(b);
    return builtinsDoc(entries);
}

}  // namespace

json hover(const Document& doc, Position position) {
    uint32_t offset = toOffset(doc.file(), position);
    const auto& tokens = doc.tokens();
    for (size_t i = 0; i < tokens.size(); ++i) {
        const Token& t = tokens[i];
        if (t.span.begin > offset) break;
        if (offset > t.span.end ||
            (offset == t.span.end && i + 1 < tokens.size() && tokens[i + 1].span.begin == offset))
            continue;
        if (t.kind != Token::Kind::Name && t.kind != Token::Kind::Keyword) return nullptr;
        std::string text = hoverText(doc, t, i + 1 < tokens.size() ? &tokens[i + 1] : nullptr);
        if (text.empty()) return nullptr;
        return {{"contents", {{"kind", "markdown"}, {"value", text}}}, {"range", rangeOf(t.span)}};
    }
    return nullptr;
}

}  // namespace pipelang::lsp
