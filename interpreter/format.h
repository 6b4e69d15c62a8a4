// `pipe fmt`: one canonical layout for a .pipe file, with every comment kept.
// The layout is a pure function of the AST (plus, where the AST is silent,
// whether the source had a blank line before closing comments), so formatting
// is idempotent and never changes what the file means.
#pragma once

#include <string>

#include "interpreter/ast.h"

namespace pipelang {

// The canonical text of a module that parsed without errors (callers refuse
// to format files with syntax errors). Ends with one newline; empty for a
// file with neither statements nor comments.
std::string format(const ast::Module& module);

}  // namespace pipelang
