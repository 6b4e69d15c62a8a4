// Video data: clips from a folder or a table of paths, labelled as images
// are, split, a few frames taken from each (video.h), every frame through the
// image item transforms (one draw per clip, so that all its frames move
// alike), normalised per channel and served as {frames, C, H, W} items;
// `pipe predict` reads clips the same way.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <mutex>

#include "runtime/data/channel_stats.h"
#include "runtime/data/loader.h"
#include "runtime/data/prepared.h"
#include "runtime/data/transforms.h"
#include "runtime/data/video.h"
#include "runtime/data/video_encoder.h"
#include "runtime/data/views.h"
#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

constexpr int64_t kClipCacheBytes = int64_t(1) << 30;  // sampled frames kept, when the same every epoch
constexpr int64_t kClipStatsItems = 200;               // training clips measured for normalize()

// The clips of a listing: their frame times, probed once, and their sampled
// frames, decoded when asked for. Frames spread over the whole clip are the
// same every epoch and are kept (up to kClipCacheBytes); frames at a rate
// start at a random place in training and are decoded each time. Safe from
// many threads.
class ClipItems {
public:
    ClipItems(std::vector<std::filesystem::path> paths, VideoBlock block, int64_t cacheBytes)
        : paths_(std::move(paths)),
          block_(block),
          cacheBytes_(block.fps ? 0 : cacheBytes),
          times_(paths_.size()),
          frames_(paths_.size()) {}
    int64_t size() const { return int64_t(paths_.size()); }
    const std::filesystem::path& path(int64_t i) const { return paths_[size_t(i)]; }

    // Item `i`'s frames; `random` places a rate's window in training.
    std::vector<Image> get(int64_t i, Rng* random) const {
        auto& lock = locks_[size_t(i) % locks_.size()];
        std::shared_ptr<const std::vector<double>> times;
        {
            std::lock_guard guard(lock);
            if (frames_[size_t(i)]) return *frames_[size_t(i)];
            times = times_[size_t(i)];
        }
        if (!times) {
            times = std::make_shared<const std::vector<double>>(probeVideo(paths_[size_t(i)]).seconds);
            std::lock_guard guard(lock);
            times_[size_t(i)] = times;
        }
        auto frames = std::make_shared<const std::vector<Image>>(
            decodeFrames(paths_[size_t(i)], chooseFrames(*times, block_, random), block_));
        int64_t bytes = 0;
        for (const Image& frame : *frames) bytes += int64_t(frame.pixels.size());
        if (cacheBytes_ > 0 && held_.load() + bytes <= cacheBytes_) {
            std::lock_guard guard(lock);
            if (!frames_[size_t(i)]) {
                frames_[size_t(i)] = frames;
                held_ += bytes;
            }
        }
        return *frames;
    }

private:
    std::vector<std::filesystem::path> paths_;
    VideoBlock block_;
    int64_t cacheBytes_;
    mutable std::vector<std::shared_ptr<const std::vector<double>>> times_;
    mutable std::vector<std::shared_ptr<const std::vector<Image>>> frames_;
    mutable std::array<std::mutex, 64> locks_;
    mutable std::atomic<int64_t> held_{0};
};

// A clip's frames through the item transforms as one: every frame draws
// from a copy of the same generator, so a flip or a crop is the same for all.
torch::Tensor clipTensor(const std::vector<Image>& frames, const ItemTransforms& transforms, Rng* rng, bool training,
                         const std::string& name) {
    std::vector<Image> out;
    Rng unused(0);
    for (const Image& frame : frames) {
        Rng draw = rng ? *rng : unused;
        out.push_back(transforms.apply(frame, draw, training));
        if (out.back().channels != out[0].channels || out.back().height != out[0].height ||
            out.back().width != out[0].width)
            throw RuntimeError("video file `" + name + "` has frames of different sizes after the item transforms; " +
                               "give the block a `size` or add `resize(...)`.");
    }
    const int64_t c = out[0].channels, h = out[0].height, w = out[0].width;
    torch::Tensor x = torch::empty({int64_t(out.size()), c, h, w}, torch::kFloat32);
    float* data = x.data_ptr<float>();
    for (size_t t = 0; t < out.size(); ++t) toFloat(out[t], data + int64_t(t) * c * h * w);
    return x;
}

// (x − mean) / std for each channel of {T, C, H, W}.
void normalizeClip(torch::Tensor& x, const std::vector<float>& mean, const std::vector<float>& std) {
    for (size_t c = 0; c < mean.size(); ++c) x.select(1, int64_t(c)).sub_(mean[c]).div_(std[c]);
}

std::string shapeWords(const std::vector<int64_t>& shape) {
    std::string out;
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? "×" : "") + std::to_string(shape[i]);
    return out;
}

// Reads the batch transforms of video data: `normalize()` alone.
const Value* normalizeCall(const Value* batches) {
    const Value* normalize = nullptr;
    for (const Value* call : calls(batches)) {
        if (callName(call) != "normalize")
            throw RuntimeError("`" + call->text + "` is not a batch transform for video; use `normalize()`.");
        normalize = call;
    }
    return normalize;
}

struct ClipSplit {
    std::vector<int64_t> rows;
    torch::Tensor y;
};

class VideoData : public PreparedData, public ItemViews {
public:
    VideoData(const DataRequest& request, VideoBlock block, std::shared_ptr<ClipItems> items,
              std::array<ClipSplit, 3> splits, Targets targets)
        : name_(request.name()),
          seed_(request.seed),
          block_(block),
          transforms_(request.items),
          items_(std::move(items)),
          splits_(std::move(splits)) {
        info_.target = targets.kind;
        info_.classes = targets.classes;
        info_.outputs = targets.kind == "number" ? 1 : int64_t(targets.classes.size());
        if (splits_[0].rows.empty())
            throw RuntimeError("data `" + name_ + "` has no training items; check the source and the split.");
        info_.itemShape = itemOf(splits_[0].rows[0], nullptr, false).sizes().vec();
        info_.input = "video";
        info_.folds = request.split ? foldCount(*request.split) : 0;
        if (const Value* normalize = normalizeCall(request.batches)) {
            const int64_t channels = info_.itemShape[1];
            std::tie(mean_, std_) = normalization(normalize, size_t(channels), [&] {
                return channelStats(statsSample(splits_[0].rows, kClipStatsItems, seed_), channels, [&](int64_t row) {
                    return itemOf(row, nullptr, false).transpose(0, 1);  // {C, T, H, W}
                });
            });
        }
    }

    const DataInfo& info() const override { return info_; }
    int64_t size(Split split) const override { return int64_t(splits_[size_t(split)].rows.size()); }

    std::unique_ptr<Loader> loader(Split split, int64_t batchSize, int64_t workers) const override {
        bool training = split == Split::Train;
        LoaderOptions options = splitLoaderOptions(size(split), batchSize, workers, training, seed_);
        const ClipSplit* data = &splits_[size_t(split)];
        return std::make_unique<ThreadedLoader>(options, [this, data, training](const auto& positions, int64_t epoch) {
            return makeBatch(*data, positions, epoch, training);
        });
    }

    void save(const std::filesystem::path& runDir) const override {
        writeClasses(runDir, info_);
        nlohmann::ordered_json stats;
        stats["input"] = "video";
        stats["frames"] = block_.frames;
        if (block_.fps) stats["fps"] = *block_.fps;
        stats["channels"] = block_.channels;
        stats["size"] = {block_.height, block_.width};
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

    // The clip's frames in reading order on a near-square grid (8 frames: 3
    // by 3, the last cell empty), a grey line between them, normalisation undone.
    ItemView view(const Batch& batch, int64_t j) const override {
        torch::Tensor x = batch.x[j].detach().to(torch::kCPU, torch::kFloat32).clone();  // {T, C, H, W}
        for (size_t c = 0; c < mean_.size(); ++c) x.select(1, int64_t(c)).mul_(std_[c]).add_(mean_[c]);
        x = (x * 255).round().clamp(0, 255).to(torch::kUInt8).contiguous();
        const int frames = int(x.size(0)), channels = int(x.size(1)), height = int(x.size(2)), width = int(x.size(3));
        const int columns = int(std::ceil(std::sqrt(double(frames)))), rows = (frames + columns - 1) / columns;
        ItemView item;
        item.picture = Image(channels, rows * (height + 1) - 1, columns * (width + 1) - 1, 128);
        const uint8_t* in = x.data_ptr<uint8_t>();
        for (int t = 0; t < frames; ++t)
            for (int c = 0; c < channels; ++c)
                for (int r = 0; r < height; ++r)
                    std::copy_n(in + ((size_t(t) * channels + c) * height + r) * width, width,
                                &item.picture.at(c, (t / columns) * (height + 1) + r, (t % columns) * (width + 1)));
        return item;
    }

private:
    torch::Tensor itemOf(int64_t row, Rng* rng, bool training) const {
        const std::string name = items_->path(row).string();
        return clipTensor(items_->get(row, training ? rng : nullptr), transforms_, rng, training, name);
    }

    Batch makeBatch(const ClipSplit& data, const std::vector<int64_t>& positions, int64_t epoch, bool training) const {
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
                throw RuntimeError("video file `" + items_->path(row).string() + "` gives an item of " +
                                   shapeWords(x.sizes().vec()) + " after the item transforms, but the first " +
                                   "training file gives " + shapeWords(info_.itemShape) +
                                   "; give the video block a `size` so that every clip's frames agree.");
            if (!mean_.empty()) normalizeClip(x, mean_, std_);
            batch.x[j].copy_(x);
        }
        batch.y = gatherRows(data.y, positions);
        batch.index = positions;
        return batch;
    }

    std::string name_;
    uint64_t seed_;
    VideoBlock block_;
    ItemTransforms transforms_;
    std::shared_ptr<ClipItems> items_;
    std::array<ClipSplit, 3> splits_;
    DataInfo info_;
    std::vector<float> mean_, std_;
};

std::unique_ptr<PreparedData> prepareVideo(const DataRequest& request) {
    const VideoBlock block = videoBlock(request.input);
    LabelledFiles files = labelledFiles(request, "video file", "`folder(..., extensions = [\".mp4\", \".webm\"])`",
                                        [&](const std::filesystem::path& path) { readClip(path, block, nullptr); });
    auto items = std::make_shared<ClipItems>(files.listing.paths, block, request.cache ? kClipCacheBytes : 0);
    Targets targets =
        encodeTargets(callName(request.target), files.labels, files.sides, labelDelimiter(request.target), {});
    std::array<ClipSplit, 3> splits;
    std::array<std::vector<int64_t>, 3> positions;
    for (int64_t i = 0; i < int64_t(files.sides.size()); ++i) {
        if (files.sides[size_t(i)] == Side::None) continue;
        size_t s = size_t(files.sides[size_t(i)]);
        positions[s].push_back(i);
        splits[s].rows.push_back(i);
    }
    for (size_t s = 0; s < 3; ++s) splits[s].y = targetTensor(targets, positions[s]);
    return std::make_unique<VideoData>(request, block, std::move(items), std::move(splits), std::move(targets));
}

const BlockMakers::Add kVideo{"video", {prepareVideo}};

// `pipe predict` on clips: their frames taken as validation items take
// them (a rate's window centred), transformed and normalised with the
// run's statistics.
class VideoEncoder : public InputEncoder {
public:
    VideoEncoder(const Section& data, const nlohmann::json& classes, const nlohmann::json& stats)
        : transforms_(data.field("item")) {
        info_.target = classes.value("target", "");
        info_.classes = classes.value("classes", std::vector<std::string>{});
        info_.outputs = info_.target == "number" ? 1 : int64_t(info_.classes.size());
        info_.itemShape = stats.at("item_shape").get<std::vector<int64_t>>();
        info_.input = "video";
        block_.frames = stats.at("frames").get<int64_t>();
        if (stats.contains("fps")) block_.fps = stats.at("fps").get<double>();
        block_.channels = stats.at("channels").get<int>();
        block_.height = stats.at("size")[0].get<int>();
        block_.width = stats.at("size")[1].get<int>();
        if (stats.value("normalize", false)) {
            mean_ = stats.at("mean").get<std::vector<float>>();
            std_ = stats.at("std").get<std::vector<float>>();
        }
    }
    const DataInfo& info() const override { return info_; }
    Inputs encode(const std::vector<std::filesystem::path>& inputs) const override {
        Inputs out;
        std::vector<int64_t> shape = {int64_t(inputs.size())};
        shape.insert(shape.end(), info_.itemShape.begin(), info_.itemShape.end());
        out.batch.x = torch::empty(shape, torch::kFloat32);
        for (size_t i = 0; i < inputs.size(); ++i) {
            torch::Tensor x =
                clipTensor(readClip(inputs[i], block_, nullptr), transforms_, nullptr, false, inputs[i].string());
            if (x.sizes().vec() != info_.itemShape)
                throw RuntimeError("video file `" + inputs[i].string() + "` gives an item of " +
                                   shapeWords(x.sizes().vec()) + ", but the model was trained on " +
                                   shapeWords(info_.itemShape) + "; give the video block a `size`.");
            if (!mean_.empty()) normalizeClip(x, mean_, std_);
            out.batch.x[int64_t(i)].copy_(x);
            out.batch.index.push_back(int64_t(i));
            out.names.push_back(inputs[i].string());
        }
        return out;
    }

private:
    DataInfo info_;
    VideoBlock block_;
    ItemTransforms transforms_;
    std::vector<float> mean_, std_;
};

}  // namespace

std::unique_ptr<InputEncoder> videoEncoder(const Section& data, const nlohmann::json& classes,
                                           const nlohmann::json& stats) {
    return std::make_unique<VideoEncoder>(data, classes, stats);
}

}  // namespace pipelang::runtime
