// One diagnostic value type for every pass (parser, checker, overrides), and
// one list that collects them. Passes return diagnostics; they never print or
// exit. Renderers (terminal, LSP) turn the same data into text.
#pragma once

#include <string>
#include <vector>

#include "interpreter/source.h"

namespace pipelang {

enum class Severity { Error, Warning, Note };

struct FixIt {
    Span span;         // the text to replace (empty span: an insertion)
    std::string text;  // what to put there
};

struct Diagnostic {
    Severity severity = Severity::Error;
    std::string code;                                 // stable id, e.g. "unknown-builtin"
    std::string message;                              // one sentence, what is wrong
    Span span;                                        // where; may be invalid for whole-file problems
    std::vector<std::string> hints;                   // what to do, each printed as `hint: ...`
    std::vector<std::pair<Span, std::string>> notes;  // related places
    std::vector<FixIt> fixes;                         // edits that make the file mean what it surely meant

    // The hint "did you mean SHOWN?" and its fix: `replacement` for the text at `span`.
    Diagnostic& didYouMean(const std::string& shown, Span span, const std::string& replacement);
};

class Diagnostics {
public:
    Diagnostic& error(std::string code, Span span, std::string message);
    Diagnostic& warning(std::string code, Span span, std::string message);
    void add(Diagnostic d) { items_.push_back(std::move(d)); }
    Diagnostic& last() { return items_.back(); }

    bool hasErrors() const;
    size_t errorCount() const;
    size_t warningCount() const;
    bool empty() const { return items_.empty(); }
    const std::vector<Diagnostic>& items() const { return items_; }
    // Orders by file then position, keeping the order of equal positions.
    void sort();

private:
    std::vector<Diagnostic> items_;
};

struct RenderOptions {
    bool color = false;
};

// `file:line:col: error: message`, the source line, a caret under the span,
// then hints and notes — the layout of DESIGN.md §2 and of Clang.
std::string render(const Diagnostic& d, const RenderOptions& options = {});
std::string render(const Diagnostics& ds, const RenderOptions& options = {});

// "did you mean": the candidate closest to `word` by edit distance, or "" when
// none is close enough to be a plausible typo.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace pipelang
