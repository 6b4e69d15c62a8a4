#include "interpreter/parse.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "PipeLexer.h"
#include "PipeParser.h"
#include "antlr4-runtime.h"
#include "interpreter/limits.h"

namespace pipelang {

using pipe_grammar::PipeLexer;
using pipe_grammar::PipeParser;

namespace {

// ANTLR indexes characters as code points; spans are bytes. This maps one to
// the other (identity for ASCII files, the common case).
class Offsets {
public:
    explicit Offsets(const std::string& text, uint32_t base = 0) : base_(base) {
        bool ascii = std::all_of(text.begin(), text.end(), [](char c) { return (unsigned char)c < 0x80; });
        if (ascii) return;
        for (uint32_t i = 0; i < text.size(); ++i)
            if (((unsigned char)text[i] & 0xC0) != 0x80) map_.push_back(i);
        map_.push_back(uint32_t(text.size()));
    }
    uint32_t byte(size_t codePoint) const {
        if (map_.empty()) return base_ + uint32_t(codePoint);
        return base_ + (codePoint < map_.size() ? map_[codePoint] : map_.back());
    }

private:
    uint32_t base_;  // where the parsed text starts in its file
    std::vector<uint32_t> map_;
};

// The first byte that is not part of valid UTF-8, or npos.
size_t invalidUtf8(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = s[i];
        size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 99;
        if (n == 99 || (n == 1 && c < 0xC2) || i + n >= s.size() + (n ? 0 : 1)) return i;
        uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
        for (size_t k = 1; k <= n; ++k) {
            unsigned char d = s[i + k];
            if ((d & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (d & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += n + 1;
    }
    return std::string::npos;
}

// How a token is named in a message.
std::string describeToken(antlr4::Token* t) {
    switch (t->getType()) {
    case antlr4::Token::EOF: return "the end of the file";
    case PipeLexer::IDENT: return "`" + t->getText() + "`";
    case PipeLexer::NUMBER: return "the number `" + t->getText() + "`";
    case PipeLexer::STRING:
    case PipeLexer::BAD_STRING: return "a string";
    case PipeLexer::STRAY: return "the character `" + t->getText() + "`";
    default: return "`" + t->getText() + "`";
    }
}

// The keywords, which the grammar also accepts wherever a name goes.
bool isKeyword(size_t type) {
    switch (type) {
    case PipeLexer::SEED:
    case PipeLexer::IMPORT:
    case PipeLexer::LET:
    case PipeLexer::TOKENIZER:
    case PipeLexer::DATA:
    case PipeLexer::MODEL:
    case PipeLexer::TRAIN:
    case PipeLexer::SWEEP:
    case PipeLexer::EVALUATE:
    case PipeLexer::EXPORT:
    case PipeLexer::ON:
    case PipeLexer::WITH:
    case PipeLexer::TO:
    case PipeLexer::TTA: return true;
    default: return false;
    }
}

// How an expected token type is named; related types share a phrase.
std::string describeExpected(size_t type, const antlr4::dfa::Vocabulary& vocabulary, bool namesCovered) {
    switch (type) {
    case antlr4::Token::EOF: return "the end of the file";
    case PipeLexer::IDENT: return "a name";
    case PipeLexer::NUMBER:
    case PipeLexer::STRING:
    case PipeLexer::BAD_STRING:
    case PipeLexer::TRUE:
    case PipeLexer::FALSE: return "a value";
    default: break;
    }
    // Keywords are names too: "a name" or the statement list covers them,
    // but a keyword expected alone (`on` in `evaluate A on B`) is named.
    if (isKeyword(type) && namesCovered) return "";
    std::string literal = vocabulary.getLiteralName(type);
    if (literal.size() >= 2) literal = literal.substr(1, literal.size() - 2);
    if (literal == "[" || literal == "(" || literal == "-") return "a value";
    return "`" + literal + "`";
}

std::string describeExpectedSet(const antlr4::misc::IntervalSet& set, const antlr4::dfa::Vocabulary& vocabulary) {
    std::vector<size_t> types;
    for (ssize_t t : set.toList()) types.push_back(size_t(t));
    bool statementStart = set.contains(size_t(PipeLexer::DATA)) && set.contains(size_t(PipeLexer::SEED)) &&
                          !set.contains(size_t(PipeLexer::IDENT));
    std::vector<std::string> phrases;
    auto addPhrase = [&](const std::string& p) {
        if (!p.empty() && std::find(phrases.begin(), phrases.end(), p) == phrases.end()) phrases.push_back(p);
    };
    if (statementStart)
        addPhrase(
            "a statement (`data`, `model`, `train`, `tokenizer`, `sweep`, `evaluate`, `export`, `let`, `seed` "
            "or `import`)");
    bool valueStart = set.contains(size_t(PipeLexer::NUMBER)) && set.contains(size_t(PipeLexer::IDENT));
    if (valueStart) addPhrase("a value");
    for (size_t t : types) {
        if (statementStart && (t == antlr4::Token::EOF || t == PipeLexer::SEED)) continue;
        if (valueStart && t == PipeLexer::IDENT) continue;
        addPhrase(describeExpected(t, vocabulary, statementStart || set.contains(size_t(PipeLexer::IDENT))));
    }
    if (phrases.empty()) return "something else";
    std::string out;
    for (size_t i = 0; i < phrases.size(); ++i) {
        if (i) out += i + 1 == phrases.size() ? " or " : ", ";
        out += phrases[i];
    }
    return out;
}

// Syntax errors in the project's words. ANTLR's recovery (single-token
// insertion and deletion, resynchronising on follow sets) is kept; only the
// reporting is ours.
class ErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
    // `whole` names what is parsed, for "... ends too early": "the file", "the value".
    ErrorStrategy(const SourceFile& file, const Offsets& offsets, Diagnostics& diags, const char* whole)
        : file_(file), offsets_(offsets), diags_(diags), whole_(whole) {}

protected:
    void reportNoViableAlternative(antlr4::Parser* parser, const antlr4::NoViableAltException& e) override {
        report(parser, e.getOffendingToken(), e.getExpectedTokens());
    }
    void reportInputMismatch(antlr4::Parser* parser, const antlr4::InputMismatchException& e) override {
        report(parser, e.getOffendingToken(), e.getExpectedTokens());
    }
    void reportFailedPredicate(antlr4::Parser* parser, const antlr4::FailedPredicateException& e) override {
        report(parser, e.getOffendingToken(), e.getExpectedTokens());
    }
    void reportUnwantedToken(antlr4::Parser* parser) override {
        if (inErrorRecoveryMode(parser)) return;
        beginErrorCondition(parser);
        report(parser, parser->getCurrentToken(), getExpectedTokens(parser));
    }
    void reportMissingToken(antlr4::Parser* parser) override {
        if (inErrorRecoveryMode(parser)) return;
        beginErrorCondition(parser);
        report(parser, parser->getCurrentToken(), getExpectedTokens(parser));
    }

    // Inside a block, keywords are names (`model = lm`), so a block whose `}`
    // is missing would swallow the next statement as a malformed field and
    // give two confusing errors. A token sequence that can only start a
    // statement (`model net {`, `evaluate fit`, `let x =`, `import "f"`)
    // closes the block instead: one error, and parsing goes on from there.
    void sync(antlr4::Parser* parser) override {
        auto* block = dynamic_cast<PipeParser::BlockStatementContext*>(parser->getContext());
        if (block && isOpen(block) && startsStatement(parser->getTokenStream())) {
            if (!inErrorRecoveryMode(parser)) {
                antlr4::Token* last = parser->getTokenStream()->LT(-1);
                uint32_t end = offsets_.byte(last->getStopIndex() + 1);
                auto& d = diags_.error("unclosed-block", Span{&file_, end, end}, blockWords(block) + " is not closed");
                antlr4::Token* next = parser->getTokenStream()->LT(1);
                d.hints.push_back("add `}` before `" + next->getText() + "` on line " +
                                  std::to_string(next->getLine()));
                d.notes.push_back({tokenSpan(block->getStart()), "the block starts here"});
            }
            beginErrorCondition(parser);
            throw antlr4::InputMismatchException(parser);  // the statement rule recovers at the next statement
        }
        antlr4::DefaultErrorStrategy::sync(parser);
    }

private:
    static bool isOpen(PipeParser::BlockStatementContext* block) {
        for (auto* child : block->children)
            if (auto* t = dynamic_cast<antlr4::tree::TerminalNode*>(child); t && t->getText() == "{") return true;
        return false;
    }

    // "the data block `fashion`", "the train block"
    static std::string blockWords(PipeParser::BlockStatementContext* block) {
        return "the " + block->kind->getText() + " block" +
               (block->name() ? " `" + block->name()->getText() + "`" : std::string());
    }

    static bool isName(size_t type) { return type == PipeLexer::IDENT || isKeyword(type); }

    // The next tokens can begin a statement but not a field.
    static bool startsStatement(antlr4::TokenStream* tokens) {
        size_t first = tokens->LA(1), second = tokens->LA(2), third = tokens->LA(3);
        switch (first) {
        case PipeLexer::TOKENIZER:
        case PipeLexer::DATA:
        case PipeLexer::MODEL:
        case PipeLexer::TRAIN:
        case PipeLexer::SWEEP:
            return tokens->LT(2)->getText() == "{" || (isName(second) && tokens->LT(3)->getText() == "{");
        case PipeLexer::EVALUATE:
        case PipeLexer::EXPORT: return isName(second) && (third == PipeLexer::ON || third == PipeLexer::TO);
        case PipeLexer::LET: return isName(second) && tokens->LT(3)->getText() == "=";
        case PipeLexer::IMPORT: return second == PipeLexer::STRING || second == PipeLexer::BAD_STRING;
        default: return false;
        }
    }

    Span tokenSpan(antlr4::Token* t) const {
        if (t->getType() == antlr4::Token::EOF) {
            uint32_t end = uint32_t(file_.text.size());
            return Span{&file_, end, end};
        }
        return Span{&file_, offsets_.byte(t->getStartIndex()), offsets_.byte(t->getStopIndex() + 1)};
    }

    void report(antlr4::Parser* parser, antlr4::Token* offending, const antlr4::misc::IntervalSet& expected) {
        if (!offending) return;
        // A string left open runs to the end of its line and takes the
        // closing brackets with it: that is reported once, by itself.
        antlr4::Token* before = parser->getTokenStream()->LT(-1);
        if (offending->getType() == PipeLexer::BAD_STRING || (before && before->getType() == PipeLexer::BAD_STRING))
            return;
        Span at = tokenSpan(offending);
        // What is missing belongs right after the last good token when the
        // offending one sits on a later line (a missing `)` at a line's end).
        antlr4::Token* previous = parser->getTokenStream()->LT(-1);
        Span where = at;
        if (previous && previous->getType() != antlr4::Token::EOF && previous->getLine() < offending->getLine()) {
            uint32_t end = offsets_.byte(previous->getStopIndex() + 1);
            where = Span{&file_, end, end};
        }
        std::string want = describeExpectedSet(expected, parser->getVocabulary());
        // A `--set` value is not a file.
        if (auto at = want.find("the end of the file"); at != std::string::npos)
            want.replace(at, std::string("the end of the file").size(), "the end of " + std::string(whole_));
        if (offending->getType() == PipeLexer::STRAY) {
            auto& d = diags_.error("unexpected-character", at, "unexpected character `" + offending->getText() + "`");
            d.hints.push_back("expected " + want + " here");
            return;
        }
        if (offending->getType() == antlr4::Token::EOF) {
            if (auto* block = dynamic_cast<PipeParser::BlockStatementContext*>(parser->getContext());
                block && isOpen(block)) {
                auto& d = diags_.error("unclosed-block", where, blockWords(block) + " is not closed");
                d.hints.push_back("add `}` at the end of the file");
                d.notes.push_back({tokenSpan(block->getStart()), "the block starts here"});
                return;
            }
            auto& d = diags_.error("unexpected-end", where, std::string(whole_) + " ends too early: expected " + want);
            addOpenBracketNote(parser, d);
            addOpenBlockNote(parser, d);
            return;
        }
        bool statementStart = expected.contains(size_t(PipeLexer::DATA)) &&
                              expected.contains(size_t(PipeLexer::SEED)) &&
                              !expected.contains(size_t(PipeLexer::IDENT));
        if (statementStart && offending->getText() == "}") {
            auto& d = diags_.error("syntax", at, "this `}` has no block to close");
            d.hints.push_back("remove it, or the `}` before it that closes its block too early");
            return;
        }
        auto& d = diags_.error("syntax", where, "expected " + want + ", found " + describeToken(offending));
        if (offending->getText() == "," && dynamic_cast<PipeParser::BlockStatementContext*>(parser->getContext()))
            d.hints.push_back("fields are separated by line breaks or spaces, not commas");
        // A bracket left open at the end of a line: show where it opened.
        if (where.begin != at.begin) addOpenBracketNote(parser, d);
        if (expected.contains(size_t(PipeParser::T__0)) && expected.size() == 1)  // '=' alone: a field without a value
            d.hints.push_back("a field is written `name = value`");
    }

    // The innermost `(` or `[` still open where the parser stopped, if the
    // error is about closing it.
    void addOpenBracketNote(antlr4::Parser* parser, Diagnostic& d) {
        for (auto* ctx = parser->getContext(); ctx; ctx = dynamic_cast<antlr4::ParserRuleContext*>(ctx->parent)) {
            if (dynamic_cast<PipeParser::BlockStatementContext*>(ctx)) return;
            bool call = dynamic_cast<PipeParser::CallExprContext*>(ctx) != nullptr;
            if (!call && !dynamic_cast<PipeParser::ListExprContext*>(ctx) &&
                !dynamic_cast<PipeParser::TupleExprContext*>(ctx))
                continue;
            for (auto* child : ctx->children) {
                auto* t = dynamic_cast<antlr4::tree::TerminalNode*>(child);
                if (!t || (t->getText() != "(" && t->getText() != "[")) continue;
                std::string open = t->getText(), close = open == "(" ? ")" : "]";
                std::string what = call          ? "the call of `" + ctx->children[0]->getText() + "`"
                                   : open == "[" ? "the list"
                                                 : "the tuple";
                d.notes.push_back({tokenSpan(t->getSymbol()), what + " opens here; close it with `" + close + "`"});
                return;
            }
        }
    }

    // When the file ends inside a block, point at where that block opened.
    void addOpenBlockNote(antlr4::Parser* parser, Diagnostic& d) {
        for (auto* ctx = parser->getContext(); ctx; ctx = dynamic_cast<antlr4::ParserRuleContext*>(ctx->parent)) {
            if (auto* block = dynamic_cast<PipeParser::BlockStatementContext*>(ctx)) {
                d.notes.push_back({tokenSpan(block->getStart()), "the block that is not closed starts here"});
                d.hints.push_back("add `}` to close it");
                return;
            }
        }
    }

    const SourceFile& file_;
    const Offsets& offsets_;
    Diagnostics& diags_;
    const char* whole_;
};

// Builds the AST from ANTLR's parse tree. Erroneous parts of the tree have
// missing children; every accessor is checked and a broken node is skipped.
class Builder {
public:
    Builder(const SourceFile& file, const Offsets& offsets, Diagnostics& diags)
        : file_(file), offsets_(offsets), diags_(diags) {}

    Span span(antlr4::ParserRuleContext* ctx) const {
        if (!ctx || !ctx->getStart()) return Span{&file_, 0, 0};
        antlr4::Token* start = ctx->getStart();
        antlr4::Token* stop = ctx->getStop();
        uint32_t begin = offsets_.byte(start->getStartIndex());
        if (start->getType() == antlr4::Token::EOF) begin = uint32_t(file_.text.size());
        uint32_t end = begin;
        if (stop && stop->getType() != antlr4::Token::EOF && stop->getStopIndex() + 1 >= start->getStartIndex())
            end = offsets_.byte(stop->getStopIndex() + 1);
        return Span{&file_, begin, std::max(begin, end)};
    }
    Span span(antlr4::Token* t) const {
        return Span{&file_, offsets_.byte(t->getStartIndex()), offsets_.byte(t->getStopIndex() + 1)};
    }

    ast::Module module(PipeParser::FileContext* ctx) {
        ast::Module m;
        m.file = &file_;
        for (auto* s : ctx->statement())
            if (auto st = statement(s)) m.statements.push_back(std::move(*st));
        return m;
    }

    std::unique_ptr<ast::Expr> expr(PipeParser::ExprContext* ctx) {
        if (!ctx || ctx->exception) return nullptr;
        auto e = std::make_unique<ast::Expr>();
        e->span = span(ctx);
        if (auto* lit = dynamic_cast<PipeParser::LiteralExprContext*>(ctx)) {
            if (!literal(lit->literal(), *e)) return nullptr;
        } else if (auto* ref = dynamic_cast<PipeParser::RefExprContext*>(ctx)) {
            e->kind = ast::Expr::Kind::Ref;
            if (!path(ref->path(), e->path)) return nullptr;
        } else if (auto* call = dynamic_cast<PipeParser::CallExprContext*>(ctx)) {
            e->kind = ast::Expr::Kind::Call;
            if (!path(call->path(), e->path)) return nullptr;
            for (auto* a : call->argument()) {
                if (!a || a->exception || !a->expr()) return nullptr;
                ast::Argument arg;
                arg.span = span(a);
                if (a->name()) arg.name = name(a->name());
                arg.value = expr(a->expr());
                if (!arg.value) return nullptr;
                e->args.push_back(std::move(arg));
            }
        } else if (auto* list = dynamic_cast<PipeParser::ListExprContext*>(ctx)) {
            e->kind = ast::Expr::Kind::List;
            if (!items(list->expr(), *e)) return nullptr;
        } else if (auto* tuple = dynamic_cast<PipeParser::TupleExprContext*>(ctx)) {
            e->kind = ast::Expr::Kind::Tuple;
            if (!items(tuple->expr(), *e)) return nullptr;
        } else {
            return nullptr;
        }
        return e;
    }

private:
    std::optional<ast::Statement> statement(PipeParser::StatementContext* ctx) {
        if (!ctx) return std::nullopt;
        ast::Statement s;
        s.span = span(ctx);
        s.keyword = span(ctx->getStart());
        if (auto* seed = dynamic_cast<PipeParser::SeedStatementContext*>(ctx)) {
            s.kind = ast::Statement::Kind::Seed;
            s.value = expr(seed->expr());
            if (!s.value) return std::nullopt;
        } else if (auto* imp = dynamic_cast<PipeParser::ImportStatementContext*>(ctx)) {
            s.kind = ast::Statement::Kind::Import;
            if (!imp->STRING()) return std::nullopt;
            s.importSpan = span(imp->STRING()->getSymbol());
            auto decoded = decodeString(imp->STRING()->getSymbol());
            if (!decoded) return std::nullopt;
            s.importPath = *decoded;
        } else if (auto* let = dynamic_cast<PipeParser::LetStatementContext*>(ctx)) {
            s.kind = ast::Statement::Kind::Let;
            if (!let->name()) return std::nullopt;
            s.name = name(let->name());
            s.value = expr(let->expr());
            if (!s.value) return std::nullopt;
        } else if (auto* block = dynamic_cast<PipeParser::BlockStatementContext*>(ctx)) {
            s.kind = ast::Statement::Kind::Block;
            if (!block->kind) return std::nullopt;
            switch (block->kind->getType()) {
            case PipeLexer::TOKENIZER: s.blockKind = ast::BlockKind::Tokenizer; break;
            case PipeLexer::DATA: s.blockKind = ast::BlockKind::Data; break;
            case PipeLexer::MODEL: s.blockKind = ast::BlockKind::Model; break;
            case PipeLexer::TRAIN: s.blockKind = ast::BlockKind::Train; break;
            default: s.blockKind = ast::BlockKind::Sweep; break;
            }
            if (block->name()) s.name = name(block->name());
            for (auto* f : block->field()) {
                if (!f || f->exception || !f->path() || !f->expr()) continue;
                ast::Field field;
                field.span = span(f);
                if (!path(f->path(), field.key)) continue;
                field.value = expr(f->expr());
                if (!field.value) continue;
                s.fields.push_back(std::move(field));
            }
        } else if (auto* ev = dynamic_cast<PipeParser::EvaluateStatementContext*>(ctx)) {
            s.kind = ast::Statement::Kind::Evaluate;
            if (ev->path().size() != 2 || !path(ev->path(0), s.subject) || !path(ev->path(1), s.target))
                return std::nullopt;
            if (ev->WITH()) {
                s.value = expr(ev->withExpr);
                if (!s.value) return std::nullopt;
            }
            if (ev->TTA()) {
                s.tta = expr(ev->ttaExpr);
                if (!s.tta) return std::nullopt;
            }
        } else if (auto* ex = dynamic_cast<PipeParser::ExportStatementContext*>(ctx)) {
            s.kind = ast::Statement::Kind::Export;
            if (!path(ex->path(), s.subject)) return std::nullopt;
            s.value = expr(ex->expr());
            if (!s.value) return std::nullopt;
        } else {
            return std::nullopt;
        }
        return s;
    }

    bool items(const std::vector<PipeParser::ExprContext*>& ctxs, ast::Expr& e) {
        for (auto* c : ctxs) {
            auto item = expr(c);
            if (!item) return false;
            ast::Argument arg;
            arg.span = item->span;
            arg.value = std::move(item);
            e.args.push_back(std::move(arg));
        }
        return true;
    }

    ast::Name name(PipeParser::NameContext* ctx) { return ast::Name{ctx->getText(), span(ctx)}; }

    bool path(PipeParser::PathContext* ctx, ast::Path& out) {
        if (!ctx || ctx->exception || ctx->name().empty()) return false;
        for (auto* n : ctx->name()) {
            if (!n || n->getStart() == nullptr || n->getStart()->getType() == antlr4::Token::EOF) return false;
            out.parts.push_back(name(n));
        }
        out.span = span(ctx);
        return true;
    }

    bool literal(PipeParser::LiteralContext* ctx, ast::Expr& e) {
        if (!ctx || ctx->exception) return false;
        if (auto* n = ctx->NUMBER()) {
            e.kind = ast::Expr::Kind::Number;
            bool negative = ctx->getStart()->getType() != PipeLexer::NUMBER;
            std::string digits;
            for (char c : n->getText())
                if (c != '_') digits += c;
            e.isInteger = digits.find_first_of(".eE") == std::string::npos;
            e.text = (negative ? "-" : "") + n->getText();
            errno = 0;
            if (e.isInteger) {
                long long value = std::strtoll(digits.c_str(), nullptr, 10);
                if (errno == ERANGE) {
                    diags_.error("number-range", e.span, "the integer `" + e.text + "` is too large")
                        .hints.push_back("integers run up to 9223372036854775807");
                    return false;
                }
                e.number = double(negative ? -value : value);
            } else {
                double value = std::strtod(digits.c_str(), nullptr);
                if (errno == ERANGE && std::abs(value) > 1) {
                    diags_.error("number-range", e.span, "the number `" + e.text + "` is too large");
                    return false;
                }
                e.number = negative ? -value : value;
            }
            return true;
        }
        if (auto* s = ctx->STRING()) {
            e.kind = ast::Expr::Kind::String;
            auto decoded = decodeString(s->getSymbol());
            if (!decoded) return false;
            e.text = *decoded;
            return true;
        }
        if (ctx->BAD_STRING()) return false;  // reported from the tokens (reportOpenStrings)
        e.kind = ast::Expr::Kind::Bool;
        e.boolean = ctx->TRUE() != nullptr;
        return ctx->TRUE() || ctx->FALSE();
    }

    std::optional<std::string> decodeString(antlr4::Token* token) {
        std::string raw = token->getText();
        std::string out;
        Span where = span(token);
        for (size_t i = 1; i + 1 < raw.size(); ++i) {
            if (raw[i] != '\\') {
                out += raw[i];
                continue;
            }
            char c = raw[++i];
            switch (c) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            default: {
                // Point at the escape itself, not the whole string.
                uint32_t at = where.begin + uint32_t(std::string_view(raw).substr(0, i - 1).size());
                std::string seq = "\\";
                size_t len = 1;
                while (i + len - 1 < raw.size() - 1 && ((unsigned char)raw[i + len - 1] & 0xC0) == 0x80) ++len;
                seq += raw.substr(i, 1);
                auto& d =
                    diags_.error("bad-escape", Span{&file_, at, at + 2}, "unknown escape `" + seq + "` in a string");
                d.hints.push_back("the escapes are \\n, \\t, \\r, \\\" and \\\\; write `\\\\` for a backslash");
                return std::nullopt;
            }
            }
        }
        return out;
    }

    const SourceFile& file_;
    const Offsets& offsets_;
    Diagnostics& diags_;
};

// ---- comments ---------------------------------------------------------------

struct Anchor {
    uint32_t begin, end;
    ast::Comments* comments;
};
struct Container {
    uint32_t begin, end;
    std::vector<std::string>* dangling;
};

class CommentAttacher {
public:
    explicit CommentAttacher(const SourceFile& file) : file_(file) {}

    void collect(ast::Module& m) {
        for (auto& s : m.statements) {
            anchors_.push_back({s.span.begin, s.span.end, &s.comments});
            if (s.kind == ast::Statement::Kind::Block) {
                containers_.push_back({s.span.begin, s.span.end, &s.danglingComments});
                for (auto& f : s.fields) {
                    anchors_.push_back({f.span.begin, f.span.end, &f.comments});
                    collect(*f.value);
                }
            }
            if (s.value) collect(*s.value);
        }
        fileDangling_ = &m.danglingComments;
    }

    void attach(const std::vector<std::pair<uint32_t, uint32_t>>& comments) {
        index();
        // Leading comments are gathered per anchor first, so blank lines
        // between them can be kept as "" entries.
        std::vector<std::pair<Anchor*, std::vector<std::pair<uint32_t, uint32_t>>>> pending;
        for (auto [begin, end] : comments) {
            std::string text(std::string_view(file_.text).substr(begin, end - begin));
            while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.pop_back();
            if (Anchor* a = trailingAnchor(begin)) {
                if (a->comments->trailing.empty()) {
                    a->comments->trailing = text;
                    continue;
                }
            }
            Container* c = innermost(begin);
            Anchor* next = nextAnchor(begin, c);
            if (!next) {
                auto* dangling = c ? c->dangling : fileDangling_;
                if (!dangling->empty() && blankBetween(lastDanglingEnd(dangling), begin)) dangling->push_back("");
                dangling->push_back(text);
                danglingEnds_[dangling] = end;
                continue;
            }
            if (pending.empty() || pending.back().first != next) pending.push_back({next, {}});
            pending.back().second.push_back({begin, end});
        }
        for (auto& [anchor, group] : pending) {
            auto& leading = anchor->comments->leading;
            for (size_t i = 0; i < group.size(); ++i) {
                if (i > 0 && blankBetween(group[i - 1].second, group[i].first)) leading.push_back("");
                std::string text(std::string_view(file_.text).substr(group[i].first, group[i].second - group[i].first));
                while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
                    text.pop_back();
                leading.push_back(text);
            }
            if (blankBetween(group.back().second, anchor->begin)) leading.push_back("");
            leadingStart_[anchor->comments] = group.front().first;
        }
    }

    // A blank line before a statement or field (or before its comments).
    void markBlankLines(ast::Module& m) {
        for (auto& s : m.statements) {
            s.comments.blankLineBefore = blankBefore(s.comments, s.span.begin);
            for (auto& f : s.fields) f.comments.blankLineBefore = blankBefore(f.comments, f.span.begin);
        }
    }

private:
    void collect(ast::Expr& e) {
        bool container =
            e.kind == ast::Expr::Kind::Call || e.kind == ast::Expr::Kind::List || e.kind == ast::Expr::Kind::Tuple;
        if (!container) return;
        containers_.push_back({e.span.begin, e.span.end, &e.danglingComments});
        for (auto& a : e.args) {
            ast::Comments* c = e.kind == ast::Expr::Kind::Call ? &a.comments : &a.value->comments;
            anchors_.push_back({a.span.begin, a.span.end, c});
            collect(*a.value);
        }
    }

    int lineOf(uint32_t offset) const { return file_.position(offset).first; }

    // A file of thousands of statements has thousands of comments and
    // anchors, so each lookup below is a binary search (and a walk up a
    // chain no longer than kMaxNesting), not a scan: attaching stays linear
    // in the file's size, up to a logarithm.
    void index() {
        std::vector<size_t> all(anchors_.size());
        for (size_t i = 0; i < all.size(); ++i) all[i] = i;
        byBegin_ = all;
        // Among equal spans the first collected wins, as the outer node does.
        std::sort(byBegin_.begin(), byBegin_.end(), [&](size_t a, size_t b) {
            const Anchor &x = anchors_[a], &y = anchors_[b];
            return x.begin != y.begin ? x.begin < y.begin : x.end != y.end ? x.end > y.end : a < b;
        });
        for (size_t i : all)
            if (anchors_[i].end > anchors_[i].begin) byEnd_.push_back(i);
        // The best of those ending at or before a place is the last that does.
        std::sort(byEnd_.begin(), byEnd_.end(), [&](size_t a, size_t b) {
            const Anchor &x = anchors_[a], &y = anchors_[b];
            return x.end != y.end ? x.end < y.end : x.begin != y.begin ? x.begin > y.begin : a > b;
        });
        // Containers nest, so each has one parent: the innermost one around it.
        containerOrder_.resize(containers_.size());
        for (size_t i = 0; i < containerOrder_.size(); ++i) containerOrder_[i] = i;
        std::sort(containerOrder_.begin(), containerOrder_.end(), [&](size_t a, size_t b) {
            const Container &x = containers_[a], &y = containers_[b];
            return x.begin != y.begin ? x.begin < y.begin : x.end != y.end ? x.end > y.end : a > b;
        });
        parent_.assign(containers_.size(), kNone);
        std::vector<size_t> open;
        for (size_t i : containerOrder_) {
            while (!open.empty() && containers_[open.back()].end <= containers_[i].begin) open.pop_back();
            if (!open.empty()) parent_[i] = open.back();
            open.push_back(i);
        }
    }

    // The node a comment at `at` trails: the one ending last before it on its line.
    Anchor* trailingAnchor(uint32_t at) {
        auto it = std::upper_bound(byEnd_.begin(), byEnd_.end(), at,
                                   [&](uint32_t place, size_t i) { return place < anchors_[i].end; });
        if (it == byEnd_.begin()) return nullptr;
        Anchor& best = anchors_[*(it - 1)];
        uint32_t lineStart = file_.lineStarts[lineOf(at) - 1];
        // A comment after an item's comma still belongs to that item; one that
        // follows more code on the line than the item (`a, b  # c`) goes to the last.
        return best.end - 1 >= lineStart ? &best : nullptr;
    }

    // The smallest container around `at`.
    Container* innermost(uint32_t at) {
        auto it = std::lower_bound(containerOrder_.begin(), containerOrder_.end(), at,
                                   [&](size_t i, uint32_t place) { return containers_[i].begin < place; });
        if (it == containerOrder_.begin()) return nullptr;
        size_t c = *(it - 1);
        while (c != kNone && containers_[c].end <= at) c = parent_[c];
        return c == kNone ? nullptr : &containers_[c];
    }

    // The first node starting at or after `at`, the outermost of those that start together.
    Anchor* nextAnchor(uint32_t at, Container* within) {
        auto it = std::lower_bound(byBegin_.begin(), byBegin_.end(), at,
                                   [&](size_t i, uint32_t place) { return anchors_[i].begin < place; });
        if (it == byBegin_.end()) return nullptr;
        Anchor& best = anchors_[*it];
        if (within && best.begin >= within->end) return nullptr;
        return &best;
    }

    bool blankBetween(uint32_t from, uint32_t to) const {
        int newlines = 0;
        for (uint32_t i = from; i < to && i < file_.text.size(); ++i) {
            char c = file_.text[i];
            if (c == '\n') {
                if (++newlines >= 2) return true;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                newlines = 0;
            }
        }
        return false;
    }

    uint32_t lastDanglingEnd(std::vector<std::string>* d) const {
        auto it = danglingEnds_.find(d);
        return it == danglingEnds_.end() ? 0 : it->second;
    }

    bool blankBefore(const ast::Comments& c, uint32_t begin) const {
        auto it = leadingStart_.find(&c);
        uint32_t start = it == leadingStart_.end() ? begin : it->second;
        uint32_t i = start;
        while (i > 0 && (file_.text[i - 1] == ' ' || file_.text[i - 1] == '\t' || file_.text[i - 1] == '\r' ||
                         file_.text[i - 1] == '\n'))
            --i;
        if (i == 0) return false;  // nothing before it but space
        return blankBetween(i, start);
    }

    const SourceFile& file_;
    std::vector<Anchor> anchors_;
    std::vector<Container> containers_;
    static constexpr size_t kNone = size_t(-1);
    std::vector<size_t> byBegin_, byEnd_;  // indices into anchors_
    std::vector<size_t> containerOrder_;   // indices into containers_, by where they begin
    std::vector<size_t> parent_;           // per container, the one around it, or kNone
    std::vector<std::string>* fileDangling_ = nullptr;
    std::map<const std::vector<std::string>*, uint32_t> danglingEnds_;
    std::map<const ast::Comments*, uint32_t> leadingStart_;
};

struct Pipeline {
    antlr4::ANTLRInputStream input;
    PipeLexer lexer;
    antlr4::CommonTokenStream tokens;
    PipeParser parser;

    explicit Pipeline(const std::string& text) : input(text), lexer(&input), tokens(&lexer), parser(&tokens) {
        lexer.removeErrorListeners();  // the STRAY rule means the lexer never fails
        parser.removeErrorListeners();
    }
};

// Names are ASCII, but a name with an accent (`données`) is one mistake, not
// a stray character between two names: the lexer's pieces are joined into
// one name, reported once, and the parser sees a name where one was meant.
void joinNonAsciiNames(Pipeline& p, const SourceFile& file, const Offsets& offsets, Diagnostics& diags) {
    p.tokens.fill();
    auto isNamePiece = [](antlr4::Token* t) {
        size_t type = t->getType();
        if (type == PipeLexer::STRAY) return (unsigned char)t->getText()[0] >= 0x80;
        return type == PipeLexer::IDENT || (type >= PipeLexer::SEED && type <= PipeLexer::FALSE);
    };
    const auto& tokens = p.tokens.getTokens();
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (!isNamePiece(tokens[i])) continue;
        size_t j = i;
        bool foreign = tokens[i]->getType() == PipeLexer::STRAY;
        while (j + 1 < tokens.size() && isNamePiece(tokens[j + 1]) &&
               tokens[j + 1]->getStartIndex() == tokens[j]->getStopIndex() + 1) {
            ++j;
            foreign = foreign || tokens[j]->getType() == PipeLexer::STRAY;
        }
        if (!foreign) {
            i = j;
            continue;
        }
        auto* first = dynamic_cast<antlr4::CommonToken*>(tokens[i]);
        if (!first) return;
        std::string text;
        for (size_t k = i; k <= j; ++k) text += tokens[k]->getText();
        Span at{&file, offsets.byte(tokens[i]->getStartIndex()), offsets.byte(tokens[j]->getStopIndex() + 1)};
        first->setType(PipeLexer::IDENT);
        first->setText(text);
        first->setStopIndex(tokens[j]->getStopIndex());
        for (size_t k = i + 1; k <= j; ++k)
            if (auto* t = dynamic_cast<antlr4::CommonToken*>(tokens[k])) t->setChannel(antlr4::Token::HIDDEN_CHANNEL);
        auto& d = diags.error("bad-name", at, "`" + text + "` is not a valid name");
        d.hints.push_back("names are made of the letters a-z and A-Z, digits and `_`");
        i = j;
    }
}

// A string that reaches the end of its line, reported once whatever the
// parser made of the tokens around it.
void reportOpenStrings(Pipeline& p, const SourceFile& file, const Offsets& offsets, Diagnostics& diags) {
    for (auto* t : p.tokens.getTokens()) {
        if (t->getType() != PipeLexer::BAD_STRING) continue;
        Span at{&file, offsets.byte(t->getStartIndex()), offsets.byte(t->getStopIndex() + 1)};
        auto& d = diags.error("unterminated-string", at, "this string is not closed");
        d.hints.push_back("end it with `\"` on the same line; write `\\n` for a line break inside a string");
    }
}

bool checkEncoding(const SourceFile& file, Diagnostics& diags) {
    size_t bad = invalidUtf8(file.text);
    if (bad == std::string::npos) return true;
    auto& d = diags.error("encoding", Span{&file, uint32_t(bad), uint32_t(bad + 1)}, "the file is not valid UTF-8");
    d.hints.push_back("save it as UTF-8 text");
    return false;
}

// ANTLR's parser recurses a few frames per bracket, and so does everything
// after it that walks the tree, so brackets nested thousands deep would end
// the process. They are counted on the token stream, which the lexer builds
// without recursion, before the parser runs.
bool checkNesting(Pipeline& p, const SourceFile& file, const Offsets& offsets, Diagnostics& diags) {
    p.tokens.fill();
    int depth = 0;
    for (auto* t : p.tokens.getTokens()) {
        if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL || t->getType() == antlr4::Token::EOF) continue;
        std::string text = t->getText();
        if (text == "(" || text == "[" || text == "{") {
            if (++depth <= limits::kMaxNesting) continue;
            limits::tooDeep(diags, Span{&file, offsets.byte(t->getStartIndex()), offsets.byte(t->getStopIndex() + 1)});
            return false;
        }
        if ((text == ")" || text == "]" || text == "}") && depth > 0) --depth;
    }
    return true;
}

// Parses with the fast SLL strategy first and falls back to full LL with
// error reporting only when that fails: valid files never pay for recovery.
template <typename Rule>
auto* runParser(Pipeline& p, const SourceFile& file, const Offsets& offsets, Diagnostics& diags, Rule rule,
                const char* whole) {
    p.parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    p.parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
    try {
        return (p.parser.*rule)();
    } catch (const antlr4::ParseCancellationException&) {}
    p.tokens.seek(0);
    p.parser.reset();
    p.parser.setErrorHandler(std::make_shared<ErrorStrategy>(file, offsets, diags, whole));
    p.parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
    return (p.parser.*rule)();
}

}  // namespace

ast::Module parse(const SourceFile& file, Diagnostics& diags) {
    ast::Module module;
    module.file = &file;
    if (!checkEncoding(file, diags) || !limits::checkText(file, diags)) return module;
    Offsets offsets(file.text);
    Pipeline p(file.text);
    size_t errorsBefore = diags.errorCount();
    joinNonAsciiNames(p, file, offsets, diags);
    if (!checkNesting(p, file, offsets, diags)) return module;
    auto* tree = runParser(p, file, offsets, diags, &PipeParser::file, "the file");
    reportOpenStrings(p, file, offsets, diags);
    Builder builder(file, offsets, diags);
    module = builder.module(tree);
    if (module.statements.size() > limits::kMaxStatements) {
        auto& d = diags.error("too-many-statements", module.statements[limits::kMaxStatements].keyword,
                              "the file has more than " + std::to_string(limits::kMaxStatements) +
                                  " statements, the most pipe reads in one file");
        d.hints.push_back("split it into files that `import` one another (docs/limits.md lists pipe's limits)");
        module.statements.clear();
        return module;
    }

    std::vector<std::pair<uint32_t, uint32_t>> comments;
    for (auto* t : p.tokens.getTokens())
        if (t->getType() == PipeLexer::COMMENT)
            comments.push_back({offsets.byte(t->getStartIndex()), offsets.byte(t->getStopIndex() + 1)});
    CommentAttacher attacher(file);
    attacher.collect(module);
    attacher.attach(comments);
    attacher.markBlankLines(module);
    (void)errorsBefore;
    return module;
}

std::unique_ptr<ast::Expr> parseExpression(const SourceFile& file, Diagnostics& diags, uint32_t begin) {
    if (!checkEncoding(file, diags) || !limits::checkText(file, diags)) return nullptr;
    std::string text = file.text.substr(std::min<size_t>(begin, file.text.size()));
    Offsets offsets(text, begin);
    Pipeline p(text);
    size_t errorsBefore = diags.errorCount();
    joinNonAsciiNames(p, file, offsets, diags);
    if (!checkNesting(p, file, offsets, diags)) return nullptr;
    auto* tree = runParser(p, file, offsets, diags, &PipeParser::exprOnly, "the value");
    reportOpenStrings(p, file, offsets, diags);
    if (diags.errorCount() > errorsBefore || !tree || !tree->expr()) return nullptr;
    Builder builder(file, offsets, diags);
    return builder.expr(tree->expr());
}

std::vector<Token> tokenize(const SourceFile& file) {
    std::vector<Token> out;
    if (invalidUtf8(file.text) != std::string::npos) return out;
    Offsets offsets(file.text);
    antlr4::ANTLRInputStream input(file.text);
    PipeLexer lexer(&input);
    lexer.removeErrorListeners();
    for (auto t = lexer.nextToken(); t->getType() != antlr4::Token::EOF; t = lexer.nextToken()) {
        size_t type = t->getType();
        if (type == PipeLexer::WS) continue;
        Token token;
        token.span = Span{&file, offsets.byte(t->getStartIndex()), offsets.byte(t->getStopIndex() + 1)};
        if (type == PipeLexer::IDENT)
            token.kind = Token::Kind::Name;
        else if (isKeyword(type))
            token.kind = Token::Kind::Keyword;
        else if (type == PipeLexer::NUMBER)
            token.kind = Token::Kind::Number;
        else if (type == PipeLexer::STRING)
            token.kind = Token::Kind::String;
        else if (type == PipeLexer::BAD_STRING)
            token.kind = Token::Kind::OpenString;
        else if (type == PipeLexer::TRUE || type == PipeLexer::FALSE)
            token.kind = Token::Kind::Bool;
        else if (type == PipeLexer::COMMENT)
            token.kind = Token::Kind::Comment;
        else if (type == PipeLexer::STRAY)
            token.kind = Token::Kind::Stray;
        else
            token.kind = Token::Kind::Punct;
        out.push_back(token);
    }
    return out;
}

}  // namespace pipelang
