#include "interpreter/diagnostic.h"

#include <algorithm>
#include <map>

namespace pipelang {

Diagnostic& Diagnostics::error(std::string code, Span span, std::string message) {
    items_.push_back(Diagnostic{Severity::Error, std::move(code), std::move(message), span, {}, {}, {}});
    return items_.back();
}

Diagnostic& Diagnostics::warning(std::string code, Span span, std::string message) {
    items_.push_back(Diagnostic{Severity::Warning, std::move(code), std::move(message), span, {}, {}, {}});
    return items_.back();
}

bool Diagnostics::hasErrors() const {
    return errorCount() > 0;
}

size_t Diagnostics::errorCount() const {
    return size_t(
        std::count_if(items_.begin(), items_.end(), [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

size_t Diagnostics::warningCount() const {
    return size_t(std::count_if(items_.begin(), items_.end(),
                                [](const Diagnostic& d) { return d.severity == Severity::Warning; }));
}

void Diagnostics::sort() {
    // Files keep the order in which they were loaded; diagnostics without a
    // place (whole-run problems) come last.
    // A file ranks by its first diagnostic, so the order is a strict weak
    // ordering (comparing positions only within a file is not one).
    std::map<const SourceFile*, size_t> rank;
    for (const auto& d : items_)
        if (d.span.valid()) rank.emplace(d.span.file, rank.size());
    std::stable_sort(items_.begin(), items_.end(), [&](const Diagnostic& a, const Diagnostic& b) {
        if (a.span.valid() != b.span.valid()) return a.span.valid();
        if (!a.span.valid()) return false;
        if (a.span.file != b.span.file) return rank.at(a.span.file) < rank.at(b.span.file);
        return a.span.begin < b.span.begin;
    });
}

namespace {

const char* severityWord(Severity s) {
    switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
    }
    return "error";
}

const char* severityColor(Severity s) {
    switch (s) {
    case Severity::Error: return "\033[1;31m";
    case Severity::Warning: return "\033[1;35m";
    case Severity::Note: return "\033[1;36m";
    }
    return "";
}

// The length of a UTF-8 sequence that starts with byte `c` and is complete
// in `text` from `i`, or 0 when the bytes there are not valid UTF-8.
size_t sequenceLength(std::string_view text, size_t i) {
    unsigned char c = (unsigned char)text[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > text.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if (((unsigned char)text[i + k] & 0xC0) != 0x80) return 0;
    return n;
}

// Screen columns of a byte range of the line: one per character, so a caret
// stays under its text after an `é`.
size_t columns(std::string_view text, size_t from, size_t to) {
    size_t count = 0;
    for (size_t i = from; i < to && i < text.size();) {
        size_t n = sequenceLength(text, i);
        i += n ? n : 1;
        ++count;
    }
    return count;
}

// How much of a long line an excerpt shows, in bytes: enough to read the
// place, and a line of thousands of characters is not printed whole.
constexpr size_t kExcerptBytes = 160;
constexpr size_t kExcerptBefore = 60;

// The source line with a caret under the span (`^~~~`), clipped to the line.
void renderExcerpt(std::string& out, const Span& span, const RenderOptions& o) {
    if (!span.valid()) return;
    auto [line, column] = span.file->position(span.begin);
    std::string_view text = span.file->line(line);
    const std::string_view ellipsis = "...";
    std::string_view prefix, suffix;
    if (text.size() > kExcerptBytes) {
        size_t from = size_t(column - 1) > kExcerptBefore ? size_t(column - 1) - kExcerptBefore : 0;
        while (from > 0 && ((unsigned char)text[from] & 0xC0) == 0x80) --from;
        size_t to = std::min(text.size(), from + kExcerptBytes);
        while (to < text.size() && to > from && ((unsigned char)text[to] & 0xC0) == 0x80) --to;
        if (from > 0) prefix = ellipsis;
        if (to < text.size()) suffix = ellipsis;
        text = text.substr(from, to - from);
        column -= int(from);
    }
    out += "    ";
    out += prefix;
    for (size_t i = 0; i < text.size();) {
        size_t n = sequenceLength(text, i);
        if (n == 0) {
            out += '?';  // a byte that is not UTF-8 (the encoding error itself)
            ++i;
            continue;
        }
        if (text[i] == '\t')
            out += ' ';
        else
            out.append(text.substr(i, n));
        i += n;
    }
    out += suffix;
    out += "\n    ";
    size_t start = size_t(column - 1);
    out.append(prefix.size() + columns(text, 0, start), ' ');
    size_t width = 1;
    if (span.end > span.begin) {
        // Offsets within the shown text, which starts where `text` now does.
        size_t shownStart = size_t(text.data() - span.file->text.data());
        size_t end = std::min<size_t>(span.end, shownStart + text.size()) - shownStart;
        width = std::max<size_t>(1, columns(text, start, end));
    }
    if (o.color) out += "\033[1;32m";
    out += '^';
    out.append(width - 1, '~');
    if (o.color) out += "\033[0m";
    out += '\n';
}

void renderHeader(std::string& out, const Span& span, Severity severity, const std::string& message,
                  const RenderOptions& o) {
    if (o.color) out += "\033[1m";
    if (span.valid()) {
        auto [line, column] = span.file->position(span.begin);
        out += span.file->name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
    } else {
        out += "pipe: ";
    }
    if (o.color) out += severityColor(severity);
    out += severityWord(severity);
    out += ": ";
    if (o.color) out += "\033[0m\033[1m";
    out += message;
    if (o.color) out += "\033[0m";
    out += '\n';
}

}  // namespace

std::string render(const Diagnostic& d, const RenderOptions& o) {
    std::string out;
    renderHeader(out, d.span, d.severity, d.message, o);
    renderExcerpt(out, d.span, o);
    for (const auto& hint : d.hints) out += "    hint: " + hint + "\n";
    for (const auto& [span, message] : d.notes) {
        renderHeader(out, span, Severity::Note, message, o);
        renderExcerpt(out, span, o);
    }
    return out;
}

std::string render(const Diagnostics& ds, const RenderOptions& o) {
    std::string out;
    for (const auto& d : ds.items()) out += render(d, o);
    return out;
}

namespace {

size_t editDistance(const std::string& a, const std::string& b) {
    // Optimal string alignment: a swap of neighbours counts as one edit,
    // the commonest typo (`adamw` / `amadw`).
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

}  // namespace

Diagnostic& Diagnostic::didYouMean(const std::string& shown, Span where, const std::string& replacement) {
    hints.push_back("did you mean " + shown + "?");
    if (where.valid()) fixes.push_back({where, replacement});
    return *this;
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    size_t bestDistance = std::max<size_t>(1, std::min<size_t>(3, word.size() / 3 + 1)) + 1;
    for (const auto& c : candidates) {
        if (c == word) continue;
        size_t distance = editDistance(word, c);
        // On a tie, a word of the same length wins: a mistyped letter is
        // likelier than a missing or extra one (`adamx` is `adamw`, not `adam`).
        auto lengthGap = [&](const std::string& s) {
            return s.size() > word.size() ? s.size() - word.size() : word.size() - s.size();
        };
        if (distance < bestDistance || (distance == bestDistance && !best.empty() && lengthGap(c) < lengthGap(best))) {
            bestDistance = distance;
            best = c;
        }
    }
    return best;
}

}  // namespace pipelang
