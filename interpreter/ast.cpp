#include "interpreter/ast.h"

#include <cstdio>

namespace pipelang::ast {

std::string Path::text() const {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i) out += '.';
        out += parts[i].text;
    }
    return out;
}

const char* blockKindName(BlockKind kind) {
    switch (kind) {
    case BlockKind::Tokenizer: return "tokenizer";
    case BlockKind::Data: return "data";
    case BlockKind::Model: return "model";
    case BlockKind::Train: return "train";
    case BlockKind::Sweep: return "sweep";
    }
    return "data";
}

namespace {

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

}  // namespace

std::string dump(const Expr& e) {
    switch (e.kind) {
    case Expr::Kind::Number: {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, e.isInteger ? "int:%.17g" : "float:%.17g", e.number);
        return buffer;
    }
    case Expr::Kind::String: return quote(e.text);
    case Expr::Kind::Bool: return e.boolean ? "true" : "false";
    case Expr::Kind::Ref: return "ref:" + e.path.text();
    case Expr::Kind::Call:
    case Expr::Kind::List:
    case Expr::Kind::Tuple: {
        std::string out = e.kind == Expr::Kind::Call   ? "call:" + e.path.text() + "("
                          : e.kind == Expr::Kind::List ? "["
                                                       : "(";
        for (size_t i = 0; i < e.args.size(); ++i) {
            if (i) out += ", ";
            if (e.args[i].name) out += e.args[i].name->text + "=";
            out += dump(*e.args[i].value);
        }
        return out + (e.kind == Expr::Kind::List ? "]" : ")");
    }
    }
    return "?";
}

std::string dump(const Module& m) {
    std::string out;
    for (const auto& s : m.statements) {
        switch (s.kind) {
        case Statement::Kind::Seed: out += "seed " + dump(*s.value); break;
        case Statement::Kind::Import: out += "import " + quote(s.importPath); break;
        case Statement::Kind::Let: out += "let " + s.name->text + " = " + dump(*s.value); break;
        case Statement::Kind::Block:
            out += std::string(blockKindName(s.blockKind)) + (s.name ? " " + s.name->text : "") + " {\n";
            for (const auto& f : s.fields) out += "  " + f.key.text() + " = " + dump(*f.value) + "\n";
            out += "}";
            break;
        case Statement::Kind::Evaluate:
            out += "evaluate " + s.subject.text() + " on " + s.target.text();
            if (s.value) out += " with " + dump(*s.value);
            if (s.tta) out += " tta " + dump(*s.tta);
            break;
        case Statement::Kind::Export: out += "export " + s.subject.text() + " to " + dump(*s.value); break;
        }
        out += "\n";
    }
    return out;
}

}  // namespace pipelang::ast
