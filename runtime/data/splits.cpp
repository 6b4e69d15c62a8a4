#include "runtime/data/splits.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

#include "runtime/data/random.h"
#include "runtime/data/values.h"
#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

// Items grouped by a key, keys in sorted order, items in listing order.
std::map<std::string, std::vector<int64_t>> groupBy(const std::vector<std::string>& keys) {
    std::map<std::string, std::vector<int64_t>> groups;
    for (size_t i = 0; i < keys.size(); ++i) groups[keys[i]].push_back(int64_t(i));
    return groups;
}

std::vector<std::string> columnValues(const Listing& listing, const std::string& column, const std::string& what) {
    if (!listing.table)
        throw RuntimeError(what + " reads the column `" + column + "`, but the " + listing.source +
                           " source has no columns; use a csv, json or jsonl source, or another splitter.");
    const Table& table = *listing.table;
    size_t index = table.require(column, what);
    std::vector<std::string> out;
    for (int64_t r = 0; r < table.size(); ++r) out.push_back(table.cell(r, index));
    return out;
}

bool truthy(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s == "true" || s == "1" || s == "yes" || s == "1.0" || s == "t" || s == "y";
}

// Fold numbers for plain k-fold: a seeded permutation dealt round-robin.
std::vector<int64_t> kfold(int64_t n, int64_t k, uint64_t seed) {
    std::vector<int64_t> folds(static_cast<size_t>(n));
    auto order = Rng(seed, 0x6b666f6c64).permutation(n);
    for (int64_t i = 0; i < n; ++i) folds[size_t(order[size_t(i)])] = i % k;
    return folds;
}

// Each class shuffled and dealt round-robin, continuing where the last class
// stopped so that the folds stay within one item of each other in size.
std::vector<int64_t> stratifiedKfold(const std::vector<std::string>& labels, int64_t k, uint64_t seed) {
    std::vector<int64_t> folds(labels.size());
    Rng rng(seed, 0x7374726174);
    int64_t next = 0;
    for (auto& [label, items] : groupBy(labels)) {
        rng.shuffle(items);
        for (int64_t i : items) folds[size_t(i)] = next++ % k;
    }
    return folds;
}

// Groups, shuffled then largest first, each to the fold with fewest items.
std::vector<int64_t> groupKfold(const std::vector<std::string>& groups, int64_t k, uint64_t seed) {
    auto byGroup = groupBy(groups);
    if (int64_t(byGroup.size()) < k)
        throw RuntimeError("group_kfold: there are " + std::to_string(byGroup.size()) + " groups, fewer than k = " +
                           std::to_string(k) + "; lower `k` or choose a finer group column.");
    std::vector<const std::vector<int64_t>*> order;
    for (const auto& entry : byGroup) order.push_back(&entry.second);
    Rng(seed, 0x67726f7570).shuffle(order);
    std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->size() > b->size(); });
    std::vector<int64_t> sizes(size_t(k), 0), folds(groups.size());
    for (const auto* items : order) {
        size_t f = size_t(std::min_element(sizes.begin(), sizes.end()) - sizes.begin());
        sizes[f] += int64_t(items->size());
        for (int64_t i : *items) folds[size_t(i)] = int64_t(f);
    }
    return folds;
}

}  // namespace

int64_t foldCount(const Value& splitter) {
    const std::string& name = splitter.text;
    if (name == "kfold" || name == "stratified_kfold" || name == "group_kfold") return intArg(&splitter, "k", 5);
    return 0;
}

std::vector<Side> assignSplits(const Value& splitter, const Listing& listing, const std::vector<std::string>& labels,
                               std::optional<int64_t> fold) {
    const std::string& name = splitter.text;
    const int64_t n = listing.size();
    std::vector<Side> sides(size_t(n), Side::Train);
    const uint64_t seed = uint64_t(intArg(&splitter, "seed", 42));

    if (name == "random") {
        double valid = numberArg(&splitter, "valid", 0.2);
        auto order = Rng(seed, 0x72616e646f6d).permutation(n);
        int64_t count = std::llround(double(n) * valid);
        for (int64_t i = 0; i < count; ++i) sides[size_t(order[size_t(i)])] = Side::Valid;
        return sides;
    }
    if (name == "stratified") {
        double valid = numberArg(&splitter, "valid", 0.2);
        Rng rng(seed, 0x7374726174);
        for (auto& [label, items] : groupBy(labels)) {
            rng.shuffle(items);
            int64_t count = std::llround(double(items.size()) * valid);
            for (int64_t i = 0; i < count; ++i) sides[size_t(items[size_t(i)])] = Side::Valid;
        }
        return sides;
    }
    if (name == "folder") {
        if (!listing.hasPaths())
            throw RuntimeError("the `folder` splitter reads each item's path, but the " + listing.source +
                               " source's items have none; use `column(...)` or `random(...)`.");
        std::string train = stringArg(&splitter, "train", "train"), valid = stringArg(&splitter, "valid", "valid");
        int64_t counts[4] = {0, 0, 0, 0};
        for (int64_t i = 0; i < n; ++i) {
            Side side = Side::None;
            auto relative = listing.paths[size_t(i)].lexically_relative(listing.root);
            if (relative.empty() || *relative.begin() == "..") relative = listing.paths[size_t(i)];
            for (const auto& part : relative.parent_path()) {
                if (part == train)
                    side = Side::Train;
                else if (part == valid)
                    side = Side::Valid;
                else if (part == "test")
                    side = Side::Test;
                if (side != Side::None) break;
            }
            sides[size_t(i)] = side;
            ++counts[int(side)];
        }
        if (counts[0] == 0)
            throw RuntimeError("the `folder` splitter found no items in a folder named `" + train + "` under `" +
                               listing.root.string() + "`; fix its `train` name or use `random(...)`.");
        if (counts[3] > 0)
            std::fprintf(stderr, "note: %lld items are in neither a `%s` nor a `%s` folder and are left out\n",
                         (long long)counts[3], train.c_str(), valid.c_str());
        return sides;
    }
    if (name == "column") {
        std::string column = stringArg(&splitter, "name");
        auto values = columnValues(listing, column, "the `column` splitter");
        for (int64_t i = 0; i < n; ++i)
            if (truthy(values[size_t(i)])) sides[size_t(i)] = Side::Valid;
        return sides;
    }
    if (int64_t k = foldCount(splitter)) {
        int64_t chosen = fold.value_or(0);
        if (chosen >= k)
            throw RuntimeError("`fold = " + std::to_string(chosen) + "` does not exist: `" + name + "` has k = " +
                               std::to_string(k) + " folds, numbered 0 to " + std::to_string(k - 1) + ".");
        if (n < k)
            throw RuntimeError(name + ": there are " + std::to_string(n) +
                               " items, fewer than k = " + std::to_string(k) + " folds; lower `k`.");
        std::vector<int64_t> folds;
        if (name == "kfold")
            folds = kfold(n, k, seed);
        else if (name == "stratified_kfold")
            folds = stratifiedKfold(labels, k, seed);
        else {
            const Value* group = argOf(&splitter, "group");
            std::string column = group ? stringArg(group, "name") : "";
            auto groups = columnValues(listing, column, "the `group_kfold` groups");
            folds = groupKfold(groups, k, seed);
            // The point of grouping: no group may be on both sides of the split.
            std::map<std::string, int64_t> foldOfGroup;
            for (int64_t i = 0; i < n; ++i)
                if (auto [at, fresh] = foldOfGroup.emplace(groups[size_t(i)], folds[size_t(i)]);
                    !fresh && at->second != folds[size_t(i)])
                    throw RuntimeError("group_kfold: the group `" + groups[size_t(i)] +
                                       "` fell into two folds; this is a bug in pipe, please report it");
        }
        for (int64_t i = 0; i < n; ++i)
            if (folds[size_t(i)] == chosen) sides[size_t(i)] = Side::Valid;
        return sides;
    }
    throw RuntimeError("the splitter `" + name + "` is not supported by the runtime.");
}

}  // namespace pipelang::runtime
