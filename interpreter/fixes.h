// The checker's fix-its made into new file texts: `pipe check --fix` writes
// them, the language server offers them as quick fixes. Only edits inside
// .pipe files are applied (never in `--set` text), each once, and of two
// that overlap only the first; a file in `pipe fmt`'s layout stays in it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "interpreter/compile.h"

namespace pipelang {

struct AppliedFix {
    std::string file;  // as the compilation names it
    int line = 0, column = 0;
    std::string before, after;
};

struct FixedFiles {
    std::map<std::string, std::string> texts;  // file → its text with the fixes made
    std::vector<AppliedFix> applied;           // in file order, then position
};

// The fixes of every diagnostic in `c` that lie in one of its modules' files.
FixedFiles applyFixes(const Compilation& c);

}  // namespace pipelang
