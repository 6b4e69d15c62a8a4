// The syntax tree of one .pipe file: what the user wrote, with source spans
// and comments, and nothing resolved. Built from ANTLR's parse tree in exactly
// one place (parse.cpp); no ANTLR type appears here.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "interpreter/source.h"

namespace pipelang::ast {

// Comments ride on the node they belong to, so the formatter can keep them.
struct Comments {
    std::vector<std::string> leading;  // whole-line comments before the node
    std::string trailing;              // a comment after the node on its last line
    bool blankLineBefore = false;      // the user left an empty line before it
};

struct Name {
    std::string text;
    Span span;
};

// A dotted name: `fit.optimizer.lr`, `pre.backbone`, `accuracy`.
struct Path {
    std::vector<Name> parts;
    Span span;
    std::string text() const;  // "a.b.c"
};

struct Expr;

struct Argument {
    std::optional<Name> name;  // absent for a positional argument
    std::unique_ptr<Expr> value;
    Span span;
    Comments comments;
};

struct Expr {
    enum class Kind { Number, String, Bool, Ref, Call, List, Tuple };
    Kind kind = Kind::Number;
    Span span;

    double number = 0;                          // Number
    bool isInteger = false;                     // Number written without '.' or exponent
    std::string text;                           // Number: as written; String: the decoded value
    bool boolean = false;                       // Bool
    Path path;                                  // Ref, Call (the callee)
    std::vector<Argument> args;                 // Call arguments; List/Tuple items (never named)
    std::vector<std::string> danglingComments;  // comments before the closing bracket
    Comments comments;                          // when this expression is an item of a list or tuple
};

struct Field {
    Path key;
    std::unique_ptr<Expr> value;
    Span span;
    Comments comments;
};

enum class BlockKind { Tokenizer, Data, Model, Train, Sweep };
const char* blockKindName(BlockKind kind);

struct Statement {
    enum class Kind { Seed, Import, Let, Block, Evaluate, Export };
    Kind kind = Kind::Seed;
    Span span;
    Span keyword;  // the leading keyword, for messages about the statement as a whole
    Comments comments;

    std::unique_ptr<Expr> value;  // Seed, Let (value), Export (destination), Evaluate (`with`, optional)
    std::string importPath;       // Import (decoded)
    Span importSpan;
    std::optional<Name> name;  // Let name, Block name (optional)
    BlockKind blockKind = BlockKind::Data;
    std::vector<Field> fields;                  // Block
    std::vector<std::string> danglingComments;  // Block: comments before `}`
    Path subject;                               // Evaluate, Export: the train stage
    Path target;                                // Evaluate: `data.split`
    std::unique_ptr<Expr> tta;                  // Evaluate: `tta N`, optional
};

struct Module {
    const SourceFile* file = nullptr;
    std::vector<Statement> statements;
    std::vector<std::string> danglingComments;  // comments after the last statement
};

// A stable text form without spans or comments, for tests: two modules with the
// same dump mean the same thing.
std::string dump(const Module& module);
std::string dump(const Expr& expr);

}  // namespace pipelang::ast
