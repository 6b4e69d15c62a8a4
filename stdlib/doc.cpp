#include "stdlib/doc.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace pipelang::stdlib {

namespace {

// Longer one-line signatures are broken into one parameter per line.
constexpr size_t kSignatureWidth = 88;

// How a piece of code is shown: as is in the terminal, in backticks in Markdown.
using Code = std::string (*)(const std::string&);
std::string plain(const std::string& s) {
    return s;
}
std::string backticks(const std::string& s) {
    return s.empty() ? s : "`" + s + "`";
}

std::string join(const std::vector<std::string>& items, const std::string& separator, Code code = plain) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + code(items[i]);
    return out;
}

// Bounds are stored as doubles; most are integers and read better without `.0`.
std::string number(double x) {
    char buffer[32];
    if (x == std::floor(x) && std::fabs(x) < 1e15)
        std::snprintf(buffer, sizeof buffer, "%.0f", x);
    else
        std::snprintf(buffer, sizeof buffer, "%g", x);
    return buffer;
}

// The allowed values of a parameter: its choices and its bounds.
std::string allowed(const Param& p, Code code) {
    std::vector<std::string> parts;
    if (!p.choices.empty()) {
        bool quoted = Type::parse(p.type).kind == Type::Kind::String;
        std::vector<std::string> shown;
        for (const auto& c : p.choices) shown.push_back(code(quoted ? "\"" + c + "\"" : c));
        parts.push_back("one of " + join(shown, ", "));
    }
    if (p.min && p.max)
        parts.push_back(number(*p.min) + " to " + number(*p.max));
    else if (p.min)
        parts.push_back(">= " + number(*p.min));
    else if (p.max)
        parts.push_back("<= " + number(*p.max));
    return join(parts, "; ");
}

struct Row {
    std::string name, type, defaultValue, allowed, doc;
};

Row row(const Param& p, Code code) {
    return {code(p.name), code(p.type), p.required() ? "required" : code(p.defaultValue), allowed(p, code), p.doc};
}

// What a built-in works on and gives, from its registry contracts.
std::vector<std::pair<std::string, std::vector<std::string>>> contracts(const Builtin& b) {
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    if (!b.accepts.empty()) out.push_back({"accepts", b.accepts});
    if (!b.defaultFor.empty()) out.push_back({"default for", b.defaultFor});
    if (!b.produces.empty()) out.push_back({"produces", {b.produces}});
    std::vector<std::string> roles;
    if (b.canBeInput) roles.push_back("input");
    if (b.canBeTarget) roles.push_back("target");
    if (!roles.empty()) out.push_back({"used as", roles});
    return out;
}

// A block has fields; a call has parameters.
std::string paramWord(const Builtin& b) {
    return b.family == Family::Section ? "field" : "parameter";
}

std::string indentLines(const std::string& text, const std::string& indent) {
    std::string out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        out += (end > start ? indent : "") + text.substr(start, end - start) + "\n";
        start = end + 1;
    }
    return out;
}

// ---- plain text ------------------------------------------------------------

// Columns padded to their widest cell, two spaces apart; the last is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
    std::vector<size_t> widths;
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size(); ++i) {
            if (widths.size() <= i) widths.push_back(0);
            widths[i] = std::max(widths[i], r[i].size());
        }
    std::string out;
    for (const auto& r : rows) {
        std::string line = indent;
        for (size_t i = 0; i < r.size(); ++i)
            line += i + 1 < r.size() ? r[i] + std::string(widths[i] - r[i].size() + 2, ' ') : r[i];
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

std::string textEntry(const Builtin& b) {
    std::string out = b.name + " (" + familyName(b.family) + ")\n";
    out += indentLines(signature(b), "    ") + "\n    " + b.doc + "\n";
    if (!b.params.empty()) {
        std::vector<std::vector<std::string>> rows = {{paramWord(b), "type", "default", "allowed", "description"}};
        for (const auto& p : b.params) {
            Row r = row(p, plain);
            rows.push_back({r.name, r.type, r.defaultValue, r.allowed, r.doc});
        }
        out += "\n" + table(rows, "    ");
    }
    auto cs = contracts(b);
    if (!cs.empty()) out += "\n";
    for (const auto& [label, values] : cs) out += "    " + label + ": " + join(values, ", ") + "\n";
    if (!b.groupsDoc.empty())
        out += "    layer groups for slice(lo, hi), from the input, the head last: " + b.groupsDoc + "\n";
    return out;
}

// ---- Markdown --------------------------------------------------------------

// A table cell: a `|` would end the cell, even inside backticks (GFM).
std::string cell(const std::string& s) {
    std::string out;
    for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
}

// The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as `-`.
std::string anchor(const std::string& heading) {
    std::string out;
    for (unsigned char c : heading) {
        if (std::isalnum(c) || c == '-' || c == '_')
            out += static_cast<char>(std::tolower(c));
        else if (c == ' ')
            out += '-';
    }
    return out;
}

std::string markdownEntry(const Builtin& b) {
    std::string out = "### `" + b.name + "`\n\n```\n" + signature(b) + "\n```\n\n" + b.doc + "\n";
    if (!b.params.empty()) {
        out += "\n| " + paramWord(b) + " | type | default | allowed | description |\n| --- | --- | --- | --- | --- |\n";
        for (const auto& p : b.params) {
            Row r = row(p, backticks);
            out += "| " + cell(r.name) + " | " + cell(r.type) + " | " + cell(r.defaultValue) + " | " + cell(r.allowed) +
                   " | " + cell(r.doc) + " |\n";
        }
    }
    std::vector<std::string> lines;
    for (const auto& [label, values] : contracts(b)) {
        std::string title = label;
        title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
        lines.push_back("**" + title + ":** " + join(values, ", ", backticks));
    }
    if (!lines.empty()) out += "\n" + join(lines, " · ") + "\n";
    if (!b.groupsDoc.empty())
        out += "\n**Layer groups** for `slice(lo, hi)`, from the input (the head is the last): " + b.groupsDoc + "\n";
    return out;
}

const char* kMarkdownHeader =
    "# Built-in reference\n\n"
    "> Generated by `pipe doc --markdown` from the registry in `stdlib/`; do not edit it by hand.\n"
    "> After changing a built-in, regenerate it with `scripts/update-docs` (a unit test fails while it is stale).\n\n"
    "Every built-in of `pipe`, family by family, with its signature, its parameters and what it works on.\n"
    "A default of `none` means the parameter is optional and unset unless written; `auto` means `pipe`\n"
    "chooses it from the data (`pipe plan` shows the choice); *required* parameters must be written.\n"
    "A built-in without parameters may be written as a bare name: `category`, `accuracy`.\n";

}  // namespace

std::string signature(const Param& p) {
    return p.name + ": " + p.type + (p.required() ? "" : " = " + p.defaultValue);
}

std::string signature(const Builtin& b) {
    std::vector<std::string> params;
    for (const auto& p : b.params) params.push_back(signature(p));
    // A top-level block is written with braces and one field per line.
    if (b.family == Family::Section) return b.name + " {\n" + indentLines(join(params, "\n"), "    ") + "}";
    if (params.empty()) return b.name;
    std::string line = b.name + "(" + join(params, ", ") + ")";
    if (line.size() <= kSignatureWidth) return line;
    return b.name + "(\n" + indentLines(join(params, ",\n"), "    ") + ")";
}

std::string renderText(const std::vector<const Builtin*>& entries) {
    std::vector<std::string> parts;
    for (const auto* b : entries) parts.push_back(textEntry(*b));
    return join(parts, "\n");
}

std::string renderTextReference() {
    std::vector<std::string> parts;
    for (Family f : allFamilies()) {
        std::string title = familyTitle(f);
        parts.push_back(title + "\n" + std::string(title.size(), '=') + "\n\n" + renderText(registry().all(f)));
    }
    return join(parts, "\n\n");
}

std::string renderMarkdown(const std::vector<const Builtin*>& entries) {
    std::vector<std::string> parts;
    for (const auto* b : entries) parts.push_back(markdownEntry(*b));
    return join(parts, "\n");
}

std::string renderReference() {
    std::string contents = "## Contents\n\n";
    std::string body;
    for (Family f : allFamilies()) {
        std::string title = familyTitle(f);
        contents += "- [" + title + "](#" + anchor(title) + "): " + join(registry().names(f), ", ", backticks) + "\n";
        body += "\n## " + title + "\n\n" + renderMarkdown(registry().all(f));
    }
    return std::string(kMarkdownHeader) + "\n" + contents + body;
}

std::string renderNames() {
    std::vector<std::string> names;
    for (const auto& b : registry().entries())
        if (b.family != Family::Section) names.push_back(b.name);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return join(names, "\n") + "\n";
}

}  // namespace pipelang::stdlib
