#include "runtime/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "runtime/data/geometry.h"
#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

// fastai's lighting transforms work in logit space: x → σ(f(logit(x))).
std::array<uint8_t, 256> logitTable(double add, double multiply) {
    std::array<uint8_t, 256> table{};
    const double eps = 1e-7;
    for (int v = 0; v < 256; ++v) {
        double x = std::clamp(v / 255.0, eps, 1 - eps);
        double l = std::log(x / (1 - x)) * multiply + add;
        double y = 1 / (1 + std::exp(-l));
        table[size_t(v)] = uint8_t(std::clamp(std::lround(y * 255), 0L, 255L));
    }
    return table;
}

namespace {

ItemTransform makeResize(const Value& call) {
    auto [height, width] = sizeArg(&call, "size");
    std::string name = stringArg(&call, "method");
    int method = name == "crop" ? 1 : name == "pad" ? 2 : 0;
    ItemTransform t;
    t.size = ItemTransform::Size::Sets, t.height = height, t.width = width;
    t.apply = [height = t.height, width = t.width, method](Image image, Rng& rng, bool training) {
        return resizeWithMethod(image, height, width, method, training && method == 1 ? &rng : nullptr);
    };
    return t;
}
const ItemMakers::Add kResize{"resize", makeResize};

ItemTransform makePad(const Value& call) {
    int padding = int(intArg(&call, "size"));
    std::string name = stringArg(&call, "mode");
    PadMode mode = name == "reflect" ? PadMode::Reflect : name == "border" ? PadMode::Border : PadMode::Zeros;
    ItemTransform t;
    t.apply = [=](Image image, Rng&, bool) { return pad(image, padding, padding, padding, padding, mode); };
    return t;
}
const ItemMakers::Add kPad{"pad", makePad};

const ItemMakers::Add kRandomCrop{"random_crop", [](const Value& call) {
                                      auto [height, width] = sizeArg(&call, "size");
                                      return randomCropTransform(height, width);
                                  }};

ItemTransform makeCenterCrop(const Value& call) {
    std::pair<int, int> size = sizeArg(&call, "size");
    ItemTransform t;
    t.apply = [size](Image image, Rng&, bool) { return centerCrop(image, size.first, size.second); };
    return t;
}
const ItemMakers::Add kCenterCrop{"center_crop", makeCenterCrop};

const ItemMakers::Add kFlip{
    "flip", [](const Value& call) { return flipTransform(numberArg(&call, "p"), boolArg(&call, "vertical")); }};

ItemTransform makeRotate(const Value& call) {
    double degrees = numberArg(&call, "degrees"), p = numberArg(&call, "p");
    ItemTransform t;
    t.apply = [=](Image image, Rng& rng, bool training) {
        return training && rng.chance(p) ? rotate(image, rng.uniform(-degrees, degrees)) : image;
    };
    return t;
}
const ItemMakers::Add kRotate{"rotate", makeRotate};

// brightness and contrast: a change of up to `max`, with probability `p`.
const ItemMakers::Add kBrightness{"brightness", [](const Value& call) {
                                      return brightnessTransform(numberArg(&call, "max"), numberArg(&call, "p"));
                                  }};
const ItemMakers::Add kContrast{
    "contrast", [](const Value& call) { return contrastTransform(numberArg(&call, "max"), numberArg(&call, "p")); }};

}  // namespace

ItemTransform flipTransform(double p, bool vertical) {
    ItemTransform t;
    t.size = ItemTransform::Size::Keeps;
    t.apply = [=](Image image, Rng& rng, bool training) {
        return training && rng.chance(p) ? flip(image, vertical) : image;
    };
    return t;
}

ItemTransform randomCropTransform(int height, int width) {
    ItemTransform t;
    t.apply = [=](Image image, Rng& rng, bool training) {
        if (!training || image.height < height || image.width < width) return centerCrop(image, height, width);
        int top = int(rng.below(uint64_t(image.height - height + 1)));
        int left = int(rng.below(uint64_t(image.width - width + 1)));
        return crop(image, top, left, height, width);
    };
    return t;
}

ItemTransform brightnessTransform(double max, double p) {
    ItemTransform t;
    t.size = ItemTransform::Size::Keeps;
    t.apply = [=](Image image, Rng& rng, bool training) {
        if (training && rng.chance(p)) {
            double change = std::clamp(rng.uniform(0.5 * (1 - max), 0.5 * (1 + max)), 1e-4, 1 - 1e-4);
            applyTable(image, logitTable(std::log(change / (1 - change)), 1));
        }
        return image;
    };
    return t;
}

ItemTransform contrastTransform(double max, double p) {
    ItemTransform t;
    t.size = ItemTransform::Size::Keeps;
    t.apply = [=](Image image, Rng& rng, bool training) {
        if (training && rng.chance(p)) {
            double lo = std::log(std::max(1e-6, 1 - max));
            applyTable(image, logitTable(0, std::exp(rng.uniform(lo, -lo))));
        }
        return image;
    };
    return t;
}

ItemTransforms::ItemTransforms(const Value* list) {
    for (const Value* call : calls(list)) steps_.push_back(makerOf<ItemMakers>(*call)(*call));
}

std::pair<int, int> ItemTransforms::firstSize() const {
    for (const auto& t : steps_) {
        if (t.size == ItemTransform::Size::Sets) return {t.height, t.width};
        if (t.size == ItemTransform::Size::NeedsFull) return {0, 0};
    }
    return {0, 0};
}

Image resizeWithMethod(const Image& image, int height, int width, int method, Rng* randomPlace) {
    if (method == 0 || image.height == 0 || image.width == 0) return resize(image, height, width);
    double target = double(height) / width, own = double(image.height) / image.width;
    if (method == 1) {  // crop: the largest window of the target's shape, then resize
        int h = image.height, w = image.width;
        if (own > target)
            h = std::max(1, int(std::lround(w * target)));
        else
            w = std::max(1, int(std::lround(h / target)));
        double fy = randomPlace ? randomPlace->uniform() : 0.5, fx = randomPlace ? randomPlace->uniform() : 0.5;
        int top = int(std::lround((image.height - h) * fy)), left = int(std::lround((image.width - w) * fx));
        return resize(crop(image, top, left, h, w), height, width);
    }
    // pad: grow the short side to the target's shape, then resize
    int h = image.height, w = image.width;
    if (own > target)
        w = int(std::lround(h / target));
    else
        h = int(std::lround(w * target));
    int top = (h - image.height) / 2, left = (w - image.width) / 2;
    Image padded = pad(image, top, h - image.height - top, left, w - image.width - left, PadMode::Reflect);
    return resize(padded, height, width);
}

Image ItemTransforms::apply(Image image, Rng& rng, bool training) const {
    for (const auto& t : steps_) image = t.apply(std::move(image), rng, training);
    return image;
}

}  // namespace pipelang::runtime
