#include "runtime/data/targets.h"

#include <algorithm>
#include <map>
#include <set>

#include "runtime/data/prepared.h"
#include "runtime/data/table.h"
#include "runtime/error.h"

namespace pipelang::runtime {

std::vector<std::string> sortedClasses(std::vector<std::string> classes) {
    bool numeric = !classes.empty() && std::all_of(classes.begin(), classes.end(),
                                                   [](const auto& c) { return parseNumber(c).has_value(); });
    if (numeric)
        std::stable_sort(classes.begin(), classes.end(),
                         [](const auto& a, const auto& b) { return *parseNumber(a) < *parseNumber(b); });
    else
        std::sort(classes.begin(), classes.end());
    return classes;
}

std::vector<std::string> splitLabels(const std::string& field, const std::string& delimiter) {
    std::vector<std::string> out;
    if (delimiter.empty()) {
        if (!field.empty()) out.push_back(field);
        return out;
    }
    size_t start = 0;
    for (;;) {
        size_t end = field.find(delimiter, start);
        std::string part = field.substr(start, end == std::string::npos ? std::string::npos : end - start);
        size_t b = part.find_first_not_of(" \t"), e = part.find_last_not_of(" \t");
        if (b != std::string::npos) out.push_back(part.substr(b, e - b + 1));
        if (end == std::string::npos) break;
        start = end + delimiter.size();
    }
    return out;
}

namespace {

[[noreturn]] void unseen(const std::string& label, Side side, int64_t count) {
    throw RuntimeError("the label `" + label + "` appears in " + std::to_string(count) + " " +
                       (side == Side::Test ? "test" : "validation") +
                       " item(s) but never in training, so the model could not learn it; use a `stratified` "
                       "split, or remove those items.");
}

}  // namespace

Targets encodeTargets(const std::string& kind, const std::vector<std::string>& labels, const std::vector<Side>& sides,
                      const std::string& delimiter, const std::vector<std::string>& fixedClasses) {
    Targets t;
    t.kind = kind;
    const size_t n = labels.size();
    if (kind == "number") {
        t.values.resize(n);
        for (size_t i = 0; i < n; ++i) {
            auto v = parseNumber(labels[i]);
            if (!v)
                throw RuntimeError("the target of item " + std::to_string(i) + " is `" + labels[i] +
                                   "`, not a number; a `number` block needs numeric labels.");
            t.values[i] = float(*v);
        }
        return t;
    }
    bool multi = kind == "multi_category";
    std::vector<std::vector<std::string>> parts(n);
    for (size_t i = 0; i < n; ++i) parts[i] = multi ? splitLabels(labels[i], delimiter) : std::vector{labels[i]};
    if (!fixedClasses.empty()) {
        t.classes = fixedClasses;
    } else {
        std::set<std::string> seen;
        for (size_t i = 0; i < n; ++i)
            if (sides[i] == Side::Train) seen.insert(parts[i].begin(), parts[i].end());
        t.classes = sortedClasses({seen.begin(), seen.end()});
    }
    if (t.classes.empty())
        throw RuntimeError(
            "the training split has no labels, so there are no classes to learn; check the labels and "
            "the split.");
    std::map<std::string, int64_t> index;
    for (size_t c = 0; c < t.classes.size(); ++c) index[t.classes[c]] = int64_t(c);
    // Unseen labels are counted first, so the error can say how many items have them.
    std::map<std::pair<std::string, Side>, int64_t> missing;
    for (size_t i = 0; i < n; ++i)
        if (sides[i] != Side::None)
            for (const auto& label : parts[i])
                if (!index.count(label)) ++missing[{label, sides[i]}];
    if (!missing.empty()) unseen(missing.begin()->first.first, missing.begin()->first.second, missing.begin()->second);
    if (multi) {
        size_t k = t.classes.size();
        t.values.assign(n * k, 0.f);
        for (size_t i = 0; i < n; ++i)
            for (const auto& label : parts[i]) t.values[i * k + size_t(index[label])] = 1.f;
    } else {
        t.codes.resize(n, -1);
        for (size_t i = 0; i < n; ++i)
            if (sides[i] != Side::None) t.codes[i] = index[labels[i]];
    }
    return t;
}

namespace {
// Target blocks: encodeTargets turns their labels into what the loss reads.
const BlockMakers::Add kCategory{"category", {nullptr, true}};
const BlockMakers::Add kMultiCategory{"multi_category", {nullptr, true}};
const BlockMakers::Add kNumber{"number", {nullptr, true}};
}  // namespace

}  // namespace pipelang::runtime
