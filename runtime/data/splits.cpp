#include "runtime/data/splits.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

#include "runtime/data/random.h"
#include "runtime/data/series.h"
#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

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

// What a splitter decides from: the items, their labels, the fold asked for.
struct SplitInput {
    const Listing& listing;
    const std::vector<std::string>& labels;
    std::optional<int64_t> fold;
    const TimeAxis* time = nullptr;
};
using SplitterMaker = std::vector<Side> (*)(const Value& splitter, const SplitInput& in);
using SplitterMakers = stdlib::Implementations<stdlib::Family::Splitter, SplitterMaker>;

std::vector<Side> randomSplit(const Value& splitter, const SplitInput& in) {
    const int64_t n = in.listing.size();
    std::vector<Side> sides(size_t(n), Side::Train);
    double valid = numberArg(&splitter, "valid");
    auto order = Rng(uint64_t(intArg(&splitter, "seed")), 0x72616e646f6d).permutation(n);
    int64_t count = std::llround(double(n) * valid);
    for (int64_t i = 0; i < count; ++i) sides[size_t(order[size_t(i)])] = Side::Valid;
    return sides;
}
const SplitterMakers::Add kRandom{"random", randomSplit};

std::vector<Side> stratifiedSplit(const Value& splitter, const SplitInput& in) {
    std::vector<Side> sides(size_t(in.listing.size()), Side::Train);
    double valid = numberArg(&splitter, "valid");
    Rng rng(uint64_t(intArg(&splitter, "seed")), 0x7374726174);
    for (auto& [label, items] : groupBy(in.labels)) {
        rng.shuffle(items);
        int64_t count = std::llround(double(items.size()) * valid);
        for (int64_t i = 0; i < count; ++i) sides[size_t(items[size_t(i)])] = Side::Valid;
    }
    return sides;
}
const SplitterMakers::Add kStratified{"stratified", stratifiedSplit};

std::vector<Side> folderSplit(const Value& splitter, const SplitInput& in) {
    const Listing& listing = in.listing;
    const int64_t n = listing.size();
    std::vector<Side> sides(size_t(n), Side::Train);
    if (!listing.hasPaths())
        throw RuntimeError("the `folder` splitter reads each item's path, but the " + listing.source +
                           " source's items have none; use `column(...)` or `random(...)`.");
    std::string train = stringArg(&splitter, "train"), valid = stringArg(&splitter, "valid");
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
const SplitterMakers::Add kFolder{"folder", folderSplit};

std::vector<Side> columnSplit(const Value& splitter, const SplitInput& in) {
    const int64_t n = in.listing.size();
    std::vector<Side> sides(size_t(n), Side::Train);
    auto values = columnValues(in.listing, stringArg(&splitter, "name"), "the `column` splitter");
    for (int64_t i = 0; i < n; ++i)
        if (truthy(values[size_t(i)])) sides[size_t(i)] = Side::Valid;
    return sides;
}
const SplitterMakers::Add kColumn{"column", columnSplit};

// The k-fold splitters differ only in how items are dealt into folds; the
// chosen fold is validation, the rest training.
using FoldDealer = std::vector<int64_t> (*)(const Value& splitter, const SplitInput& in, int64_t k);

template <FoldDealer deal>
std::vector<Side> foldSplit(const Value& splitter, const SplitInput& in) {
    const int64_t n = in.listing.size(), k = intArg(&splitter, "k");
    const std::string& name = splitter.text;
    int64_t chosen = in.fold.value_or(0);
    if (chosen >= k)
        throw RuntimeError("`fold = " + std::to_string(chosen) + "` does not exist: `" + name +
                           "` has k = " + std::to_string(k) + " folds, numbered 0 to " + std::to_string(k - 1) + ".");
    if (n < k)
        throw RuntimeError(name + ": there are " + std::to_string(n) + " items, fewer than k = " + std::to_string(k) +
                           " folds; lower `k`.");
    std::vector<int64_t> folds = deal(splitter, in, k);
    std::vector<Side> sides(size_t(n), Side::Train);
    for (int64_t i = 0; i < n; ++i)
        if (folds[size_t(i)] == chosen) sides[size_t(i)] = Side::Valid;
    return sides;
}

std::vector<int64_t> dealKfold(const Value& splitter, const SplitInput& in, int64_t k) {
    return kfold(in.listing.size(), k, uint64_t(intArg(&splitter, "seed")));
}
std::vector<int64_t> dealStratified(const Value& splitter, const SplitInput& in, int64_t k) {
    return stratifiedKfold(in.labels, k, uint64_t(intArg(&splitter, "seed")));
}
std::vector<int64_t> dealGroups(const Value& splitter, const SplitInput& in, int64_t k) {
    const Value* group = argOf(&splitter, "group");
    std::string column = group ? stringArg(group, "name") : "";
    auto groups = columnValues(in.listing, column, "the `group_kfold` groups");
    auto folds = groupKfold(groups, k, uint64_t(intArg(&splitter, "seed")));
    // The point of grouping: no group may be on both sides of the split.
    std::map<std::string, int64_t> foldOfGroup;
    for (size_t i = 0; i < groups.size(); ++i)
        if (auto [at, fresh] = foldOfGroup.emplace(groups[i], folds[i]); !fresh && at->second != folds[i])
            throw RuntimeError("group_kfold: the group `" + groups[i] +
                               "` fell into two folds; this is a bug in pipe, please report it");
    return folds;
}
const SplitterMakers::Add kKfold{"kfold", foldSplit<dealKfold>};
const SplitterMakers::Add kStratifiedKfold{"stratified_kfold", foldSplit<dealStratified>};
const SplitterMakers::Add kGroupKfold{"group_kfold", foldSplit<dealGroups>};

// Splits in time: the series' steps before a time (or all but a last
// share) train, the next ones validate, the last ones test.
const TimeAxis& timeOf(const Value& splitter, const SplitInput& in) {
    if (!in.time)
        throw RuntimeError("`" + splitter.text + "` splits a series in time; use it with a `series(...)` block");
    return *in.time;
}

double timeArg(const Value& splitter, const char* name, const TimeAxis& time) {
    std::string text = stringArg(&splitter, name);
    auto t = parseTime(text);
    if (!t || t->date != time.dates)
        throw RuntimeError("`" + splitter.text + "(" + name + " = \"" + text + "\")` is not a time like the series' `" +
                           time.written.front() + "`; write it as the time column does");
    return t->key;
}

std::vector<Side> sidesOf(const Value& splitter, const TimeAxis& time, int64_t valid, int64_t test) {
    const int64_t n = int64_t(time.keys.size());
    if (valid >= n || test >= n || valid + test >= n)
        throw RuntimeError("`" + splitter.text + "` leaves no step of the series (" + time.written.front() + " to " +
                           time.written.back() + ") for training; train on an earlier span");
    std::vector<Side> sides(size_t(n), Side::Train);
    for (int64_t r = n - valid - test; r < n; ++r) sides[size_t(r)] = r < n - test ? Side::Valid : Side::Test;
    return sides;
}

std::vector<Side> beforeSplit(const Value& splitter, const SplitInput& in) {
    const TimeAxis& time = timeOf(splitter, in);
    const int64_t n = int64_t(time.keys.size());
    double from = timeArg(splitter, "date", time);
    const Value* testArg = argOf(&splitter, "test");
    bool tests = testArg && testArg->kind == Value::Kind::String;
    double testFrom = tests ? timeArg(splitter, "test", time) : 0;
    if (tests && testFrom <= from)
        throw RuntimeError("`" + splitter.text + "`: the test span starts at `" + testArg->text +
                           "`, not after validation's `" + stringArg(&splitter, "date") + "`; give a later `test`");
    auto at = [&](double key) {
        return int64_t(std::lower_bound(time.keys.begin(), time.keys.end(), key) - time.keys.begin());
    };
    const int64_t validStart = at(from), testStart = tests ? at(testFrom) : n;
    if (validStart == n)
        throw RuntimeError("`" + splitter.text + "` validates from `" + stringArg(&splitter, "date") +
                           "`, after the series' last step `" + time.written.back() + "`; give an earlier date");
    return sidesOf(splitter, time, testStart - validStart, n - testStart);
}
const SplitterMakers::Add kBefore{"before", beforeSplit};

std::vector<Side> lastSplit(const Value& splitter, const SplitInput& in) {
    const TimeAxis& time = timeOf(splitter, in);
    const auto n = double(time.keys.size());
    return sidesOf(splitter, time, std::llround(n * numberArg(&splitter, "valid")),
                   std::llround(n * numberArg(&splitter, "test")));
}
const SplitterMakers::Add kLast{"last", lastSplit};

}  // namespace

int64_t foldCount(const Value& splitter) {
    // A splitter with folds is one whose signature has `k`.
    return splitter.builtin && splitter.builtin->param("k") ? intArg(&splitter, "k") : 0;
}

std::vector<Side> assignSplits(const Value& splitter, const Listing& listing, const std::vector<std::string>& labels,
                               std::optional<int64_t> fold, const TimeAxis* time) {
    return makerOf<SplitterMakers>(splitter)(splitter, SplitInput{listing, labels, fold, time});
}

}  // namespace pipelang::runtime
