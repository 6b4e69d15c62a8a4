// Tabular data: rows of a csv, json or jsonl table; continuous and
// categorical feature columns and a target column, held in memory.
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <fstream>

#include "runtime/data/labels.h"
#include "runtime/data/loader.h"
#include "runtime/data/prepared.h"
#include "runtime/data/tabular.h"
#include "runtime/data/views.h"
#include "runtime/error.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

struct TableSplit {
    torch::Tensor x, xCat, y;
    std::vector<int64_t> sourceRows;  // each item's row in the source table (0: the first row)
    std::vector<int64_t> lines;       // per item: the line of the table file its row starts on
};

class TabularData : public PreparedData, public ItemViews {
public:
    TabularData(const DataRequest& request, TabularSpec spec, Tabular tabular, Targets targets,
                std::array<TableSplit, 3> splits, std::string file)
        : file_(std::move(file)),
          seed_(request.seed),
          spec_(std::move(spec)),
          tabular_(std::move(tabular)),
          splits_(std::move(splits)) {
        info_.input = "tabular";
        info_.target = targets.kind;
        info_.classes = targets.classes;
        info_.outputs = targets.kind == "number" ? 1 : int64_t(targets.classes.size());
        const TabularStats& stats = tabular_.stats;
        info_.itemShape = {stats.featureCount()};
        info_.continuous = stats.featureCount();
        for (const auto& categories : stats.categories) info_.cardinalities.push_back(int64_t(categories.size()) + 1);
        info_.folds = request.split ? foldCount(*request.split) : 0;
        if (splits_[0].y.size(0) == 0)
            throw RuntimeError("data `" + request.name() + "` has no training rows; check the source and the split.");
    }

    const DataInfo& info() const override { return info_; }
    int64_t size(Split split) const override {
        const auto& y = splits_[size_t(split)].y;
        return y.defined() ? y.size(0) : 0;
    }

    std::unique_ptr<Loader> loader(Split split, int64_t batchSize, int64_t workers) const override {
        bool training = split == Split::Train;
        LoaderOptions options = splitLoaderOptions(size(split), batchSize, workers, training, seed_);
        const TableSplit* data = &splits_[size_t(split)];
        return std::make_unique<ThreadedLoader>(options, [data](const std::vector<int64_t>& positions, int64_t) {
            Batch batch;
            batch.x = gatherRows(data->x, positions);
            batch.xCat = gatherRows(data->xCat, positions);
            batch.y = gatherRows(data->y, positions);
            batch.index = positions;
            return batch;
        });
    }

    void save(const std::filesystem::path& runDir) const override {
        writeClasses(runDir, info_);
        nlohmann::ordered_json stats;
        stats["input"] = "tabular";
        stats["missing"] = spec_.dropMissing ? "drop" : "fill";
        const TabularStats& t = tabular_.stats;
        stats["features"] = t.features;
        auto& cont = stats["continuous"] = nlohmann::ordered_json::array();
        for (size_t c = 0; c < t.cont.size(); ++c)
            cont.push_back({{"name", t.cont[c]},
                            {"median", t.medians[c]},
                            {"mean", t.means[c]},
                            {"std", t.stds[c]},
                            {"indicator", t.indicator[c]}});
        auto& cat = stats["categorical"] = nlohmann::ordered_json::array();
        for (size_t c = 0; c < t.cat.size(); ++c) cat.push_back({{"name", t.cat[c]}, {"categories", t.categories[c]}});
        writeJson(runDir, "stats.json", stats.dump(2));
        writeItemRows(runDir, {&splits_[0].sourceRows, &splits_[1].sourceRows, &splits_[2].sourceRows});
    }

    std::string itemName(Split split, int64_t position) const override {
        return file_ + " line " + std::to_string(splits_[size_t(split)].lines.at(size_t(position)));
    }

    // The feature columns as the table had them: continuous values scaled
    // back, codes named ("#na#" for a missing or unseen category, as fastai
    // writes it), "NA" where a missing cell was filled with the median.
    ItemView view(const Batch& batch, int64_t j) const override {
        const TabularStats& t = tabular_.stats;
        ItemView item;
        torch::Tensor x = batch.x[j].detach().to(torch::kCPU, torch::kFloat32).contiguous();
        const float* features = x.data_ptr<float>();
        for (size_t c = 0; c < t.cont.size(); ++c) {
            bool filled = t.indicator[c] >= 0 && features[t.indicator[c]] > 0.5f;
            char value[32];
            std::snprintf(value, sizeof value, "%.6g", double(features[c]) * t.stds[c] + t.means[c]);
            item.fields.push_back({t.cont[c], filled ? "NA" : value});
        }
        if (batch.xCat.defined() && batch.xCat.numel() > 0) {
            torch::Tensor codes = batch.xCat[j].detach().to(torch::kCPU, torch::kInt64).contiguous();
            for (size_t c = 0; c < t.cat.size(); ++c) {
                int64_t code = codes[int64_t(c)].item<int64_t>();
                bool known = code >= 1 && size_t(code) <= t.categories[c].size();
                item.fields.push_back({t.cat[c], known ? t.categories[c][size_t(code - 1)] : "#na#"});
            }
        }
        return item;
    }

private:
    std::string file_;
    uint64_t seed_;
    TabularSpec spec_;
    Tabular tabular_;
    std::array<TableSplit, 3> splits_;
    DataInfo info_;
};

}  // namespace

static std::unique_ptr<PreparedData> prepareTabular(const DataRequest& request) {
    const Value& source = *request.section->field("source");
    if (request.x)
        throw RuntimeError("data `" + request.name() +
                           "`: a tabular input takes its columns from the block, e.g. "
                           "`tabular(cont = [\"age\"], cat = [\"city\"])`; remove `x`.");
    if (!request.y)
        throw RuntimeError("data `" + request.name() +
                           "`: say which column is the target, e.g. `y = column(\"price\")`.");
    TabularSpec spec;
    spec.cont = stringsArg(request.input, "cont");
    spec.cat = stringsArg(request.input, "cat");
    spec.dropMissing = stringArg(request.input, "missing") == "drop";
    if (spec.cont.empty() && spec.cat.empty())
        throw RuntimeError("data `" + request.name() +
                           "`: the tabular block lists no columns; name them with `cont = "
                           "[...]` and `cat = [...]`.");

    Listing listing = listSource(source, request.baseDir);
    if (!listing.table)
        throw RuntimeError("data `" + request.name() + "`: tabular data needs a csv, json or jsonl source.");
    auto labels = readLabels(*request.y, listing);
    auto keep = itemsWithTarget(request, labels);
    if (spec.dropMissing) {
        Listing withTarget = subset(listing, keep);
        auto complete = rowsWithoutMissing(*withTarget.table, spec);
        if (complete.size() < keep.size())
            note(request, "dropped " + std::to_string(keep.size() - complete.size()) + " of " +
                              std::to_string(keep.size()) + " rows with missing values (missing = \"drop\")");
        std::vector<int64_t> both;
        for (int64_t i : complete) both.push_back(keep[size_t(i)]);
        keep = std::move(both);
        if (keep.empty())
            throw RuntimeError("data `" + request.name() + "`: every row has a missing value; use missing = \"fill\".");
    }
    listing = subset(listing, keep);
    {
        std::vector<std::string> kept;
        for (int64_t i : keep) kept.push_back(labels[size_t(i)]);
        labels = std::move(kept);
    }
    auto sides = assignSplits(*request.split, listing, labels, request.fold);
    const std::string kind = callName(request.target);
    Targets targets = encodeTargets(kind, labels, sides, labelDelimiter(request.target));
    Tabular tabular = encodeTabular(*listing.table, spec, sides);

    std::array<std::vector<int64_t>, 3> rows;
    for (size_t i = 0; i < sides.size(); ++i)
        if (sides[i] != Side::None) rows[size_t(sides[i])].push_back(int64_t(i));
    const int64_t n = int64_t(sides.size()), f = tabular.stats.featureCount(), k = int64_t(spec.cat.size());
    torch::Tensor x = torch::from_blob(tabular.x.data(), {n, f}, torch::kFloat32);
    torch::Tensor codes = torch::from_blob(tabular.codes.data(), {n, k}, torch::kInt64);
    std::array<TableSplit, 3> splits;
    for (size_t s = 0; s < 3; ++s) {
        splits[s].x = gatherRows(x, rows[s]);
        splits[s].xCat = gatherRows(codes, rows[s]);
        splits[s].y = targetTensor(targets, rows[s]);
        for (int64_t i : rows[s]) splits[s].sourceRows.push_back(keep[size_t(i)]);
        for (int64_t r : rows[s]) splits[s].lines.push_back(listing.table->lines[size_t(r)]);
    }
    return std::make_unique<TabularData>(request, std::move(spec), std::move(tabular), std::move(targets),
                                         std::move(splits), listing.root.string());
}
const BlockMakers::Add kTabular{"tabular", {prepareTabular}};

}  // namespace pipelang::runtime
