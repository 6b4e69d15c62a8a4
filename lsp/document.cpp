#include "lsp/document.h"

#include <filesystem>

#include "interpreter/format.h"

namespace pipelang::lsp {

Document::Document(std::string uri, std::string text, const Document* previous) : uri_(std::move(uri)) {
    compilation_ = compileText(uriToPath(uri_), std::move(text));
    // The checker sets the seed whenever it runs, default or not.
    checked_ = compilation_->pipeline.seed || !previous ? compilation_ : previous->checked_;
    // The document is the first file the compilation read; imports come after it.
    file_ = compilation_->sources.files().front().get();
    for (const auto& m : compilation_->modules)
        if (m.file == file_) module_ = &m;
    tokens_ = tokenize(*file_);
    for (const auto& m : compilation_->modules)
        for (const auto& s : m.statements) {
            if (s.kind == ast::Statement::Kind::Let && s.name)
                declarations_.push_back({"let", s.name->text, s.name->span, &s});
            if (s.kind == ast::Statement::Kind::Block) {
                std::string kind = ast::blockKindName(s.blockKind);
                declarations_.push_back({kind, s.name ? s.name->text : kind, s.name ? s.name->span : s.keyword, &s});
            }
        }
}

const Declaration* Document::declaration(std::string_view name) const {
    for (const auto& d : declarations_)
        if (d.name == name) return &d;
    return nullptr;
}

std::vector<const Declaration*> Document::declarations(std::string_view kind) const {
    std::vector<const Declaration*> out;
    for (const auto& d : declarations_)
        if (d.kind == kind) out.push_back(&d);
    return out;
}

namespace {

json location(const Span& span) {
    return {{"uri", pathToUri(span.file->name)}, {"range", rangeOf(span)}};
}

int severity(Severity s) {
    switch (s) {
    case Severity::Error: return 1;
    case Severity::Warning: return 2;
    case Severity::Note: return 3;
    }
    return 1;
}

// The import statement through which another file's problem reached this one.
Span importSpan(const Document& doc) {
    if (doc.module())
        for (const auto& s : doc.module()->statements)
            if (s.kind == ast::Statement::Kind::Import) return s.span;
    return Span{};
}

// The token at `offset`: the one it is in, or the one it touches the end of.
const Token* tokenAt(const Document& doc, uint32_t offset) {
    const Token* touching = nullptr;
    for (const auto& t : doc.tokens()) {
        if (t.span.begin <= offset && offset < t.span.end) return &t;
        if (t.span.end == offset) touching = &t;
        if (t.span.begin > offset) break;
    }
    return touching;
}

}  // namespace

json diagnostics(const Document& doc) {
    json items = json::array();
    for (const auto& d : doc.compilation().diags.items()) {
        json item;
        std::string message = d.message;
        if (d.span.valid() && d.span.file != &doc.file()) {
            // A problem in an imported file: shown on the import, where it can be followed.
            auto [line, column] = d.span.file->position(d.span.begin);
            message = d.span.file->name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
            item["range"] = rangeOf(importSpan(doc));
        } else {
            item["range"] = rangeOf(d.span.valid() ? d.span : Span{&doc.file(), 0, 0});
        }
        for (const auto& hint : d.hints) message += "\nhint: " + hint;
        item["message"] = message;
        item["severity"] = severity(d.severity);
        item["source"] = "pipe";
        if (!d.code.empty()) item["code"] = d.code;
        json related = json::array();
        for (const auto& [span, note] : d.notes)
            if (span.valid()) related.push_back({{"location", location(span)}, {"message", note}});
        if (!related.empty()) item["relatedInformation"] = related;
        items.push_back(item);
    }
    return {{"uri", doc.uri()}, {"diagnostics", items}};
}

json definition(const Document& doc, Position p) {
    uint32_t offset = toOffset(doc.file(), p);
    const Token* t = tokenAt(doc, offset);
    if (!t) return nullptr;
    if (t->kind == Token::Kind::String && doc.module()) {
        for (const auto& s : doc.module()->statements) {
            if (s.kind != ast::Statement::Kind::Import || s.importSpan.begin != t->span.begin) continue;
            auto path = std::filesystem::path(doc.file().name).parent_path() / s.importPath;
            std::error_code ec;
            if (!std::filesystem::is_regular_file(path, ec)) return nullptr;
            return {{"uri", pathToUri(path.string())}, {"range", {{"start", toJson({0, 0})}, {"end", toJson({0, 0})}}}};
        }
        return nullptr;
    }
    if (t->kind != Token::Kind::Name && t->kind != Token::Kind::Keyword) return nullptr;
    // The first name of the dotted name the cursor is on (`fashion` of `fashion.test`).
    const auto& tokens = doc.tokens();
    size_t i = size_t(t - tokens.data());
    while (i >= 2 && tokens[i - 1].text() == "." && tokens[i - 1].span.begin == tokens[i - 2].span.end &&
           tokens[i - 1].span.end == tokens[i].span.begin &&
           (tokens[i - 2].kind == Token::Kind::Name || tokens[i - 2].kind == Token::Kind::Keyword))
        i -= 2;
    // A field or parameter name is not a reference, nor a keyword of a statement.
    if (i + 1 < tokens.size() && tokens[i + 1].text() == "=" && &tokens[i] == t) return nullptr;
    const Declaration* d = doc.declaration(tokens[i].text());
    if (!d) return nullptr;
    return location(d->nameSpan);
}

namespace {

// LSP SymbolKind numbers.
int symbolKind(const ast::Statement& s) {
    switch (s.kind) {
    case ast::Statement::Kind::Seed: return 16;      // Number
    case ast::Statement::Kind::Import: return 2;     // Module
    case ast::Statement::Kind::Let: return 14;       // Constant
    case ast::Statement::Kind::Evaluate: return 24;  // Event
    case ast::Statement::Kind::Export: return 1;     // File
    case ast::Statement::Kind::Block: break;
    }
    switch (s.blockKind) {
    case ast::BlockKind::Tokenizer: return 12;  // Function
    case ast::BlockKind::Data: return 23;       // Struct
    case ast::BlockKind::Model: return 5;       // Class
    case ast::BlockKind::Train: return 6;       // Method
    case ast::BlockKind::Sweep: return 3;       // Namespace
    }
    return 2;
}

// A value as one line for an outline: its source text with runs of space folded.
std::string oneLine(std::string_view text, size_t limit = 60) {
    std::string out;
    for (char c : text) {
        bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        if (space && (out.empty() || out.back() == ' ')) continue;
        out += space ? ' ' : c;
    }
    if (!out.empty() && out.back() == ' ') out.pop_back();
    if (out.size() > limit) out = out.substr(0, limit - 3) + "...";
    return out;
}

json symbol(const std::string& name, const std::string& detail, int kind, const Span& range, const Span& selection) {
    json s = {{"name", name.empty() ? "?" : name},
              {"kind", kind},
              {"range", rangeOf(range)},
              {"selectionRange", rangeOf(selection)}};
    if (!detail.empty()) s["detail"] = detail;
    return s;
}

}  // namespace

json documentSymbols(const Document& doc) {
    json out = json::array();
    if (!doc.module()) return out;
    for (const auto& s : doc.module()->statements) {
        Span range = Span::cover(s.span, s.keyword);
        if (!range.valid()) continue;
        std::string keyword(s.keyword.text());
        json item;
        switch (s.kind) {
        case ast::Statement::Kind::Block: {
            std::string kind = ast::blockKindName(s.blockKind);
            item = symbol(s.name ? s.name->text : kind, kind, symbolKind(s), range, s.name ? s.name->span : s.keyword);
            json children = json::array();
            for (const auto& f : s.fields) {
                if (!f.span.valid()) continue;
                children.push_back(symbol(f.key.text(), f.value ? oneLine(f.value->span.text()) : "", 8, f.span,
                                          f.key.span.valid() ? f.key.span : f.span));
            }
            item["children"] = children;
            break;
        }
        case ast::Statement::Kind::Let:
            item = symbol(s.name ? s.name->text : "let", s.value ? oneLine(s.value->span.text()) : "", symbolKind(s),
                          range, s.name ? s.name->span : s.keyword);
            break;
        case ast::Statement::Kind::Import:
            item =
                symbol("import " + s.importPath, "", symbolKind(s), range, s.importSpan.valid() ? s.importSpan : range);
            break;
        case ast::Statement::Kind::Evaluate:
        case ast::Statement::Kind::Export: {
            // `evaluate fit`, with the rest (`on fashion.test with [...]`) as the detail.
            Span head = Span::cover(s.keyword, s.subject.span);
            std::string_view rest =
                s.span.text().substr(std::min<size_t>(head.end - s.span.begin, s.span.text().size()));
            item = symbol(oneLine(head.text()), oneLine(rest), symbolKind(s), range, head);
            break;
        }
        case ast::Statement::Kind::Seed:
            item = symbol(oneLine(s.span.text()), "", symbolKind(s), range, s.keyword.valid() ? s.keyword : range);
            break;
        }
        out.push_back(item);
    }
    return out;
}

json formatting(const Document& doc) {
    Diagnostics diags;
    ast::Module module = parse(doc.file(), diags);
    if (diags.hasErrors()) return nullptr;
    std::string formatted = format(module);
    if (formatted == doc.file().text) return json::array();
    json edit = {
        {"range",
         {{"start", toJson({0, 0})}, {"end", toJson(toPosition(doc.file(), uint32_t(doc.file().text.size())))}}},
        {"newText", formatted}};
    return json::array({edit});
}

}  // namespace pipelang::lsp
