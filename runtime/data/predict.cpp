// loadInputEncoder: a finished run's inputs for `pipe predict`, from the data
// section and the run's classes.json and stats.json.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <numeric>

#include "runtime/data/audio_encoder.h"
#include "runtime/data/dataset.h"
#include "runtime/data/image_items.h"
#include "runtime/data/series_encoder.h"
#include "runtime/data/tabular.h"
#include "runtime/data/text_data.h"
#include "runtime/data/text_sources.h"
#include "runtime/data/tokenizer.h"
#include "runtime/data/transforms.h"
#include "runtime/data/video_encoder.h"
#include "runtime/error.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

nlohmann::json readRunJson(const std::filesystem::path& runDir, const std::string& name) {
    std::ifstream in(runDir / name);
    if (!in)
        throw RuntimeError("the run folder `" + runDir.string() + "` has no " + name +
                           "; give the folder of a run that finished preparing its data.");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw RuntimeError("`" + (runDir / name).string() + "` is damaged (" + e.what() + "); rerun the training.");
    }
}

DataInfo infoFrom(const nlohmann::json& classes, const nlohmann::json& stats) {
    DataInfo info;
    info.input = stats.value("input", "");
    info.target = classes.value("target", "");
    info.classes = classes.value("classes", std::vector<std::string>{});
    info.outputs = info.target == "number" ? 1 : int64_t(info.classes.size());
    return info;
}

class ImageEncoder : public InputEncoder {
public:
    ImageEncoder(const Section& data, const nlohmann::json& classes, const nlohmann::json& stats)
        : transforms_(data.field("item")) {
        info_ = infoFrom(classes, stats);
        info_.itemShape = stats.at("item_shape").get<std::vector<int64_t>>();
        block_.channels = stats.value("channels", 3);
        if (stats.contains("size")) {
            block_.height = stats["size"][0].get<int>();
            block_.width = stats["size"][1].get<int>();
        }
        if (stats.value("normalize", false)) {
            mean_ = stats.at("mean").get<std::vector<float>>();
            std_ = stats.at("std").get<std::vector<float>>();
        }
    }
    const DataInfo& info() const override { return info_; }
    Inputs encode(const std::vector<std::filesystem::path>& inputs) const override {
        return encodeWith(inputs, false, 0, 0);
    }
    std::optional<Inputs> encodeAugmented(const std::vector<std::filesystem::path>& inputs, uint64_t seed,
                                          int64_t pass) const override {
        return encodeWith(inputs, true, seed, pass);
    }

private:
    // Item i of augmented copy `pass` draws from (seed, pass, i); the plain
    // copy is the validation form.
    Inputs encodeWith(const std::vector<std::filesystem::path>& inputs, bool training, uint64_t seed,
                      int64_t pass) const {
        auto items = fileImages(inputs, block_, transforms_.firstSize(), 0);
        const int64_t n = int64_t(inputs.size()), c = info_.itemShape[0], h = info_.itemShape[1],
                      w = info_.itemShape[2];
        Inputs out;
        out.batch.x = torch::empty({n, c, h, w}, torch::kFloat32);
        float* x = out.batch.x.data_ptr<float>();
        for (int64_t i = 0; i < n; ++i) {
            Rng rng(seed, uint64_t(pass), uint64_t(i));
            Image image = transforms_.apply(items->get(i), rng, training);
            if (image.channels != c || image.height != h || image.width != w)
                throw RuntimeError("image `" + inputs[size_t(i)].string() + "` is " + std::to_string(image.height) +
                                   "×" + std::to_string(image.width) +
                                   " after the item transforms, but the model was "
                                   "trained on " +
                                   std::to_string(h) + "×" + std::to_string(w) +
                                   "; add `resize(...)` to the data's `item` transforms.");
            toFloat(image, x + i * c * h * w, mean_.empty() ? nullptr : mean_.data(),
                    std_.empty() ? nullptr : std_.data());
            out.batch.index.push_back(i);
            out.names.push_back(inputs[size_t(i)].string());
        }
        return out;
    }

    DataInfo info_;
    ImageBlock block_;
    ItemTransforms transforms_;
    std::vector<float> mean_, std_;
};

class TabularEncoder : public InputEncoder {
public:
    TabularEncoder(const Section& data, const nlohmann::json& classes, const nlohmann::json& stats) {
        info_ = infoFrom(classes, stats);
        const Value* source = data.field("source");
        if (callName(source) == "csv") {
            std::string d = stringArg(source, "delimiter");
            delimiter_ = d.empty() ? ',' : d[0];
        }
        stats_.features = stats.at("features").get<std::vector<std::string>>();
        for (const auto& c : stats.at("continuous")) {
            stats_.cont.push_back(c.at("name").get<std::string>());
            stats_.medians.push_back(c.at("median").get<double>());
            stats_.means.push_back(c.at("mean").get<double>());
            stats_.stds.push_back(c.at("std").get<double>());
            stats_.indicator.push_back(c.value("indicator", -1));
        }
        for (const auto& c : stats.at("categorical")) {
            stats_.cat.push_back(c.at("name").get<std::string>());
            stats_.categories.push_back(c.at("categories").get<std::vector<std::string>>());
            info_.cardinalities.push_back(int64_t(stats_.categories.back().size()) + 1);
        }
        info_.itemShape = {stats_.featureCount()};
        info_.continuous = stats_.featureCount();
    }
    const DataInfo& info() const override { return info_; }
    Inputs encode(const std::vector<std::filesystem::path>& inputs) const override {
        std::vector<float> x;
        std::vector<int64_t> codes;
        Inputs out;
        for (const auto& path : inputs) {
            std::string ext = path.extension().string();
            Table table = ext == ".json"    ? readJsonArray(path)
                          : ext == ".jsonl" ? readJsonLines(path)
                                            : readCsv(path, ext == ".tsv" ? '\t' : delimiter_, true);
            Tabular t = applyTabular(table, stats_);
            for (const auto& value : t.unseen)
                std::fprintf(stderr, "note: %s: %s was never seen in training; it is read as an unknown value\n",
                             path.c_str(), value.c_str());
            x.insert(x.end(), t.x.begin(), t.x.end());
            codes.insert(codes.end(), t.codes.begin(), t.codes.end());
            for (int64_t r = 0; r < table.size(); ++r)
                out.names.push_back(path.string() + " line " + std::to_string(table.lines[size_t(r)]));
        }
        const int64_t n = int64_t(out.names.size()), f = stats_.featureCount(), k = int64_t(stats_.cat.size());
        out.batch.x = torch::from_blob(x.data(), {n, f}, torch::kFloat32).clone();
        out.batch.xCat = torch::from_blob(codes.data(), {n, k}, torch::kInt64).clone();
        for (int64_t i = 0; i < n; ++i) out.batch.index.push_back(i);
        return out;
    }

private:
    DataInfo info_;
    TabularStats stats_;
    char delimiter_ = ',';
};

// Text: each input is a text to classify, or a `.txt` file whose non-blank
// lines are texts; encoded with the run's tokenizer and cut to max_len.
class TextEncoder : public InputEncoder {
public:
    TextEncoder(const nlohmann::json& classes, const nlohmann::json& stats, const std::filesystem::path& runDir) {
        info_ = infoFrom(classes, stats);
        info_.context = stats.at("context").get<int64_t>();
        info_.vocab = stats.at("vocab").get<int64_t>();
        info_.padId = stats.value("pad_id", int64_t(0));
        info_.clsPosition = stats.value("cls_position", int64_t(0));
        info_.itemShape = {info_.context};
        tokenizer_ = Tokenizer::load(runDir / stats.at("tokenizer").get<std::string>());
    }
    const DataInfo& info() const override { return info_; }
    Inputs encode(const std::vector<std::filesystem::path>& inputs) const override {
        std::vector<std::vector<int64_t>> ids;
        Inputs out;
        auto add = [&](const std::string& text, std::string name) {
            requireUtf8(text, name, 1);
            if (text.find_first_not_of(" \t\r\n") == std::string::npos)
                throw RuntimeError("the text " + name + " is empty; give some text to classify.");
            bool cut = false;
            auto item = tokenizer_->encodeForModel(text, info_.context, &cut);
            if (item.empty()) throw RuntimeError("the text " + name + " is empty; give some text to classify.");
            ids.push_back(std::move(item));
            out.names.push_back(std::move(name));
        };
        for (const auto& input : inputs) {
            const std::string given = input.string();
            std::error_code error;
            if (input.extension() == ".txt" && std::filesystem::is_regular_file(input, error)) {
                Table lines = readLines(input);
                for (int64_t r = 0; r < lines.size(); ++r)
                    add(lines.cell(r, 0), given + " line " + std::to_string(lines.lines[size_t(r)]));
            } else {
                add(given, "\"" + (given.size() > 40 ? given.substr(0, 37) + "..." : given) + "\"");
            }
        }
        std::vector<int64_t> positions(ids.size());
        std::iota(positions.begin(), positions.end(), int64_t(0));
        out.batch = textBatch(ids, positions, info_.padId);
        return out;
    }

private:
    DataInfo info_;
    std::shared_ptr<Tokenizer> tokenizer_;
};

}  // namespace

std::unique_ptr<InputEncoder> loadInputEncoder(const Section& data, const std::filesystem::path& baseDir,
                                               const std::filesystem::path& runDir) {
    (void)baseDir;  // inputs are given as paths already; kept for sources that will need it
    auto classes = readRunJson(runDir, "classes.json");
    auto stats = readRunJson(runDir, "stats.json");
    std::string input = stats.value("input", "");
    try {
        if (input == "image") return std::make_unique<ImageEncoder>(data, classes, stats);
        if (input == "tabular") return std::make_unique<TabularEncoder>(data, classes, stats);
        if (input == "text") return std::make_unique<TextEncoder>(classes, stats, runDir);
        if (input == "audio") return audioEncoder(data, classes, stats);
        if (input == "video") return videoEncoder(data, classes, stats);
        if (input == "series") return seriesEncoder(data, stats);
    } catch (const nlohmann::json::exception& e) {
        throw RuntimeError("`" + (runDir / "stats.json").string() + "` is incomplete (" + e.what() +
                           "); rerun the training.");
    }
    throw RuntimeError("`" + (runDir / "stats.json").string() +
                       "` does not say what the inputs are; rerun the training.");
}

}  // namespace pipelang::runtime
