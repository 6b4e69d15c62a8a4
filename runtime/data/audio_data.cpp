// Sound data: files from a folder or a table of paths, labelled as images
// are (parent_label, a column, ...), split, read at the block's rate and
// length, turned into spectrograms by the item transforms and served in
// batches; `pipe predict` reads sound files the same way.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <mutex>

#include "runtime/data/audio.h"
#include "runtime/data/audio_encoder.h"
#include "runtime/data/channel_stats.h"
#include "runtime/data/labels.h"
#include "runtime/data/loader.h"
#include "runtime/data/prepared.h"
#include "runtime/data/views.h"
#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

constexpr int64_t kSoundCacheBytes = int64_t(1) << 30;  // decoded, resampled clips kept
constexpr int64_t kSoundStatsItems = 1000;              // training items measured for normalize()

// The clips of a listing, read when asked for (at the block's rate and
// channels, full length), with a bounded cache. Safe from many threads.
class SoundItems {
public:
    SoundItems(std::vector<std::filesystem::path> paths, AudioBlock block, int64_t cacheBytes)
        : paths_(std::move(paths)),
          block_(block),
          cacheBytes_(cacheBytes),
          cache_(cacheBytes > 0 ? paths_.size() : 0) {}
    int64_t size() const { return int64_t(paths_.size()); }
    const std::filesystem::path& path(int64_t i) const { return paths_[size_t(i)]; }
    torch::Tensor get(int64_t i) const {
        auto& lock = locks_[size_t(i) % locks_.size()];
        if (!cache_.empty()) {
            std::lock_guard guard(lock);
            if (cache_[size_t(i)].defined()) return cache_[size_t(i)];
        }
        torch::Tensor wave = loadSound(paths_[size_t(i)], block_);
        const int64_t bytes = wave.numel() * int64_t(sizeof(float));
        if (!cache_.empty() && held_.load() + bytes <= cacheBytes_) {
            std::lock_guard guard(lock);
            if (!cache_[size_t(i)].defined()) {
                cache_[size_t(i)] = wave;
                held_ += bytes;
            }
        }
        return wave;
    }

private:
    std::vector<std::filesystem::path> paths_;
    AudioBlock block_;
    int64_t cacheBytes_;
    mutable std::vector<torch::Tensor> cache_;
    mutable std::array<std::mutex, 64> locks_;
    mutable std::atomic<int64_t> held_{0};
};

struct SoundSplit {
    std::vector<int64_t> rows;  // the split's items, as indices into the items
    torch::Tensor y;
};

// Normalisation of each channel of an item: (x − mean) / std.
void normalizeSound(torch::Tensor& x, const std::vector<float>& mean, const std::vector<float>& std) {
    for (size_t c = 0; c < mean.size(); ++c) x[int64_t(c)].sub_(mean[c]).div_(std[c]);
}

std::string soundShapeWords(const std::vector<int64_t>& shape) {
    std::string out;
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? "×" : "") + std::to_string(shape[i]);
    return out;
}

// A grey picture of a spectrogram item (channels averaged, low frequencies
// at the bottom, scaled from its minimum to its maximum), or of a waveform
// (its envelope, 96 rows high, a column per stretch of samples).
Image soundPicture(const torch::Tensor& item) {
    torch::Tensor x = item.detach().to(torch::kCPU, torch::kFloat32);
    if (x.dim() == 3) {
        torch::Tensor s = x.mean(0).flip({0}).contiguous();
        float lo = s.min().item<float>(), hi = s.max().item<float>();
        float scale = hi > lo ? 255.f / (hi - lo) : 0.f;
        Image picture(1, int(s.size(0)), int(s.size(1)));
        const float* in = s.data_ptr<float>();
        for (size_t i = 0; i < picture.pixels.size(); ++i)
            picture.pixels[i] = uint8_t(std::clamp(std::lround((in[i] - lo) * scale), 0L, 255L));
        return picture;
    }
    torch::Tensor w = x.mean(0).contiguous();
    const int64_t n = w.size(0);
    const int width = int(std::clamp<int64_t>(n, 1, 512)), height = 96;
    float peak = std::max(w.abs().max().item<float>(), 1e-6f);
    Image picture(1, height, width, 255);
    const float* in = w.data_ptr<float>();
    for (int col = 0; col < width; ++col) {
        int64_t from = n * col / width, to = std::max(from + 1, n * (col + 1) / width);
        float lo = in[from], hi = in[from];
        for (int64_t i = from; i < to; ++i) lo = std::min(lo, in[i]), hi = std::max(hi, in[i]);
        auto row = [&](float v) {
            return std::clamp(int(std::lround((1 - v / peak) * (height - 1) / 2)), 0, height - 1);
        };
        for (int r = row(hi); r <= row(lo); ++r) picture.at(0, r, col) = 0;
    }
    return picture;
}

class AudioData : public PreparedData, public ItemViews {
public:
    AudioData(const DataRequest& request, AudioBlock block, std::shared_ptr<SoundItems> items,
              std::array<SoundSplit, 3> splits, Targets targets)
        : name_(request.name()),
          seed_(request.seed),
          block_(block),
          transforms_(request.items, block.sampleRate),
          items_(std::move(items)),
          splits_(std::move(splits)) {
        info_.target = targets.kind;
        info_.classes = targets.classes;
        info_.outputs = targets.kind == "number" ? 1 : int64_t(targets.classes.size());
        const SoundSplit& train = splits_[0];
        if (train.rows.empty())
            throw RuntimeError("data `" + name_ + "` has no training items; check the source and the split.");
        firstChannels_ = items_->get(train.rows[0]).size(0);
        torch::Tensor first = itemOf(train.rows[0], nullptr, false);
        info_.itemShape = first.sizes().vec();
        info_.input = first.dim() == 3 ? "image" : "audio";
        info_.folds = request.split ? foldCount(*request.split) : 0;
        readNormalize(request.batches);
    }

    const DataInfo& info() const override { return info_; }
    int64_t size(Split split) const override { return int64_t(splits_[size_t(split)].rows.size()); }

    std::unique_ptr<Loader> loader(Split split, int64_t batchSize, int64_t workers) const override {
        bool training = split == Split::Train;
        LoaderOptions options = splitLoaderOptions(size(split), batchSize, workers, training, seed_);
        const SoundSplit* data = &splits_[size_t(split)];
        return std::make_unique<ThreadedLoader>(options, [this, data, training](const auto& positions, int64_t epoch) {
            return makeBatch(*data, positions, epoch, training);
        });
    }

    void save(const std::filesystem::path& runDir) const override {
        writeClasses(runDir, info_);
        nlohmann::ordered_json stats;
        stats["input"] = "audio";
        stats["sample_rate"] = block_.sampleRate;
        stats["channels"] = block_.mono ? "mono" : "all";
        stats["samples"] = block_.samples;
        stats["item_shape"] = info_.itemShape;
        stats["normalize"] = !mean_.empty();
        if (!mean_.empty()) {
            stats["mean"] = mean_;
            stats["std"] = std_;
        }
        writeJson(runDir, "stats.json", stats.dump(2));
    }

    std::string itemName(Split split, int64_t position) const override {
        return items_->path(splits_[size_t(split)].rows.at(size_t(position))).string();
    }

    ItemView view(const Batch& batch, int64_t j) const override {
        torch::Tensor x = batch.x[j].detach().to(torch::kCPU, torch::kFloat32).clone();
        for (size_t c = 0; c < mean_.size(); ++c) x[int64_t(c)].mul_(std_[c]).add_(mean_[c]);
        ItemView item;
        item.picture = soundPicture(x);
        return item;
    }

private:
    // Item `row` after the block and the item transforms.
    torch::Tensor itemOf(int64_t row, Rng* rng, bool training) const {
        torch::Tensor wave = items_->get(row);
        if (wave.size(0) != firstChannels_)
            throw RuntimeError("sound file `" + items_->path(row).string() + "` has " + std::to_string(wave.size(0)) +
                               " channels, but the first training file has " + std::to_string(firstChannels_) +
                               "; set `channels = \"mono\"` in the audio block to average them into one.");
        Rng unused(0);
        wave = fitDuration(wave, block_.samples, training ? rng : nullptr);
        return transforms_.apply(wave, rng ? *rng : unused, training).contiguous();
    }

    void readNormalize(const Value* batches) {
        const Value* normalize = nullptr;
        for (const Value* call : calls(batches)) {
            if (callName(call) != "normalize")
                throw RuntimeError("`" + call->text + "` is not a batch transform for sound; use `normalize()`.");
            normalize = call;
        }
        if (!normalize) return;
        const int64_t channels = info_.itemShape[0];
        std::tie(mean_, std_) = normalization(normalize, size_t(channels), [&] {
            // After the deterministic (validation) transforms.
            return channelStats(statsSample(splits_[0].rows, kSoundStatsItems, seed_), channels,
                                [&](int64_t row) { return itemOf(row, nullptr, false); });
        });
    }

    Batch makeBatch(const SoundSplit& data, const std::vector<int64_t>& positions, int64_t epoch, bool training) const {
        const int64_t b = int64_t(positions.size());
        std::vector<int64_t> shape = {b};
        shape.insert(shape.end(), info_.itemShape.begin(), info_.itemShape.end());
        Batch batch;
        batch.x = torch::empty(shape, torch::kFloat32);
        for (int64_t j = 0; j < b; ++j) {
            int64_t row = data.rows[size_t(positions[size_t(j)])];
            Rng rng(seed_, uint64_t(epoch), uint64_t(row));
            torch::Tensor x = itemOf(row, &rng, training);
            if (x.sizes().vec() != info_.itemShape)
                throw RuntimeError("sound file `" + items_->path(row).string() + "` gives an item of " +
                                   soundShapeWords(x.sizes().vec()) + " after the item transforms, but the first " +
                                   "training file gives " + soundShapeWords(info_.itemShape) +
                                   "; check the audio block.");
            if (!mean_.empty()) normalizeSound(x, mean_, std_);
            batch.x[j].copy_(x);
        }
        batch.y = gatherRows(data.y, positions);
        batch.index = positions;
        return batch;
    }

    std::string name_;
    uint64_t seed_;
    AudioBlock block_;
    AudioTransforms transforms_;
    std::shared_ptr<SoundItems> items_;
    std::array<SoundSplit, 3> splits_;
    DataInfo info_;
    int64_t firstChannels_ = 1;
    std::vector<float> mean_, std_;
};

std::unique_ptr<PreparedData> prepareAudio(const DataRequest& request) {
    const AudioBlock block = audioBlock(request.input);
    const std::string kind = callName(request.target);

    LabelledFiles files =
        labelledFiles(request, "sound file", "`folder(..., extensions = [\".wav\", \".flac\", \".ogg\"])`",
                      [](const std::filesystem::path& path) {
                          int64_t rate = 0;
                          readSound(path, rate);
                      });
    const Listing& listing = files.listing;
    const std::vector<std::string>& labels = files.labels;
    const std::vector<Side>& sides = files.sides;
    auto items = std::make_shared<SoundItems>(listing.paths, block, request.cache ? kSoundCacheBytes : 0);

    Targets targets = encodeTargets(kind, labels, sides, labelDelimiter(request.target), {});
    std::array<SoundSplit, 3> splits;
    std::array<std::vector<int64_t>, 3> positions;
    for (int64_t i = 0; i < int64_t(sides.size()); ++i) {
        if (sides[size_t(i)] == Side::None) continue;
        size_t s = size_t(sides[size_t(i)]);
        positions[s].push_back(i);
        splits[s].rows.push_back(i);
    }
    for (size_t s = 0; s < 3; ++s) splits[s].y = targetTensor(targets, positions[s]);
    return std::make_unique<AudioData>(request, block, std::move(items), std::move(splits), std::move(targets));
}

const BlockMakers::Add kAudio{"audio", {prepareAudio}};

// `pipe predict` on sound files: read as validation items are (the middle
// of a longer clip), transformed and normalised with the run's statistics.
class AudioEncoder : public InputEncoder {
public:
    AudioEncoder(const Section& data, const nlohmann::json& classes, const nlohmann::json& stats) {
        info_.target = classes.value("target", "");
        info_.classes = classes.value("classes", std::vector<std::string>{});
        info_.outputs = info_.target == "number" ? 1 : int64_t(info_.classes.size());
        info_.itemShape = stats.at("item_shape").get<std::vector<int64_t>>();
        info_.input = info_.itemShape.size() == 3 ? "image" : "audio";
        block_.sampleRate = stats.at("sample_rate").get<int64_t>();
        block_.mono = stats.at("channels").get<std::string>() == "mono";
        block_.samples = stats.at("samples").get<int64_t>();
        if (stats.value("normalize", false)) {
            mean_ = stats.at("mean").get<std::vector<float>>();
            std_ = stats.at("std").get<std::vector<float>>();
        }
        transforms_ = AudioTransforms(data.field("item"), block_.sampleRate);
    }
    const DataInfo& info() const override { return info_; }
    Inputs encode(const std::vector<std::filesystem::path>& inputs) const override {
        Inputs out;
        std::vector<int64_t> shape = {int64_t(inputs.size())};
        shape.insert(shape.end(), info_.itemShape.begin(), info_.itemShape.end());
        out.batch.x = torch::empty(shape, torch::kFloat32);
        Rng unused(0);
        for (size_t i = 0; i < inputs.size(); ++i) {
            torch::Tensor wave = fitDuration(loadSound(inputs[i], block_), block_.samples, nullptr);
            torch::Tensor x = transforms_.apply(wave, unused, false).contiguous();
            if (x.sizes().vec() != info_.itemShape)
                throw RuntimeError("sound file `" + inputs[i].string() + "` gives an item of " +
                                   soundShapeWords(x.sizes().vec()) + ", but the model was trained on " +
                                   soundShapeWords(info_.itemShape) + "; give a file with as many channels.");
            if (!mean_.empty()) normalizeSound(x, mean_, std_);
            out.batch.x[int64_t(i)].copy_(x);
            out.batch.index.push_back(int64_t(i));
            out.names.push_back(inputs[i].string());
        }
        return out;
    }

private:
    DataInfo info_;
    AudioBlock block_;
    AudioTransforms transforms_;
    std::vector<float> mean_, std_;
};

}  // namespace

std::unique_ptr<InputEncoder> audioEncoder(const Section& data, const nlohmann::json& classes,
                                           const nlohmann::json& stats) {
    return std::make_unique<AudioEncoder>(data, classes, stats);
}

}  // namespace pipelang::runtime
