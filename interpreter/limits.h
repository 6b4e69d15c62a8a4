// The front end's limits on what it reads. Each guards against an input that
// would otherwise exhaust the stack (nesting), memory or patience (size), and
// each sits far above anything a person writes. Exceeding one is one error
// naming the file, the place and the limit; docs/limits.md lists them.
#pragma once

#include <cstddef>

#include "interpreter/diagnostic.h"

namespace pipelang::limits {

// A .pipe file's size. Spans are 32-bit offsets, and checking is linear, so
// this bounds the time `pipe check` can take on one file.
inline constexpr size_t kMaxFileBytes = size_t(8) << 20;

// One line's length. Diagnostics print the line they point into.
inline constexpr size_t kMaxLineBytes = size_t(64) << 10;

// Brackets inside brackets (`[`, `(` and `{`), and a value's depth once the
// `let`s it names are put in place. The parser, the checker, the formatter and
// the plan each recurse once per level.
inline constexpr int kMaxNesting = 100;

// Statements (blocks, `let`s, `evaluate`s, ...) in one file.
inline constexpr size_t kMaxStatements = 50000;

// Files importing files importing files: loading recurses once per import.
inline constexpr int kMaxImportDepth = 100;

// Reports the first of the size and line-length limits `file` exceeds, if
// any; false when it does, and the file should not be parsed.
bool checkText(const SourceFile& file, Diagnostics& diags);

// The error for a value nested deeper than kMaxNesting, at `where`.
Diagnostic& tooDeep(Diagnostics& diags, Span where);

}  // namespace pipelang::limits
