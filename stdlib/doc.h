// `pipe doc`: the reference of every built-in, written from the registry
// alone, as plain text for the terminal and as Markdown for docs/reference.md.
// Nothing here lists built-ins: a new registry entry documents itself.
#pragma once

#include <string>
#include <vector>

#include "stdlib/registry.h"

namespace pipelang::stdlib {

// `adamw(lr: float|range = 1e-3, ...)` — a top-level block as `data { source: source, ... }`.
// One parameter per line when the one-line form would be too long.
std::string signature(const Builtin& b);
// One parameter as the signature shows it: `lr: float|range = 1e-3`.
std::string signature(const Param& p);

// Built-ins as plain text: signature, doc line, parameters, contracts.
std::string renderText(const std::vector<const Builtin*>& entries);
// Every built-in as plain text, family by family.
std::string renderTextReference();

// Built-ins as Markdown sections (`pipe doc NAME --markdown`).
std::string renderMarkdown(const std::vector<const Builtin*>& entries);
// The whole reference as Markdown, exactly as docs/reference.md holds it.
std::string renderReference();

// The name of every built-in but the top-level blocks, sorted, each once, one a
// line (`pipe doc --names`): the list editor/vscode's grammar highlights.
std::string renderNames();

}  // namespace pipelang::stdlib
