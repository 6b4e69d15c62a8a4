// What the cursor is at, read from the tokens before it. Completion and hover
// need this in half-typed text that does not parse, so it is not read from the
// AST: a small state machine over the lexer's tokens follows blocks, calls,
// lists and the top-level statements, and tracks the registry type that a
// value at each point must have.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "interpreter/parse.h"
#include "stdlib/registry.h"

namespace pipelang::lsp {

struct Context {
    enum class Where {
        Nothing,    // in a comment, a string or a number; after a block keyword
        Statement,  // where a statement starts
        Field,      // where a field name goes in a block
        Value,      // where a value goes (in a call, also a parameter name: see `argumentStart`)
        Member,     // after `name.`: the next part of a dotted name
        Keyword,    // where `on`, `with` or `to` of evaluate/export goes (see `keywords`)
    };
    Where where = Where::Nothing;
    const stdlib::Builtin* section = nullptr;  // the enclosing block, or evaluate/export
    std::string sectionName;                   // its name as written, or its kind when unnamed
    const stdlib::Builtin* call = nullptr;     // the call whose arguments the cursor is among
    const stdlib::Param* param = nullptr;      // the field or parameter the value is for
    std::optional<stdlib::Type> expected;      // the type the value here must have, when known
    bool argumentStart = false;                // a parameter name may go here: `f(|`, `f(a, |`
    bool keyPosition = false;                  // Member: the dotted name is a field key (sweep)
    std::vector<std::string> written;          // fields or named arguments already written here
    std::vector<std::string> path;             // Member: the names before the dot
    std::vector<std::string> keywords;         // Keyword: what may come next
    std::string prefix;                        // the word under the cursor, up to the cursor
    uint32_t wordBegin = 0;                    // where that word starts (the cursor when none)
};

// The context at byte `offset`, from the file's tokens (parse.h `tokenize`).
Context contextAt(const std::vector<Token>& tokens, uint32_t offset);

// The built-in named `name` among those `expected` allows; without an expected
// type (or when it allows none of that name), the first entry of that name in
// a value family. Null when there is none.
const stdlib::Builtin* builtinFor(const std::optional<stdlib::Type>& expected, std::string_view name);

// The families of the calls a type accepts (`loss`, `list<metric>` → metric when `lists`).
std::vector<stdlib::Family> callFamilies(const stdlib::Type& type, bool lists = false);

// The parameter's type, parsed.
stdlib::Type typeOf(const stdlib::Param& p);

}  // namespace pipelang::lsp
