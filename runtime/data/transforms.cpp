#include "runtime/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "runtime/data/geometry.h"
#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

// Each item transform's maker reads its call into one step; fixed sizes
// (`size`) are read by the transforms that have them.
using ItemMaker = ItemTransform (*)(const Value& call);
using ItemMakers = stdlib::Implementations<stdlib::Family::Item, ItemMaker>;

ItemTransform sized(ItemTransform::Kind kind, const Value& call) {
    ItemTransform t;
    t.kind = kind;
    std::tie(t.height, t.width) = sizeArg(&call, "size");
    return t;
}

ItemTransform makeResize(const Value& call) {
    ItemTransform t = sized(ItemTransform::Kind::Resize, call);
    std::string method = stringArg(&call, "method");
    t.method = method == "crop" ? 1 : method == "pad" ? 2 : 0;
    return t;
}
const ItemMakers::Add kResize{"resize", makeResize};

ItemTransform makePad(const Value& call) {
    ItemTransform t;
    t.kind = ItemTransform::Kind::Pad;
    t.padding = int(intArg(&call, "size"));
    std::string mode = stringArg(&call, "mode");
    t.method = int(mode == "reflect" ? PadMode::Reflect : mode == "border" ? PadMode::Border : PadMode::Zeros);
    return t;
}
const ItemMakers::Add kPad{"pad", makePad};

const ItemMakers::Add kRandomCrop{"random_crop",
                                  [](const Value& call) { return sized(ItemTransform::Kind::RandomCrop, call); }};
const ItemMakers::Add kCenterCrop{"center_crop",
                                  [](const Value& call) { return sized(ItemTransform::Kind::CenterCrop, call); }};

ItemTransform makeFlip(const Value& call) {
    ItemTransform t;
    t.kind = ItemTransform::Kind::Flip;
    t.p = numberArg(&call, "p");
    t.vertical = boolArg(&call, "vertical");
    return t;
}
const ItemMakers::Add kFlip{"flip", makeFlip};

ItemTransform makeRotate(const Value& call) {
    ItemTransform t;
    t.kind = ItemTransform::Kind::Rotate;
    t.amount = numberArg(&call, "degrees");
    t.p = numberArg(&call, "p");
    return t;
}
const ItemMakers::Add kRotate{"rotate", makeRotate};

// brightness and contrast: a change of up to `max`, with probability `p`.
template <ItemTransform::Kind kind>
ItemTransform makeLighting(const Value& call) {
    ItemTransform t;
    t.kind = kind;
    t.amount = numberArg(&call, "max");
    t.p = numberArg(&call, "p");
    return t;
}
const ItemMakers::Add kBrightness{"brightness", makeLighting<ItemTransform::Kind::Brightness>};
const ItemMakers::Add kContrast{"contrast", makeLighting<ItemTransform::Kind::Contrast>};

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

}  // namespace

ItemTransforms::ItemTransforms(const Value* list) {
    for (const Value* call : calls(list)) steps_.push_back(makerOf<ItemMakers>(*call)(*call));
}

std::pair<int, int> ItemTransforms::firstSize() const {
    for (const auto& t : steps_) {
        if (t.kind == ItemTransform::Kind::Resize) return {t.height, t.width};
        if (t.kind != ItemTransform::Kind::Flip && t.kind != ItemTransform::Kind::Brightness &&
            t.kind != ItemTransform::Kind::Contrast)
            return {0, 0};  // a crop or pad first: the full image is needed
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
    using K = ItemTransform::Kind;
    for (const auto& t : steps_) {
        switch (t.kind) {
        case K::Resize:
            image = resizeWithMethod(image, t.height, t.width, t.method, training && t.method == 1 ? &rng : nullptr);
            break;
        case K::Pad: image = pad(image, t.padding, t.padding, t.padding, t.padding, PadMode(t.method)); break;
        case K::RandomCrop:
            if (training && image.height >= t.height && image.width >= t.width) {
                int top = int(rng.below(uint64_t(image.height - t.height + 1)));
                int left = int(rng.below(uint64_t(image.width - t.width + 1)));
                image = crop(image, top, left, t.height, t.width);
            } else {
                image = centerCrop(image, t.height, t.width);
            }
            break;
        case K::CenterCrop: image = centerCrop(image, t.height, t.width); break;
        case K::Flip:
            if (training && rng.chance(t.p)) image = flip(image, t.vertical);
            break;
        case K::Rotate:
            if (training && rng.chance(t.p)) image = rotate(image, rng.uniform(-t.amount, t.amount));
            break;
        case K::Brightness:
            if (training && rng.chance(t.p)) {
                double change = std::clamp(rng.uniform(0.5 * (1 - t.amount), 0.5 * (1 + t.amount)), 1e-4, 1 - 1e-4);
                applyTable(image, logitTable(std::log(change / (1 - change)), 1));
            }
            break;
        case K::Contrast:
            if (training && rng.chance(t.p)) {
                double lo = std::log(std::max(1e-6, 1 - t.amount));
                applyTable(image, logitTable(0, std::exp(rng.uniform(lo, -lo))));
            }
            break;
        }
    }
    return image;
}

}  // namespace pipelang::runtime
