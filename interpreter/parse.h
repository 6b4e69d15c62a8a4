// Text → AST. The only place that sees ANTLR: it runs the generated parser,
// turns syntax errors into the project's diagnostics, recovers to find more
// of them, and attaches comments to the nodes they belong to.
#pragma once

#include <memory>
#include <vector>

#include "interpreter/ast.h"
#include "interpreter/diagnostic.h"

namespace pipelang {

// Parses a whole file. The module holds everything that could be built, even
// when there were syntax errors (they are in `diags`).
ast::Module parse(const SourceFile& file, Diagnostics& diags);

// Parses one expression filling the file's text from byte `begin` on (a
// `--set` value after its `key=`, a registry default). Returns null with
// diagnostics when it is not one.
std::unique_ptr<ast::Expr> parseExpression(const SourceFile& file, Diagnostics& diags, uint32_t begin = 0);

// One token as the grammar's lexer sees it, for editors (the language server
// reads the text around the cursor with these, whatever state the file is in).
struct Token {
    enum class Kind { Name, Keyword, Number, String, OpenString, Bool, Punct, Comment, Stray };
    Kind kind = Kind::Stray;
    Span span;
    std::string_view text() const { return span.text(); }
};

// Every token of the file but white space, in order; empty for a file that is
// not valid UTF-8.
std::vector<Token> tokenize(const SourceFile& file);

}  // namespace pipelang
