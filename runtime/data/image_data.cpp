// Image data: items from IDX files, an image folder or a table of paths;
// labelled, split, measured on the training split and served in batches.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <thread>

#include "runtime/data/channel_stats.h"
#include "runtime/data/idx.h"
#include "runtime/data/image_items.h"
#include "runtime/data/labels.h"
#include "runtime/data/loader.h"
#include "runtime/data/mix.h"
#include "runtime/data/prepared.h"
#include "runtime/data/random.h"
#include "runtime/data/transforms.h"
#include "runtime/data/views.h"
#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

// Image batches are converted and normalised in one pass (toFloat), so
// normalize's maker hands over the call whose settings that pass reads; the
// mixing transforms (mix.h) hand over what they do to a training batch.
struct BatchStep {
    const Value* normalize = nullptr;
    void (*mix)(Batch& batch, double alpha, Rng& rng) = nullptr;
    double alpha = 0;
};
using BatchMaker = BatchStep (*)(const Value& call);
using BatchMakers = stdlib::Implementations<stdlib::Family::Batch, BatchMaker>;
const BatchMakers::Add kNormalize{"normalize", [](const Value& call) { return BatchStep{&call}; }};
const BatchMakers::Add kMixUp{"mixup", [](const Value& call) {
                                  return BatchStep{nullptr, mixUp, numberArg(&call, "alpha")};
                              }};
const BatchMakers::Add kCutMix{"cutmix", [](const Value& call) {
                                   return BatchStep{nullptr, cutMix, numberArg(&call, "alpha")};
                               }};

constexpr int64_t kCacheBytes = int64_t(1) << 30;  // decoded images kept from a folder
constexpr int64_t kStatsInMemory = 10000;          // items measured for normalize(), in memory
constexpr int64_t kStatsStreamed = 1000;           // ... and when decoded from files

struct ImageSplit {
    std::shared_ptr<ImageItems> items;
    std::vector<int64_t> rows;  // the split's items, as indices into `items`
    torch::Tensor y;            // their targets
};

class ImageData : public PreparedData, public ItemViews {
public:
    ImageData(const DataRequest& request, ImageBlock block, std::array<ImageSplit, 3> splits, Targets targets)
        : name_(request.name()),
          seed_(request.seed),
          block_(block),
          transforms_(request.items),
          splits_(std::move(splits)) {
        info_.input = "image";
        info_.target = targets.kind;
        info_.classes = targets.classes;
        info_.outputs = targets.kind == "number" ? 1 : int64_t(targets.classes.size());
        const ImageSplit& train = splits_[0];
        if (train.rows.empty())
            throw RuntimeError("data `" + name_ + "` has no training items; check the source and the split.");
        Rng unused(0);
        Image first = transforms_.apply(train.items->get(train.rows[0]), unused, false);
        info_.itemShape = {first.channels, first.height, first.width};
        info_.folds = request.split ? foldCount(*request.split) : 0;
        readNormalize(request.batches);
    }

    const DataInfo& info() const override { return info_; }
    int64_t size(Split split) const override { return int64_t(splits_[size_t(split)].rows.size()); }

    std::unique_ptr<Loader> loader(Split split, int64_t batchSize, int64_t workers) const override {
        bool training = split == Split::Train;
        LoaderOptions options = splitLoaderOptions(size(split), batchSize, workers, training, seed_);
        const ImageSplit* data = &splits_[size_t(split)];
        return std::make_unique<ThreadedLoader>(options, [this, data, training](const auto& positions, int64_t epoch) {
            return makeBatch(*data, positions, epoch, training, training);
        });
    }

    std::unique_ptr<Loader> augmentedLoader(Split split, int64_t batchSize, int64_t workers,
                                            int64_t pass) const override {
        LoaderOptions options = splitLoaderOptions(size(split), batchSize, workers, false, seed_);
        const ImageSplit* data = &splits_[size_t(split)];
        // Pass k draws its items' transforms as an epoch numbered past any
        // training epoch would; nothing is mixed.
        const int64_t epoch = kAugmentedEpochs + pass;
        return std::make_unique<ThreadedLoader>(options, [this, data, epoch](const auto& positions, int64_t) {
            return makeBatch(*data, positions, epoch, true, false);
        });
    }

    void save(const std::filesystem::path& runDir) const override {
        writeClasses(runDir, info_);
        nlohmann::ordered_json stats;
        stats["input"] = "image";
        stats["channels"] = block_.channels;
        if (block_.height > 0) stats["size"] = {block_.height, block_.width};
        stats["item_shape"] = info_.itemShape;
        stats["normalize"] = normalize_;
        if (normalize_) {
            stats["mean"] = mean_;
            stats["std"] = std_;
        }
        writeJson(runDir, "stats.json", stats.dump(2));
    }

    std::string itemName(Split split, int64_t position) const override {
        const ImageSplit& data = splits_[size_t(split)];
        return data.items->describe(data.rows.at(size_t(position)));
    }

    // The item's pixels after the item transforms, with the batch's
    // normalisation undone and rounded back to 8 bits.
    ItemView view(const Batch& batch, int64_t j) const override {
        torch::Tensor x = batch.x[j].detach().to(torch::kCPU, torch::kFloat32).contiguous();
        ItemView item;
        item.picture = Image(int(x.size(0)), int(x.size(1)), int(x.size(2)));
        const float* in = x.data_ptr<float>();
        const size_t plane = size_t(x.size(1)) * size_t(x.size(2));
        for (int c = 0; c < item.picture.channels; ++c) {
            float scale = normalize_ ? std_[size_t(c)] : 1.f, shift = normalize_ ? mean_[size_t(c)] : 0.f;
            uint8_t* out = item.picture.plane(c);
            for (size_t i = 0; i < plane; ++i)
                out[i] =
                    uint8_t(std::clamp(std::lround((in[size_t(c) * plane + i] * scale + shift) * 255.f), 0L, 255L));
        }
        return item;
    }

private:
    void readNormalize(const Value* batches) {
        const Value* normalize = nullptr;
        for (const Value* call : calls(batches)) {
            BatchStep step = makerOf<BatchMakers>(*call)(*call);
            if (step.normalize) normalize = step.normalize;
            if (step.mix) mix_ = step;
        }
        if (!normalize) return;
        normalize_ = true;
        std::tie(mean_, std_) = normalization(normalize, size_t(info_.itemShape[0]), [&] { return measure(); });
    }

    // Per-channel mean and standard deviation, in [0, 1] units, of the
    // training items after the deterministic (validation) transforms: every
    // item up to kStatsInMemory (kStatsStreamed when decoded from files),
    // else a seeded sample of that many. Sums are exact integers, so the
    // result does not depend on the thread count.
    std::pair<std::vector<double>, std::vector<double>> measure() const {
        const ImageSplit& train = splits_[0];
        const int64_t n = int64_t(train.rows.size());
        const int64_t cap = train.items->inMemory() ? kStatsInMemory : kStatsStreamed;
        std::vector<int64_t> sample;
        if (n <= cap) {
            sample = train.rows;
        } else {
            auto order = Rng(seed_, 0x7374617473).permutation(n);
            order.resize(size_t(cap));
            std::sort(order.begin(), order.end());
            for (int64_t i : order) sample.push_back(train.rows[size_t(i)]);
        }
        const size_t channels = size_t(info_.itemShape[0]);
        int threads = int(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 8));
        std::vector<std::vector<uint64_t>> sums(size_t(threads), std::vector<uint64_t>(2 * channels, 0));
        std::vector<uint64_t> counts(size_t(threads), 0);
        std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&, t] {
                try {
                    Rng unused(0);
                    for (size_t i = size_t(t); i < sample.size(); i += size_t(threads)) {
                        Image image = transforms_.apply(train.items->get(sample[i]), unused, false);
                        size_t plane = size_t(image.height) * image.width;
                        for (size_t c = 0; c < channels && c < size_t(image.channels); ++c) {
                            uint64_t s = 0, q = 0;
                            for (const uint8_t* p = image.plane(int(c)); p != image.plane(int(c)) + plane; ++p)
                                s += *p, q += uint64_t(*p) * *p;
                            sums[size_t(t)][2 * c] += s;
                            sums[size_t(t)][2 * c + 1] += q;
                        }
                        counts[size_t(t)] += plane;
                    }
                } catch (...) {
                    errors[size_t(t)] = std::current_exception();
                }
            });
        for (auto& thread : pool) thread.join();
        for (auto& error : errors)
            if (error) std::rethrow_exception(error);
        std::vector<double> mean(channels), std(channels);
        uint64_t count = 0;
        for (auto c : counts) count += c;
        for (size_t c = 0; c < channels; ++c) {
            uint64_t s = 0, q = 0;
            for (const auto& part : sums) s += part[2 * c], q += part[2 * c + 1];
            double m = double(s) / double(count) / 255.0;
            double v = double(q) / double(count) / (255.0 * 255.0) - m * m;
            mean[c] = m;
            std[c] = std::sqrt(std::max(0.0, v));
        }
        return {mean, std};
    }

    Batch makeBatch(const ImageSplit& data, const std::vector<int64_t>& positions, int64_t epoch, bool training,
                    bool mixes) const {
        const int64_t c = info_.itemShape[0], h = info_.itemShape[1], w = info_.itemShape[2];
        const int64_t b = int64_t(positions.size());
        Batch batch;
        batch.x = torch::empty({b, c, h, w}, torch::kFloat32);
        float* out = batch.x.data_ptr<float>();
        const size_t plane = size_t(h) * size_t(w);
        for (int64_t j = 0; j < b; ++j) {
            int64_t row = data.rows[size_t(positions[size_t(j)])];
            Rng rng(seed_, uint64_t(epoch), uint64_t(row));
            Image image = transforms_.apply(data.items->get(row), rng, training);
            if (image.channels != c || image.height != h || image.width != w)
                throw RuntimeError("image `" + data.items->describe(row) + "` is " + std::to_string(image.height) +
                                   "×" + std::to_string(image.width) +
                                   " after the item transforms, but the first "
                                   "training image is " +
                                   std::to_string(h) + "×" + std::to_string(w) +
                                   "; add `resize(...)` to `item` so that all images have one size.");
            toFloat(image, out + size_t(j) * size_t(c) * plane, normalize_ ? mean_.data() : nullptr,
                    normalize_ ? std_.data() : nullptr);
        }
        batch.y = gatherRows(data.y, positions);
        batch.index = positions;
        // mixup / cutmix: training batches only, drawn from (seed, epoch,
        // the batch's first position), which no two batches of an epoch share.
        if (mixes && mix_.mix) {
            Rng rng(seed_, uint64_t(epoch), kMixStream ^ uint64_t(positions.front()));
            mix_.mix(batch, mix_.alpha, rng);
        }
        return batch;
    }

    std::string name_;
    uint64_t seed_;
    ImageBlock block_;
    ItemTransforms transforms_;
    std::array<ImageSplit, 3> splits_;
    DataInfo info_;
    bool normalize_ = false;
    std::vector<float> mean_, std_;
    BatchStep mix_;
    static constexpr uint64_t kMixStream = 0x6d69780000000000ULL;
    static constexpr int64_t kAugmentedEpochs = int64_t(1) << 40;
};

ImageBlock imageBlock(const Value* call) {
    ImageBlock block;
    block.channels = int(intArg(call, "channels"));
    auto size = sizeArg(call, "size");
    block.height = size.first;
    block.width = size.second;
    return block;
}

}  // namespace

namespace {

std::unique_ptr<PreparedData> prepareImages(const DataRequest& request) {
    const Value& source = *request.section->field("source");
    const ImageBlock block = imageBlock(request.input);
    const std::string kind = callName(request.target);
    const std::string delimiter = labelDelimiter(request.target);

    std::array<ImageSplit, 3> splits;
    std::vector<std::string> labels;
    std::vector<Side> sides;
    std::vector<std::string> fixedClasses;
    std::shared_ptr<ImageItems> testItems;
    int64_t testCount = 0;

    Listing listing = listSource(source, request.baseDir);
    if (listing.inMemory) {  // idx
        if (request.x || request.y)
            throw RuntimeError("data `" + request.name() +
                               "`: the idx source brings its own images and labels; remove `x`, `y` and `label`.");
        const std::filesystem::path folder = listing.root;
        IdxSet train = readIdx(folder, stringArg(&source, "train"));
        int classes = 1 + *std::max_element(train.labels.begin(), train.labels.end());
        fixedClasses = idxClassNames(folder, std::max(classes, 10));
        if (kind != "category")
            throw RuntimeError("data `" + request.name() + "`: idx labels are classes; use the `category` block.");
        listing.count = train.count;
        for (uint8_t label : train.labels) {
            if (label >= fixedClasses.size())
                throw RuntimeError("idx source: label " + std::to_string(label) + " in `" + folder.string() +
                                   "` is out of range.");
            labels.push_back(fixedClasses[label]);
        }
        sides = assignSplits(*request.split, listing, labels, request.fold);
        auto items = memoryImages(std::move(train.images), train.count, train.height, train.width, block,
                                  (folder / stringArg(&source, "train")).string());
        splits[0].items = splits[1].items = items;
        std::string testPrefix = stringArg(&source, "test");
        if (!testPrefix.empty()) {
            IdxSet test = readIdx(folder, testPrefix);
            for (uint8_t label : test.labels) {
                if (label >= fixedClasses.size())
                    throw RuntimeError("idx source: test label " + std::to_string(label) + " is out of range.");
                labels.push_back(fixedClasses[label]);
                sides.push_back(Side::Test);
            }
            testCount = test.count;
            testItems = memoryImages(std::move(test.images), test.count, test.height, test.width, block,
                                     (folder / testPrefix).string());
        }
        splits[2].items = testItems;
    } else {
        // Every file decoded once when `on_bad = "skip"`, so that the epochs
        // that follow see only good items and batches stay full.
        LabelledFiles files = labelledFiles(request, std::move(listing), "image", "`folder(...)`",
                                            [&](const std::filesystem::path& path) {
                                                fileImages({path}, block, {0, 0}, 0)->get(0);
                                            });
        listing = std::move(files.listing);
        labels = std::move(files.labels);
        sides = std::move(files.sides);
        ItemTransforms transforms(request.items);
        auto items = fileImages(listing.paths, block, transforms.firstSize(), request.cache ? kCacheBytes : 0);
        splits[0].items = splits[1].items = splits[2].items = items;
    }

    Targets targets = encodeTargets(kind, labels, sides, delimiter, fixedClasses);
    const int64_t trainCount = int64_t(sides.size()) - testCount;
    std::array<std::vector<int64_t>, 3> positions;  // into `labels`, per split
    for (int64_t i = 0; i < int64_t(sides.size()); ++i) {
        if (sides[size_t(i)] == Side::None) continue;
        size_t s = size_t(sides[size_t(i)]);
        positions[s].push_back(i);
        splits[s].rows.push_back(i < trainCount ? i : i - trainCount);
    }
    for (size_t s = 0; s < 3; ++s) splits[s].y = targetTensor(targets, positions[s]);
    return std::make_unique<ImageData>(request, block, std::move(splits), std::move(targets));
}

const BlockMakers::Add kImage{"image", {prepareImages}};

}  // namespace

}  // namespace pipelang::runtime
