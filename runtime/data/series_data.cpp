// Series data: windows of a table's rows in time order (series.h), held in
// memory, with the naive forecasts of the same windows to score beside.
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>

#include "runtime/data/loader.h"
#include "runtime/data/prepared.h"
#include "runtime/data/series.h"
#include "runtime/data/series_encoder.h"
#include "runtime/data/views.h"
#include "runtime/error.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

struct WindowSplit {
    torch::Tensor x, y;            // scaled: {W, lookback, columns}, {W, horizon × targets}
    std::vector<int64_t> origins;  // per window: the row of its first target step
};

torch::Tensor floats(std::vector<float> values, std::vector<int64_t> shape) {
    return torch::tensor(values, torch::kFloat32).reshape(shape);
}

class SeriesData : public PreparedData, public ItemViews {
public:
    SeriesData(const DataRequest& request, SeriesSpec spec, Series series, std::vector<Side> sides)
        : seed_(request.seed), spec_(std::move(spec)), series_(std::move(series)), sides_(std::move(sides)) {
        const int64_t lookback = spec_.lookback, horizon = spec_.horizon, k = series_.targetCount;
        scaling_ = measureScaling(series_, sides_, spec_.scale);
        WindowOrigins origins = windowOrigins(sides_, lookback, horizon);
        int64_t steps[3] = {0, 0, 0};
        for (Side side : sides_)
            if (side != Side::None) ++steps[size_t(side)];
        const int64_t window = lookback + horizon;
        if (origins[0].empty())
            throw RuntimeError("data `" + request.name() + "`: a window of " + std::to_string(lookback) +
                               " steps (`lookback`) and " + std::to_string(horizon) + " to predict (`horizon`) needs " +
                               std::to_string(window) + " steps, but the training span of `" + series_.file + "` has " +
                               std::to_string(steps[0]) + " (of " + std::to_string(series_.rows()) +
                               " rows); lower `lookback` or `horizon`, or train on more of the series");
        for (Split split : {Split::Valid, Split::Test})
            if (steps[size_t(split)] > 0 && origins[size_t(split)].empty())
                throw RuntimeError("data `" + request.name() + "`: the " + splitName(split) + " span of `" +
                                   series_.file + "` has " + std::to_string(steps[size_t(split)]) +
                                   " steps, fewer than the " + std::to_string(horizon) +
                                   " each window predicts (`horizon`); lower `horizon` or give it more steps");
        for (size_t s = 0; s < 3; ++s) {
            auto& w = splits_[s];
            w.origins = origins[s];
            const int64_t count = int64_t(w.origins.size());
            w.x =
                floats(windowInputs(series_, scaling_, w.origins, lookback), {count, lookback, series_.columnCount()});
            w.y = floats(windowTargets(series_, scaling_, w.origins, horizon), {count, horizon * k});
        }
        info_.input = info_.target = "series";
        info_.itemShape = {lookback, series_.columnCount()};
        info_.context = lookback;
        info_.horizon = horizon;
        info_.outputs = horizon * k;
        info_.seriesTargets = spec_.targets;
        info_.seriesMean.assign(scaling_.mean.begin(), scaling_.mean.begin() + k);
        info_.seriesStd.assign(scaling_.std.begin(), scaling_.std.begin() + k);
        info_.naiveScale = naiveScale(series_, sides_, spec_.season);
        for (size_t c = 0; c < info_.naiveScale.size(); ++c)
            if (info_.naiveScale[c] == 0)
                note(request, "the seasonal naive forecast of `" + spec_.targets[c] +
                                  "` is exact over the training span, so its `mase` is not defined (nan)");
    }

    const DataInfo& info() const override { return info_; }
    int64_t size(Split split) const override { return int64_t(splits_[size_t(split)].origins.size()); }

    std::unique_ptr<Loader> loader(Split split, int64_t batchSize, int64_t workers) const override {
        bool training = split == Split::Train;
        LoaderOptions options = splitLoaderOptions(size(split), batchSize, workers, training, seed_);
        const WindowSplit* data = &splits_[size_t(split)];
        return std::make_unique<ThreadedLoader>(options, [data](const std::vector<int64_t>& positions, int64_t) {
            Batch batch;
            batch.x = gatherRows(data->x, positions);
            batch.y = gatherRows(data->y, positions);
            batch.index = positions;
            return batch;
        });
    }

    std::vector<Baseline> baselines(Split split) const override {
        const WindowSplit& w = splits_[size_t(split)];
        if (w.origins.empty()) return {};
        std::vector<Baseline> out;
        out.push_back({"last_value", scaled(lastValueForecast(series_, w.origins, spec_.horizon)), w.y});
        if (spec_.season > 1)
            out.push_back({"seasonal_naive",
                           scaled(seasonalNaiveForecast(series_, w.origins, spec_.horizon, spec_.season)), w.y});
        return out;
    }

    void save(const std::filesystem::path& runDir) const override {
        writeClasses(runDir, info_);
        nlohmann::ordered_json stats;
        stats["input"] = "series";
        stats["time"] = spec_.time;
        stats["step"] = series_.time.step;
        stats["first"] = series_.time.written.front();
        stats["last"] = series_.time.written.back();
        stats["lookback"] = spec_.lookback;
        stats["horizon"] = spec_.horizon;
        stats["season"] = spec_.season;
        stats["scale"] = spec_.scale ? "standard" : "none";
        auto& columns = stats["columns"] = nlohmann::ordered_json::array();
        for (size_t c = 0; c < series_.columns.size(); ++c)
            columns.push_back({{"name", series_.columns[c]},
                               {"role", int64_t(c) < series_.targetCount ? "target" : "input"},
                               {"mean", scaling_.mean[c]},
                               {"std", scaling_.std[c]}});
        stats["naive_scale"] = info_.naiveScale;
        nlohmann::ordered_json spans;
        for (Split split : {Split::Train, Split::Valid, Split::Test}) {
            int64_t first = -1, last = -1;
            for (size_t r = 0; r < sides_.size(); ++r)
                if (sides_[r] == Side(int(split))) {
                    if (first < 0) first = int64_t(r);
                    last = int64_t(r);
                }
            if (first >= 0)
                spans[splitName(split)] = {{"from", series_.time.written[size_t(first)]},
                                           {"to", series_.time.written[size_t(last)]},
                                           {"windows", size(split)}};
        }
        stats["spans"] = spans;
        writeJson(runDir, "stats.json", stats.dump(2));
        writeItemRows(runDir, {&splits_[0].origins, &splits_[1].origins, &splits_[2].origins});
    }

    // A window by the row of its first forecast step, as a table row is named.
    std::string itemName(Split split, int64_t position) const override {
        int64_t origin = splits_[size_t(split)].origins.at(size_t(position));
        return series_.file + " line " + std::to_string(series_.lines[size_t(origin)]) + " (" +
               series_.time.written[size_t(origin)] + ")";
    }

    // Each column's last value before the forecast, in its own units (the
    // item's name says when the forecast starts).
    ItemView view(const Batch& batch, int64_t j) const override {
        ItemView item;
        const int64_t lookback = spec_.lookback;
        torch::Tensor x = batch.x[j].detach().to(torch::kCPU, torch::kFloat64).contiguous();
        for (int64_t c = 0; c < series_.columnCount(); ++c) {
            char value[32];
            double v = x[lookback - 1][c].item<double>() * scaling_.std[size_t(c)] + scaling_.mean[size_t(c)];
            if (std::fabs(v) < 1e-6 * scaling_.std[size_t(c)]) v = 0;  // float32's rounding, not a value
            std::snprintf(value, sizeof value, "%.4g", v);
            item.fields.push_back({series_.columns[size_t(c)] + " last", value});
        }
        return item;
    }

private:
    // Forecasts in the targets' units, scaled as the network predicts.
    torch::Tensor scaled(const std::vector<double>& forecast) const {
        const int64_t k = series_.targetCount;
        std::vector<float> out(forecast.size());
        for (size_t i = 0; i < forecast.size(); ++i) {
            size_t c = i % size_t(k);
            out[i] = float((forecast[i] - scaling_.mean[c]) / scaling_.std[c]);
        }
        return floats(std::move(out), {int64_t(forecast.size()) / (spec_.horizon * k), spec_.horizon * k});
    }

    uint64_t seed_;
    SeriesSpec spec_;
    Series series_;
    std::vector<Side> sides_;
    SeriesScaling scaling_;
    std::array<WindowSplit, 3> splits_;
    DataInfo info_;
};

class SeriesEncoder : public InputEncoder {
public:
    SeriesEncoder(const Section& data, const nlohmann::json& stats) {
        const Value* source = data.field("source");
        if (callName(source) == "csv") {
            std::string d = stringArg(source, "delimiter");
            delimiter_ = d.empty() ? ',' : d[0];
        }
        spec_.time = stats.at("time").get<std::string>();
        spec_.lookback = stats.at("lookback").get<int64_t>();
        spec_.horizon = stats.at("horizon").get<int64_t>();
        for (const auto& c : stats.at("columns")) {
            const std::string name = c.at("name").get<std::string>();
            (c.at("role").get<std::string>() == "target" ? spec_.targets : spec_.inputs).push_back(name);
            scaling_.mean.push_back(c.at("mean").get<double>());
            scaling_.std.push_back(c.at("std").get<double>());
        }
        const size_t k = spec_.targets.size();
        info_.input = info_.target = "series";
        info_.itemShape = {spec_.lookback, int64_t(scaling_.mean.size())};
        info_.context = spec_.lookback;
        info_.horizon = spec_.horizon;
        info_.outputs = spec_.horizon * int64_t(k);
        info_.seriesTargets = spec_.targets;
        info_.seriesMean.assign(scaling_.mean.begin(), scaling_.mean.begin() + int64_t(k));
        info_.seriesStd.assign(scaling_.std.begin(), scaling_.std.begin() + int64_t(k));
    }
    const DataInfo& info() const override { return info_; }

    // Each table's last `lookback` rows, checked as training checked its series.
    Inputs encode(const std::vector<std::filesystem::path>& inputs) const override {
        Inputs out;
        std::vector<float> x;
        for (const auto& path : inputs) {
            std::string ext = path.extension().string();
            Table table = ext == ".json"    ? readJsonArray(path)
                          : ext == ".jsonl" ? readJsonLines(path)
                                            : readCsv(path, ext == ".tsv" ? '\t' : delimiter_, true);
            Series series = readSeries(table, spec_);
            if (series.rows() < spec_.lookback)
                throw RuntimeError("`" + path.string() + "` has " + std::to_string(series.rows()) +
                                   " rows, but the model forecasts from the last " + std::to_string(spec_.lookback) +
                                   " steps (`lookback`); give at least that many");
            std::vector<float> window = windowInputs(series, scaling_, {series.rows()}, spec_.lookback);
            x.insert(x.end(), window.begin(), window.end());
            out.names.push_back(path.string() + " after " + series.time.written.back() + " (steps of " +
                                series.time.step + ")");
        }
        const int64_t n = int64_t(inputs.size());
        out.batch.x = floats(std::move(x), {n, spec_.lookback, int64_t(scaling_.mean.size())});
        for (int64_t i = 0; i < n; ++i) out.batch.index.push_back(i);
        return out;
    }

private:
    SeriesSpec spec_;
    SeriesScaling scaling_;
    DataInfo info_;
    char delimiter_ = ',';
};

}  // namespace

std::unique_ptr<InputEncoder> seriesEncoder(const Section& data, const nlohmann::json& stats) {
    return std::make_unique<SeriesEncoder>(data, stats);
}

static std::unique_ptr<PreparedData> prepareSeries(const DataRequest& request) {
    if (request.x || request.y)
        throw RuntimeError("data `" + request.name() +
                           "`: a series takes its columns from the block, e.g. `series(time = \"date\", targets = "
                           "[\"temp\"])`; remove `x`, `y` and `label`.");
    if ((request.items && !request.items->items.empty()) || (request.batches && !request.batches->items.empty()))
        throw RuntimeError("data `" + request.name() +
                           "`: a series is scaled by its block on the training span; remove `item` and `batch`.");
    SeriesSpec spec;
    spec.time = stringArg(request.input, "time");
    spec.targets = stringsArg(request.input, "targets");
    spec.inputs = stringsArg(request.input, "inputs");
    spec.lookback = intArg(request.input, "lookback");
    spec.horizon = intArg(request.input, "horizon");
    spec.season = intArg(request.input, "season");
    spec.scale = stringArg(request.input, "scale") != "none";

    Listing listing = listSource(*request.section->field("source"), request.baseDir);
    if (!listing.table)
        throw RuntimeError("data `" + request.name() + "`: a series needs a table source: csv, json or jsonl.");
    Series series = readSeries(*listing.table, spec);
    if (!request.split)
        throw RuntimeError("data `" + request.name() + "`: a series needs a split in time, e.g. `last(valid = 0.2)`.");
    std::vector<Side> sides = assignSplits(*request.split, listing, {}, request.fold, &series.time);
    return std::make_unique<SeriesData>(request, std::move(spec), std::move(series), std::move(sides));
}
const BlockMakers::Add kSeries{"series", {prepareSeries, true}};

}  // namespace pipelang::runtime
