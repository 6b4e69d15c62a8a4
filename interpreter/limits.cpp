#include "interpreter/limits.h"

#include <string>

namespace pipelang::limits {

namespace {

std::string kib(size_t bytes) {
    return std::to_string(bytes >> 10) + " KiB";
}

std::string mib(size_t bytes) {
    return std::to_string(bytes >> 20) + " MiB";
}

}  // namespace

bool checkText(const SourceFile& file, Diagnostics& diags) {
    if (file.text.size() > kMaxFileBytes) {
        // Pointing at the first byte past the limit names the line too.
        uint32_t at = uint32_t(kMaxFileBytes);
        auto& d = diags.error("too-large", Span{&file, at, at + 1},
                              "the file is larger than " + mib(kMaxFileBytes) + ", the most pipe reads");
        d.hints.push_back("split it into files that `import` one another (docs/limits.md lists pipe's limits)");
        return false;
    }
    for (size_t line = 0; line < file.lineStarts.size(); ++line) {
        size_t begin = file.lineStarts[line];
        size_t end = line + 1 < file.lineStarts.size() ? file.lineStarts[line + 1] - 1 : file.text.size();
        if (end - begin <= kMaxLineBytes) continue;
        uint32_t at = uint32_t(begin + kMaxLineBytes);
        auto& d = diags.error("line-too-long", Span{&file, at, at + 1},
                              "this line is longer than " + kib(kMaxLineBytes) + ", the most pipe reads");
        d.hints.push_back(
            "break it: a line may end between any two words or brackets (docs/limits.md lists pipe's limits)");
        return false;
    }
    return true;
}

Diagnostic& tooDeep(Diagnostics& diags, Span where) {
    auto& d = diags.error("too-deep", where,
                          "this value is nested more than " + std::to_string(kMaxNesting) + " levels deep");
    d.hints.push_back(
        "each bracket and each `let` the value goes through is a level; write it flatter "
        "(docs/limits.md lists pipe's limits)");
    return d;
}

}  // namespace pipelang::limits
