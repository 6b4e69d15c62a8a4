#include "runtime/data/labels.h"

#include <regex>

#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

// One label per item, from what the source listed.
using LabelMaker = std::vector<std::string> (*)(const Value& getter, const Listing& listing);
using LabelMakers = stdlib::Implementations<stdlib::Family::Label, LabelMaker>;

std::vector<std::string> columnLabels(const Value& getter, const Listing& listing) {
    if (!listing.table)
        throw RuntimeError("`column(...)` reads a table, but the " + listing.source +
                           " source lists files; use `parent_label`, `filename` or `regex(...)`.");
    const Table& table = *listing.table;
    size_t index = table.require(stringArg(&getter, "name"), "the labels");
    std::vector<std::string> labels;
    labels.reserve(size_t(listing.size()));
    for (int64_t r = 0; r < table.size(); ++r) labels.push_back(table.cell(r, index));
    return labels;
}
const LabelMakers::Add kColumn{"column", columnLabels};

// The paths of a listing, for getters that read them.
const std::vector<std::filesystem::path>& pathsFor(const Value& getter, const Listing& listing) {
    if (!listing.hasPaths())
        throw RuntimeError(
            "`" + getter.text + "` reads an item's file path, but the " + listing.source +
            " source's items have none; use `column(\"...\")`, or give the paths with `x = column(...)`.");
    return listing.paths;
}

std::vector<std::string> parentLabels(const Value& getter, const Listing& listing) {
    std::vector<std::string> labels;
    for (const auto& p : pathsFor(getter, listing)) labels.push_back(p.parent_path().filename().string());
    return labels;
}
const LabelMakers::Add kParentLabel{"parent_label", parentLabels};

std::vector<std::string> filenameLabels(const Value& getter, const Listing& listing) {
    std::vector<std::string> labels;
    for (const auto& p : pathsFor(getter, listing)) labels.push_back(p.stem().string());
    return labels;
}
const LabelMakers::Add kFilename{"filename", filenameLabels};

std::vector<std::string> regexLabels(const Value& getter, const Listing& listing) {
    const auto& paths = pathsFor(getter, listing);
    std::string pattern = stringArg(&getter, "pattern");
    int64_t group = intArg(&getter, "group");
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
    std::vector<std::string> labels;
    for (const auto& p : paths) {
        std::smatch match;
        std::string text = p.generic_string();
        if (!std::regex_search(text, match, re))
            throw RuntimeError("`regex`: the pattern `" + pattern + "` does not match `" + text +
                               "`; fix the pattern or narrow the source.");
        labels.push_back(match[size_t(group)].str());
    }
    return labels;
}
const LabelMakers::Add kRegex{"regex", regexLabels};

}  // namespace

std::vector<std::string> readLabels(const Value& getter, const Listing& listing) {
    return makerOf<LabelMakers>(getter)(getter, listing);
}

}  // namespace pipelang::runtime
