#include "interpreter/format.h"

#include <algorithm>
#include <string_view>
#include <vector>

namespace pipelang {

namespace {

constexpr size_t kMaxWidth = 100;  // columns a line may take before a container is broken
constexpr int kIndent = 4;

using ast::Expr;

std::string indentation(int level) {
    return std::string(size_t(level * kIndent), ' ');
}

// Columns a text takes: UTF-8 code points, so non-ASCII strings count right.
size_t width(std::string_view text) {
    return size_t(std::count_if(text.begin(), text.end(), [](char c) { return ((unsigned char)c & 0xC0) != 0x80; }));
}

std::string quote(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
        }
    }
    return out + "\"";
}

bool isContainer(const Expr& e) {
    return e.kind == Expr::Kind::Call || e.kind == Expr::Kind::List || e.kind == Expr::Kind::Tuple;
}

std::string opener(const Expr& e) {
    if (e.kind == Expr::Kind::Call) return e.path.text() + "(";
    return e.kind == Expr::Kind::List ? "[" : "(";
}

const char* closer(const Expr& e) {
    return e.kind == Expr::Kind::List ? "]" : ")";
}

// The comments of one item of a container: the parser puts those of a call
// argument on the argument, those of a list or tuple item on the item itself.
const ast::Comments& itemComments(const Expr& container, const ast::Argument& item) {
    return container.kind == Expr::Kind::Call ? item.comments : item.value->comments;
}

bool hasComments(const ast::Comments& c) {
    return !c.leading.empty() || !c.trailing.empty();
}

// A container holding a comment anywhere inside is always broken, so that
// every comment ends its line and nothing follows it.
bool holdsComments(const Expr& e) {
    if (!e.danglingComments.empty()) return true;
    return std::any_of(e.args.begin(), e.args.end(), [&](const ast::Argument& a) {
        return hasComments(itemComments(e, a)) || holdsComments(*a.value);
    });
}

// The one-line form of an expression, comments aside.
std::string flat(const Expr& e) {
    switch (e.kind) {
    case Expr::Kind::Number: return e.text;
    case Expr::Kind::String: return quote(e.text);
    case Expr::Kind::Bool: return e.boolean ? "true" : "false";
    case Expr::Kind::Ref: return e.path.text();
    case Expr::Kind::Call:
    case Expr::Kind::List:
    case Expr::Kind::Tuple: break;
    }
    std::string out = opener(e);
    for (size_t i = 0; i < e.args.size(); ++i) {
        if (i) out += ", ";
        if (e.args[i].name) out += e.args[i].name->text + " = ";
        out += flat(*e.args[i].value);
    }
    return out + closer(e);
}

// Whether the source has an empty line between the line holding `offset` and
// the next comment. The AST records blank lines before statements, fields and
// between comments, but not before the comments that close a block or file.
bool blankLineAfter(const SourceFile* file, uint32_t offset) {
    if (!file) return false;
    const std::string& text = file->text;
    size_t i = text.find('\n', offset);
    if (i == std::string::npos) return false;
    for (++i; i < text.size(); ++i) {
        if (text[i] == '\n') return true;
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\f') return false;
    }
    return false;
}

bool isBlock(const ast::Statement& s) {
    return s.kind == ast::Statement::Kind::Block;
}

// The width each field's key is padded to, so that `=` signs line up: the
// longest key of its run of fields. A blank line or a comment line ends a run.
std::vector<size_t> keyWidths(const std::vector<ast::Field>& fields) {
    std::vector<size_t> widths(fields.size());
    size_t start = 0;
    for (size_t i = 1; i <= fields.size(); ++i) {
        bool runEnds = i == fields.size() || fields[i].comments.blankLineBefore || !fields[i].comments.leading.empty();
        if (!runEnds) continue;
        size_t longest = 0;
        for (size_t j = start; j < i; ++j) longest = std::max(longest, width(fields[j].key.text()));
        std::fill(widths.begin() + long(start), widths.begin() + long(i), longest);
        start = i;
    }
    return widths;
}

class Printer {
public:
    explicit Printer(const SourceFile* file) : file_(file) {}

    std::string module(const ast::Module& m) {
        const auto& statements = m.statements;
        for (size_t i = 0; i < statements.size(); ++i) {
            const auto& s = statements[i];
            if (i > 0 && (s.comments.blankLineBefore || isBlock(s) || isBlock(statements[i - 1]))) blankLine();
            statement(s);
        }
        if (!m.danglingComments.empty() && !statements.empty() &&
            (isBlock(statements.back()) || blankLineAfter(file_, statements.back().span.end)))
            blankLine();
        comments(m.danglingComments, 0);
        return out_;
    }

private:
    void statement(const ast::Statement& s) {
        using Kind = ast::Statement::Kind;
        comments(s.comments.leading, 0);
        switch (s.kind) {
        case Kind::Seed: out_ += "seed "; break;
        case Kind::Import: out_ += "import " + quote(s.importPath); break;
        case Kind::Let: out_ += "let " + s.name->text + " = "; break;
        case Kind::Block: block(s); break;
        case Kind::Evaluate:
            out_ += "evaluate " + s.subject.text() + " on " + s.target.text();
            if (s.value) out_ += " with ";
            break;
        case Kind::Export: out_ += "export " + s.subject.text() + " to "; break;
        }
        if (s.value) expr(*s.value, 0, 0);
        if (s.kind == Kind::Evaluate && s.tta) {
            out_ += " tta ";
            expr(*s.tta, 0, 0);
        }
        endLine(s.comments);
    }

    void block(const ast::Statement& s) {
        out_ += ast::blockKindName(s.blockKind);
        if (s.name) out_ += " " + s.name->text;
        if (s.fields.empty() && s.danglingComments.empty()) {
            out_ += " {}";
            return;
        }
        out_ += " {\n";
        std::vector<size_t> widths = keyWidths(s.fields);
        for (size_t i = 0; i < s.fields.size(); ++i) {
            const ast::Field& f = s.fields[i];
            if (i > 0 && f.comments.blankLineBefore) blankLine();
            comments(f.comments.leading, 1);
            std::string key = f.key.text();
            out_ += indentation(1) + key + std::string(widths[i] - width(key), ' ') + " = ";
            expr(*f.value, 1, 0);
            endLine(f.comments);
        }
        if (!s.danglingComments.empty() && !s.fields.empty() && blankLineAfter(file_, s.fields.back().span.end))
            blankLine();
        comments(s.danglingComments, 1);
        out_ += "}";
    }

    // Writes an expression that starts at the current column on a line
    // indented `level` deep. `suffix` columns follow it on its last line (an
    // item's comma). A container that does not fit, or holds a comment, is
    // broken: one item per line, one level deeper.
    void expr(const Expr& e, int level, size_t suffix) {
        std::string one = flat(e);
        bool fits = column() + width(one) + suffix <= kMaxWidth;
        if (!isContainer(e) || (fits && !holdsComments(e))) {
            out_ += one;
            return;
        }
        out_ += opener(e) + "\n";
        for (const ast::Argument& a : e.args) {
            const ast::Comments& c = itemComments(e, a);
            comments(c.leading, level + 1);
            out_ += indentation(level + 1);
            if (a.name) out_ += a.name->text + " = ";
            expr(*a.value, level + 1, 1);
            out_ += ",";
            endLine(c);
        }
        comments(e.danglingComments, level + 1);
        out_ += indentation(level) + closer(e);
    }

    // Ends a node's last line with its trailing comment.
    void endLine(const ast::Comments& c) {
        if (!c.trailing.empty()) out_ += "  " + c.trailing;
        out_ += "\n";
    }

    // Whole-line comments; an empty entry is a blank line between them.
    void comments(const std::vector<std::string>& lines, int level) {
        for (const std::string& line : lines) {
            if (line.empty())
                blankLine();
            else
                out_ += indentation(level) + line + "\n";
        }
    }

    // At most one blank line in a row, and none at the start of the file.
    void blankLine() {
        if (!out_.empty() && !out_.ends_with("\n\n")) out_ += "\n";
    }

    size_t column() const {
        size_t start = out_.rfind('\n');
        return width(std::string_view(out_).substr(start == std::string::npos ? 0 : start + 1));
    }

    const SourceFile* file_;
    std::string out_;
};

}  // namespace

std::string format(const ast::Module& module) {
    return Printer(module.file).module(module);
}

}  // namespace pipelang
