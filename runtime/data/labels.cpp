#include "runtime/data/labels.h"

#include <regex>

#include "runtime/data/values.h"
#include "runtime/error.h"

namespace pipelang::runtime {

std::vector<std::string> readLabels(const Value& getter, const Listing& listing) {
    const std::string& name = getter.text;
    std::vector<std::string> labels;
    labels.reserve(size_t(listing.size()));
    if (name == "column") {
        if (!listing.table)
            throw RuntimeError("`column(...)` reads a table, but the " + listing.source +
                               " source lists files; use `parent_label`, `filename` or `regex(...)`.");
        const Table& table = *listing.table;
        std::string column = stringArg(&getter, "name");
        size_t index = table.require(column, "the labels");
        for (int64_t r = 0; r < table.size(); ++r) labels.push_back(table.cell(r, index));
        return labels;
    }
    if (!listing.hasPaths())
        throw RuntimeError(
            "`" + name + "` reads an item's file path, but the " + listing.source +
            " source's items have none; use `column(\"...\")`, or give the paths with `x = column(...)`.");
    if (name == "parent_label") {
        for (const auto& p : listing.paths) labels.push_back(p.parent_path().filename().string());
    } else if (name == "filename") {
        for (const auto& p : listing.paths) labels.push_back(p.stem().string());
    } else if (name == "regex") {
        std::string pattern = stringArg(&getter, "pattern");
        int64_t group = intArg(&getter, "group", 1);
        std::regex re;
        try {
            re = std::regex(pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
            throw RuntimeError("`regex`: the pattern `" + pattern + "` is not a valid regular expression (" + e.what() +
                               ").");
        }
        if (int64_t(re.mark_count()) < group)
            throw RuntimeError("`regex`: the pattern `" + pattern + "` has " + std::to_string(re.mark_count()) +
                               " capture group(s), so there is no group " + std::to_string(group) +
                               "; put the label in parentheses.");
        for (const auto& p : listing.paths) {
            std::smatch match;
            std::string text = p.generic_string();
            if (!std::regex_search(text, match, re))
                throw RuntimeError("`regex`: the pattern `" + pattern + "` does not match `" + text +
                                   "`; fix the pattern or narrow the source.");
            labels.push_back(match[size_t(group)].str());
        }
    } else {
        throw RuntimeError("the label getter `" + name + "` is not supported by the runtime.");
    }
    return labels;
}

}  // namespace pipelang::runtime
