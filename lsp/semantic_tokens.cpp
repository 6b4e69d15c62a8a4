// textDocument/semanticTokens/full: colours by meaning, which the grammar's
// patterns cannot know: a block's or `let`'s name where it is declared and
// where it is referred to, a built-in (called or named bare), a parameter, a
// block's field. Strings, numbers, comments and keywords stay the grammar's.
#include <algorithm>
#include <tuple>

#include "lsp/document.h"
#include "stdlib/registry.h"

namespace pipelang::lsp {

namespace {

// The legend's order: the numbers the tokens carry.
enum TokenType { kClass, kVariable, kFunction, kParameter, kProperty };
enum Modifier { kDeclaration = 1, kReadonly = 2 };

struct Coloured {
    Span span;
    int type, modifiers;
};

class Colourer {
public:
    explicit Colourer(const Document& doc) : doc_(doc) {}

    void statement(const ast::Statement& s) {
        if (s.name && s.kind == ast::Statement::Kind::Let) add(s.name->span, kVariable, kDeclaration | kReadonly);
        if (s.name && s.kind == ast::Statement::Kind::Block) add(s.name->span, kClass, kDeclaration);
        for (const ast::Path* p : {&s.subject, &s.target}) path(*p);
        if (s.value) expr(*s.value);
        for (const auto& f : s.fields) {
            if (s.blockKind == ast::BlockKind::Sweep && f.key.parts.size() > 1)
                path(f.key);
            else
                for (const auto& part : f.key.parts) add(part.span, kProperty, 0);
            if (f.value) expr(*f.value);
        }
    }

    std::vector<Coloured> tokens;

private:
    void add(const Span& span, int type, int modifiers) {
        if (span.file == &doc_.file() && span.end > span.begin) tokens.push_back({span, type, modifiers});
    }
    // A dotted reference: its first name is a block or `let` (`pre.backbone`).
    void path(const ast::Path& p) {
        if (p.parts.empty()) return;
        if (const Declaration* d = doc_.declaration(p.parts[0].text))
            add(p.parts[0].span, d->kind == "let" ? kVariable : kClass, d->kind == "let" ? kReadonly : 0);
    }
    void expr(const ast::Expr& e) {
        if (e.kind == ast::Expr::Kind::Call && !e.path.parts.empty()) {
            add(e.path.parts[0].span, kFunction, 0);
        } else if (e.kind == ast::Expr::Kind::Ref && !e.path.parts.empty()) {
            if (doc_.declaration(e.path.parts[0].text))
                path(e.path);
            else if (e.path.parts.size() == 1)
                add(e.path.parts[0].span, kFunction, 0);  // a built-in named bare: `optimizer = adamw`
        }
        for (const auto& a : e.args) {
            if (a.name) add(a.name->span, kParameter, 0);
            if (a.value) expr(*a.value);
        }
    }

    const Document& doc_;
};

}  // namespace

json semanticTokensLegend() {
    return {{"tokenTypes", {"class", "variable", "function", "parameter", "property"}},
            {"tokenModifiers", {"declaration", "readonly"}}};
}

json semanticTokens(const Document& doc) {
    Colourer colourer(doc);
    if (doc.module())
        for (const auto& s : doc.module()->statements) colourer.statement(s);
    auto& tokens = colourer.tokens;
    std::sort(tokens.begin(), tokens.end(),
              [](const Coloured& a, const Coloured& b) { return a.span.begin < b.span.begin; });
    // Each token relative to the one before: line, start, length, type, modifiers.
    json data = json::array();
    Position previous{0, 0};
    uint32_t lastEnd = 0;
    for (const auto& t : tokens) {
        if (t.span.begin < lastEnd) continue;  // never two over one place
        Position start = toPosition(doc.file(), t.span.begin), end = toPosition(doc.file(), t.span.end);
        if (end.line != start.line) continue;  // names lie on one line
        int line = start.line - previous.line;
        int character = line == 0 ? start.character - previous.character : start.character;
        for (int v : {line, character, end.character - start.character, t.type, t.modifiers}) data.push_back(v);
        previous = start;
        lastEnd = t.span.end;
    }
    return {{"data", data}};
}

}  // namespace pipelang::lsp
