// prepareData: reads the data section and hands it to the image or the
// tabular preparation.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include "runtime/data/dataset.h"
#include "runtime/data/labels.h"
#include "runtime/data/prepared.h"
#include "runtime/data/table.h"
#include "runtime/data/text_data.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

const char* splitName(Split split) {
    switch (split) {
    case Split::Train: return "train";
    case Split::Valid: return "valid";
    case Split::Test: return "test";
    }
    return "train";
}

void note(const DataRequest& request, const std::string& message) {
    log::note("note: data `" + request.name() + "`: " + message);
}

Listing withoutUnreadable(const DataRequest& request, const Listing& listing, const std::string& what,
                          const std::function<void(const std::filesystem::path&)>& read) {
    const int64_t n = int64_t(listing.paths.size());
    std::vector<std::string> errors(static_cast<size_t>(n));
    std::atomic<int64_t> nextItem{0};
    std::vector<std::thread> pool;
    const int threads = int(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 16));
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            for (int64_t i = nextItem++; i < n; i = nextItem++) {
                try {
                    read(listing.paths[size_t(i)]);
                } catch (const std::exception& e) {
                    errors[size_t(i)] = e.what();
                }
            }
        });
    for (auto& thread : pool) thread.join();
    std::vector<int64_t> keep, bad;
    for (int64_t i = 0; i < n; ++i) (errors[size_t(i)].empty() ? keep : bad).push_back(i);
    if (bad.empty()) return listing;
    std::string message = "skipped " + std::to_string(bad.size()) + " unreadable " + what +
                          (bad.size() == 1 ? "" : "s") + " of " + std::to_string(n) + " (on_bad = \"skip\"):";
    for (size_t k = 0; k < bad.size() && k < 5; ++k) message += "\n    " + errors[size_t(bad[k])];
    if (bad.size() > 5) message += "\n    ... and " + std::to_string(bad.size() - 5) + " more";
    note(request, message);
    if (keep.empty()) throw RuntimeError("data `" + request.name() + "`: no " + what + " could be read; " + errors[0]);
    return subset(listing, keep);
}

LabelledFiles labelledFiles(const DataRequest& request, const std::string& what, const std::string& folderHint,
                            const std::function<void(const std::filesystem::path&)>& read) {
    return labelledFiles(request, listSource(*request.section->field("source"), request.baseDir), what, folderHint,
                         read);
}

LabelledFiles labelledFiles(const DataRequest& request, Listing listing, const std::string& what,
                            const std::string& folderHint,
                            const std::function<void(const std::filesystem::path&)>& read) {
    const Value& source = *request.section->field("source");
    if (listing.inMemory)
        throw RuntimeError("data `" + request.name() + "`: the `" + listing.source + "` source holds images, not " +
                           what + "s; list them with " + folderHint + " or a table of paths.");
    if (listing.table) {
        std::string column = callName(request.x) == "column" ? stringArg(request.x, "name") : "";
        if (column.empty())
            throw RuntimeError("data `" + request.name() + "`: say which column holds the " + what +
                               "s, e.g. `x = column(\"path\")`.");
        std::string base = stringArg(&source, "folder");
        attachPaths(listing, column, base.empty() ? listing.root.parent_path() : resolvePath(request.baseDir, base));
        if (!request.y)
            throw RuntimeError("data `" + request.name() +
                               "`: say where the labels are, e.g. `y = column(\"label\")`.");
    }
    if (!listing.hasPaths())
        throw RuntimeError("data `" + request.name() + "`: the `" + listing.source + "` source lists no files.");
    if (stringArg(request.input, "on_bad") == "skip") listing = withoutUnreadable(request, listing, what, read);
    Value parentLabel(Value::Kind::Call);
    parentLabel.text = "parent_label";
    std::vector<std::string> labels = readLabels(request.y ? *request.y : parentLabel, listing);
    auto keep = itemsWithTarget(request, labels);
    if (keep.size() < labels.size()) {
        listing = subset(listing, keep);
        std::vector<std::string> kept;
        for (int64_t i : keep) kept.push_back(labels[size_t(i)]);
        labels = std::move(kept);
    }
    std::vector<Side> sides = assignSplits(*request.split, listing, labels, request.fold);
    return {std::move(listing), std::move(labels), std::move(sides)};
}

std::vector<int64_t> itemsWithTarget(const DataRequest& request, const std::vector<std::string>& labels) {
    bool multi = callName(request.target) == "multi_category";
    std::vector<int64_t> keep;
    keep.reserve(labels.size());
    for (size_t i = 0; i < labels.size(); ++i)
        if (multi || !isMissing(labels[i])) keep.push_back(int64_t(i));
    if (keep.size() < labels.size())
        note(request, "dropped " + std::to_string(labels.size() - keep.size()) + " of " +
                          std::to_string(labels.size()) + " items without a target");
    if (keep.empty()) throw RuntimeError("data `" + request.name() + "`: no item has a target; check `y`/`label`.");
    return keep;
}

torch::Tensor targetTensor(const Targets& targets, const std::vector<int64_t>& positions) {
    const int64_t n = int64_t(positions.size());
    if (targets.kind == "category") {
        torch::Tensor y = torch::empty({n}, torch::kInt64);
        auto* out = y.data_ptr<int64_t>();
        for (int64_t i = 0; i < n; ++i) out[i] = targets.codes[size_t(positions[size_t(i)])];
        return y;
    }
    if (targets.kind == "multi_category") {
        const int64_t k = int64_t(targets.classes.size());
        torch::Tensor y = torch::empty({n, k}, torch::kFloat32);
        auto* out = y.data_ptr<float>();
        for (int64_t i = 0; i < n; ++i) std::copy_n(targets.values.data() + positions[size_t(i)] * k, k, out + i * k);
        return y;
    }
    torch::Tensor y = torch::empty({n}, torch::kFloat32);
    auto* out = y.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) out[i] = targets.values[size_t(positions[size_t(i)])];
    return y;
}

void writeJson(const std::filesystem::path& dir, const std::string& name, const std::string& text) {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    std::ofstream out(dir / name);
    out << text << "\n";
    if (!out)
        throw RuntimeError("cannot write `" + (dir / name).string() + "`; check that the run folder is writable.");
}

void writeClasses(const std::filesystem::path& dir, const DataInfo& info) {
    nlohmann::ordered_json classes;
    classes["target"] = info.target;
    classes["classes"] = info.classes;
    writeJson(dir, "classes.json", classes.dump(2));
}

void writeItemRows(const std::filesystem::path& dir, const std::array<const std::vector<int64_t>*, 3>& sourceRows) {
    std::ofstream items(dir / "items.csv");
    items << "split,position,row\n";
    for (Split split : {Split::Train, Split::Valid, Split::Test})
        for (size_t i = 0; i < sourceRows[size_t(split)]->size(); ++i)
            items << splitName(split) << "," << i << "," << (*sourceRows[size_t(split)])[i] << "\n";
    if (!items) throw RuntimeError("cannot write `" + (dir / "items.csv").string() + "`");
}

std::unique_ptr<PreparedData> prepareData(const Section& data, const std::filesystem::path& baseDir, uint64_t seed) {
    DataRequest request;
    request.section = &data;
    request.baseDir = baseDir;
    request.seed = seed;
    auto blocks = calls(data.field("blocks"));
    // Language modelling: one block (`chars`, `tokens`) is both input and target.
    const bool languageModel = blocks.size() == 1 && makerOf<BlockMakers>(*blocks[0]).target;
    if (blocks.size() < 2 && !languageModel)
        throw RuntimeError("data `" + data.name +
                           "` needs an input and a target block, e.g. `blocks = (image, category)`.");
    request.input = blocks.front();
    request.target = blocks.back();
    auto given = [&](const char* field) -> const Value* {
        const Value* v = data.field(field);
        return v && !v->isNone() ? v : nullptr;
    };
    request.x = given("x");
    request.y = given("y") ? given("y") : given("label");
    request.split = given("split");
    if (const Value* fold = given("fold")) request.fold = fold->integer;
    request.items = given("item");
    request.batches = given("batch");
    if (const Value* cache = given("cache")) request.cache = cache->boolean;

    const BlockMaker& input = makerOf<BlockMakers>(*request.input);
    if (!makerOf<BlockMakers>(*request.target).target)
        throw RuntimeError("data `" + data.name + "`: `" + request.target->text + "` cannot be a target block");
    if (!input.prepare)
        throw RuntimeError("data `" + data.name + "`: `" + request.input->text + "` cannot be an input block");
    return input.prepare(request);
}

}  // namespace pipelang::runtime
