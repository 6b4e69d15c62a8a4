#include "lsp/context.h"

#include <algorithm>

namespace pipelang::lsp {

using stdlib::Builtin;
using stdlib::Family;
using stdlib::Param;
using stdlib::Type;

namespace {

bool isName(const Token& t) {
    return t.kind == Token::Kind::Name || t.kind == Token::Kind::Keyword;
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? "." : "") + parts[i];
    return out;
}

// The item type of a list or tuple type, or of the list or tuple alternative of a union.
std::optional<Type> itemType(const std::optional<Type>& type, Type::Kind container) {
    if (!type) return std::nullopt;
    if (type->kind == container && !type->items.empty()) return type->items[0];
    if (type->kind == Type::Kind::Union)
        for (const auto& alternative : type->items)
            if (auto item = itemType(alternative, container)) return item;
    return std::nullopt;
}

// Where the scanner is within one block, call, list or tuple, or the top level.
struct Frame {
    enum class State {
        Start,    // an item begins: a field, an argument, a list item, a statement
        Value,    // after `=`: a value begins
        Path,     // a name was read; `.`, `(`, `=` or the next item may follow
        PathDot,  // after `name.`
        Done,     // a whole value was read
    };
    char open = 0;  // '{', '(', '[', or 0 for the top level
    const Builtin* section = nullptr;
    std::string sectionName;
    const Builtin* call = nullptr;
    bool isCall = false;
    std::optional<Type> items;  // list or tuple: the type of the items

    State state = State::Start;
    bool pathAtStart = false;  // the name being read began an item (so it may be a key)
    std::vector<std::string> parts;
    std::string key;  // the field or named argument whose value comes now
    const Param* param = nullptr;
    int positional = 0;  // arguments without a name before the current one
    std::vector<std::string> written;

    // Top level only: the statement being read and how far.
    std::string statement;  // "", "seed", "import", "let", a block kind, "evaluate", "export"
    int step = 0;           // evaluate: 0 stage, 1 `on`, 2 split, 3 `with`, 4 `tta`; export: 0 stage, 1 `to`

    // The parameter a value here is for: the named one, else the next positional one.
    const Param* currentParam() const {
        if (param || !isCall || !call || !key.empty()) return param;
        return size_t(positional) < call->params.size() ? &call->params[positional] : nullptr;
    }
    std::optional<Type> expected() const {
        if (open == '[') return items;
        if (open == '(' && !isCall) return items;
        if (const Param* p = currentParam()) return typeOf(*p);
        if (open == 0) {
            if (statement == "evaluate") {
                if (step == 0) return Type::parse("train_ref");
                if (step == 2) return Type::parse("split_ref");
                if (step == 3) return Type::parse("list<metric>");
                if (step == 4) return Type::parse("int");
            }
            if (statement == "export") return Type::parse(step == 0 ? "train_ref" : "path");
            if (statement == "seed") return Type::parse("int");
        }
        return std::nullopt;
    }
    void nextItem() {
        state = State::Start;
        parts.clear();
        key.clear();
        param = nullptr;
        pathAtStart = false;
    }
};

bool isStatementKeyword(std::string_view word) {
    static const char* keywords[] = {"seed",  "import", "let",   "tokenizer", "data",
                                     "model", "train",  "sweep", "evaluate",  "export"};
    return std::find(std::begin(keywords), std::end(keywords), word) != std::end(keywords);
}

class Scanner {
public:
    Scanner() { stack_.push_back(Frame{}); }

    void token(const Token& t) {
        Frame& f = stack_.back();
        if (isName(t)) return name(f, std::string(t.text()));
        if (t.kind == Token::Kind::Punct) return punct(f, t.text().empty() ? ' ' : t.text()[0]);
        if (t.kind == Token::Kind::Comment) return;
        // A literal (or a stray character) is a whole value.
        if (f.open == 0 && f.statement.empty()) return;
        f.state = Frame::State::Done;
        f.parts.clear();
    }

    Context context() const {
        const Frame& f = stack_.back();
        Context c;
        for (auto it = stack_.rbegin(); it != stack_.rend(); ++it)
            if (it->section) {
                c.section = it->section;
                c.sectionName = it->sectionName;
                break;
            }
        c.call = f.isCall ? f.call : nullptr;
        c.written = f.written;
        if (f.state == Frame::State::PathDot) {
            c.where = Context::Where::Member;
            c.path = f.parts;
            c.keyPosition = f.pathAtStart && f.open == '{';
            c.expected = f.expected();
            c.param = f.currentParam();
            return c;
        }
        if (f.open == 0) return topLevel(f, c);
        if (f.open == '{') {
            if (f.state == Frame::State::Value) {
                c.where = Context::Where::Value;
                c.param = f.param;
                c.expected = f.expected();
            } else {
                c.where = Context::Where::Field;
            }
            return c;
        }
        c.where = Context::Where::Value;
        c.param = f.currentParam();
        c.expected = f.expected();
        c.argumentStart = f.isCall && f.state == Frame::State::Start;
        return c;
    }

private:
    void name(Frame& f, const std::string& word) {
        if (f.open == 0 && startsStatement(f, word)) {
            f = Frame{};
            f.statement = word;
            return;
        }
        if (f.open == 0 && keywordStep(f, word)) return;
        if (f.open == 0 && stack_.size() == 1 && isBlock(f.statement) && f.state == Frame::State::Start) {
            f.sectionName = word;  // the block's name
            f.state = Frame::State::Done;
            return;
        }
        switch (f.state) {
        case Frame::State::Start:
        case Frame::State::Value:
            f.pathAtStart = f.state == Frame::State::Start;
            f.parts = {word};
            f.state = Frame::State::Path;
            return;
        case Frame::State::PathDot:
            f.parts.push_back(word);
            f.state = Frame::State::Path;
            return;
        case Frame::State::Path:
        case Frame::State::Done:
            // No separator: in a block, the next field begins.
            f.nextItem();
            f.pathAtStart = true;
            f.parts = {word};
            f.state = Frame::State::Path;
            return;
        }
    }

    static bool isBlock(const std::string& statement) {
        return statement == "tokenizer" || statement == "data" || statement == "model" || statement == "train" ||
               statement == "sweep";
    }

    // A statement keyword at the top level starts a statement, unless a name is due there.
    static bool startsStatement(const Frame& f, const std::string& word) {
        if (!isStatementKeyword(word)) return false;
        if (f.state == Frame::State::PathDot || f.state == Frame::State::Value) return false;
        if (f.statement == "let" && f.state == Frame::State::Start) return false;  // `let data = ...`
        bool nameDue = (f.statement == "evaluate" || f.statement == "export") && f.state == Frame::State::Start;
        return !nameDue;
    }

    // `on`, `with`, `to` after the stage (or split) of evaluate and export.
    static bool keywordStep(Frame& f, const std::string& word) {
        // `tta` after the split or after the `with` list.
        if (f.statement == "evaluate" && word == "tta" && (f.step == 2 || f.step == 3) &&
            (f.state == Frame::State::Path || f.state == Frame::State::Done)) {
            f.step = 4;
            f.nextItem();
            return true;
        }
        if (f.state != Frame::State::Path) return false;
        int next = f.statement == "evaluate" && f.step == 0 && word == "on"     ? 2
                   : f.statement == "evaluate" && f.step == 2 && word == "with" ? 3
                   : f.statement == "export" && f.step == 0 && word == "to"     ? 1
                                                                                : -1;
        if (next < 0) return false;
        f.step = next;
        f.nextItem();
        return true;
    }

    void punct(Frame& f, char c) {
        switch (c) {
        case '.':
            if (f.state == Frame::State::Path) f.state = Frame::State::PathDot;
            return;
        case '=':
            if (f.state == Frame::State::Path && f.pathAtStart) {
                f.key = join(f.parts);
                f.written.push_back(f.key);
                f.param = f.open == '{' && f.section && f.parts.size() == 1 ? f.section->param(f.key)
                          : f.isCall && f.call                              ? f.call->param(f.key)
                                                                            : nullptr;
                f.parts.clear();
                f.state = Frame::State::Value;
            } else if (f.open == 0 && f.statement == "let") {
                f.state = Frame::State::Value;
            }
            return;
        case '{':
            if (f.open == 0 && isBlock(f.statement)) {
                Frame block;
                block.section = stdlib::registry().find(Family::Section, f.statement);
                block.sectionName = f.sectionName.empty() ? f.statement : f.sectionName;
                enter(f, '{', std::move(block));
            }
            return;
        case '(': {
            Frame inner;
            if (f.state == Frame::State::Path) {
                inner.isCall = true;
                inner.call = builtinFor(f.expected(), join(f.parts));
            } else {
                inner.items = itemType(f.expected(), Type::Kind::Tuple);
            }
            enter(f, '(', std::move(inner));
            return;
        }
        case '[': {
            Frame inner;
            inner.items = itemType(f.expected(), Type::Kind::List);
            enter(f, '[', std::move(inner));
            return;
        }
        case '}':
        case ')':
        case ']': close(c == '}' ? '{' : c == ')' ? '(' : '['); return;
        case ',':
            if (f.isCall && f.key.empty() && f.state != Frame::State::Start) ++f.positional;
            if (f.open != 0) f.nextItem();
            return;
        default: return;  // `-` before a number
        }
    }

    // Opens a block, call, list or tuple; to the frame around it, it is one whole value.
    void enter(Frame& outer, char open, Frame inner) {
        outer.state = Frame::State::Done;
        inner.open = open;
        stack_.push_back(std::move(inner));  // after this, `outer` may dangle
    }

    // Closes the innermost frame opened by `open`; a stray closer closes nothing.
    void close(char open) {
        for (size_t i = stack_.size(); i-- > 1;) {
            if (stack_[i].open != open) continue;
            stack_.resize(i);
            if (open == '{' && stack_.size() == 1) stack_.back() = Frame{};  // the block statement is over
            return;
        }
    }

    static Context topLevel(const Frame& f, Context& c) {
        if (f.statement.empty() || (f.state == Frame::State::Done && f.statement != "evaluate")) {
            c.where = Context::Where::Statement;
            return c;
        }
        c.section = stdlib::registry().find(Family::Section, f.statement);
        if (isBlock(f.statement)) {
            c.where = Context::Where::Nothing;  // a block's new name
            return c;
        }
        if (f.statement == "import" || (f.statement == "let" && f.state != Frame::State::Value)) {
            c.where = Context::Where::Nothing;
            return c;
        }
        if (f.state == Frame::State::Path || f.state == Frame::State::Done) {
            if (f.statement == "evaluate" && f.step == 0) c.keywords = {"on"};
            if (f.statement == "evaluate" && f.step == 2) c.keywords = {"with", "tta"};
            if (f.statement == "evaluate" && f.step == 3 && f.state == Frame::State::Done) c.keywords = {"tta"};
            if (f.statement == "export" && f.step == 0) c.keywords = {"to"};
            c.where = c.keywords.empty() ? Context::Where::Statement : Context::Where::Keyword;
            return c;
        }
        c.where = Context::Where::Value;
        c.expected = f.expected();
        return c;
    }

    std::vector<Frame> stack_;
};

void collectFamilies(const Type& type, bool lists, std::vector<Family>& out) {
    switch (type.kind) {
    case Type::Kind::Call:
        if (std::find(out.begin(), out.end(), type.family) == out.end()) out.push_back(type.family);
        return;
    case Type::Kind::Union:
        for (const auto& t : type.items) collectFamilies(t, lists, out);
        return;
    case Type::Kind::List:
    case Type::Kind::Tuple:
        if (lists)
            for (const auto& t : type.items) collectFamilies(t, lists, out);
        return;
    default: return;
    }
}

}  // namespace

Context contextAt(const std::vector<Token>& tokens, uint32_t offset) {
    Scanner scanner;
    Context inside;  // the cursor inside a comment, string or number
    std::string prefix;
    uint32_t wordBegin = offset;
    for (const auto& t : tokens) {
        if (t.span.begin >= offset) break;
        if (t.span.end >= offset) {  // the token the cursor is in, or at the end of
            if (isName(t)) {
                prefix = std::string(t.text().substr(0, offset - t.span.begin));
                wordBegin = t.span.begin;
                break;
            }
            bool closedAtEnd = t.kind == Token::Kind::String && t.span.end == offset;
            if (t.kind == Token::Kind::Comment || t.kind == Token::Kind::OpenString || t.kind == Token::Kind::Number ||
                (t.kind == Token::Kind::String && !closedAtEnd))
                return inside;
        }
        scanner.token(t);
    }
    Context c = scanner.context();
    c.prefix = prefix;
    c.wordBegin = wordBegin;
    return c;
}

std::vector<Family> callFamilies(const Type& type, bool lists) {
    std::vector<Family> out;
    collectFamilies(type, lists, out);
    return out;
}

const Builtin* builtinFor(const std::optional<Type>& expected, std::string_view name) {
    if (expected)
        for (Family family : callFamilies(*expected, true))
            if (const Builtin* b = stdlib::registry().find(family, name)) return b;
    for (const Builtin* b : stdlib::registry().lookup(name))
        if (b->family != Family::Section) return b;
    return nullptr;
}

Type typeOf(const Param& p) {
    return Type::parse(p.type);
}

}  // namespace pipelang::lsp
