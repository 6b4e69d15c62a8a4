#include "interpreter/fixes.h"

#include <algorithm>
#include <optional>
#include <set>

#include "interpreter/format.h"
#include "interpreter/parse.h"

namespace pipelang {

namespace {

// The canonical layout of `text`, or nothing when it does not parse.
std::optional<std::string> formatted(const std::string& name, const std::string& text) {
    SourceFile file(name, text);
    Diagnostics diags;
    ast::Module module = parse(file, diags);
    if (diags.hasErrors()) return std::nullopt;
    return format(module);
}

}  // namespace

FixedFiles applyFixes(const Compilation& c) {
    std::set<const SourceFile*> files;
    for (const auto& m : c.modules)
        if (m.file) files.insert(m.file);
    std::map<const SourceFile*, std::vector<FixIt>> byFile;
    for (const auto& d : c.diags.items())
        for (const auto& fix : d.fixes)
            if (fix.span.valid() && files.count(fix.span.file) && fix.span.begin <= fix.span.end &&
                fix.span.end <= fix.span.file->text.size())
                byFile[fix.span.file].push_back(fix);

    FixedFiles out;
    for (auto& [file, fixes] : byFile) {
        std::stable_sort(fixes.begin(), fixes.end(),
                         [](const FixIt& a, const FixIt& b) { return a.span.begin < b.span.begin; });
        std::vector<FixIt> kept;
        for (const auto& fix : fixes) {
            if (!kept.empty()) {
                const Span& last = kept.back().span;
                bool same = last.begin == fix.span.begin && last.end == fix.span.end && kept.back().text == fix.text;
                if (same || fix.span.begin < last.end || (fix.span.begin == last.begin && last.begin == last.end))
                    continue;  // the same edit twice, or one that overlaps it
            }
            kept.push_back(fix);
        }
        std::string text = file->text;
        for (auto it = kept.rbegin(); it != kept.rend(); ++it)
            text.replace(it->span.begin, it->span.end - it->span.begin, it->text);
        for (const auto& fix : kept) {
            auto [line, column] = file->position(fix.span.begin);
            out.applied.push_back(
                {file->name, line, column, file->text.substr(fix.span.begin, fix.span.end - fix.span.begin), fix.text});
        }
        // A file in the canonical layout stays in it (a longer name may move
        // the block's `=` column), so `pipe fmt` has nothing to do after a fix.
        if (formatted(file->name, file->text) == file->text)
            if (auto again = formatted(file->name, text)) text = *again;
        out.texts[file->name] = std::move(text);
    }
    return out;
}

}  // namespace pipelang
