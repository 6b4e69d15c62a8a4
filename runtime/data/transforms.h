// Item transforms, as the data block's `item` list names them, applied to
// decoded images in order. Random ones (random_crop, flip, rotate,
// brightness, contrast, resize with method crop) draw from the item's own
// generator and act only on training items; on the others they are the
// deterministic counterpart (centre crop) or nothing, so validation is fixed.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "interpreter/pipeline.h"
#include "runtime/data/image.h"
#include "runtime/data/random.h"
#include "stdlib/implementations.h"

namespace pipelang::runtime {

// One step of the `item` list: a maker (transforms.cpp) turns a call into
// the function that changes a decoded image. Random steps draw from the
// item's generator and act only when `training`.
struct ItemTransform {
    std::function<Image(Image image, Rng& rng, bool training)> apply;
    // What the step does to the image's size, for decoding big JPEGs at a
    // smaller scale: keeps it (flip, lighting), sets it (resize, to
    // height × width), or needs the full image first (crops, pad, rotate).
    enum class Size { Keeps, Sets, NeedsFull };
    Size size = Size::NeedsFull;
    int height = 0, width = 0;
};

// Each item transform's maker reads its call into one step. A new
// transform is its registry entry and its maker in transforms.cpp or a file
// of its own (augment.cpp), nothing else.
using ItemMaker = ItemTransform (*)(const Value& call);
using ItemMakers = stdlib::Implementations<stdlib::Family::Item, ItemMaker>;

// The steps with arguments of their own, as their makers build them (tests
// build them directly).
ItemTransform flipTransform(double p, bool vertical);
ItemTransform randomCropTransform(int height, int width);
ItemTransform brightnessTransform(double max, double p);
ItemTransform contrastTransform(double max, double p);

class ItemTransforms {
public:
    ItemTransforms() = default;
    // From the `item` field (a list of calls). Throws RuntimeError for a
    // transform the runtime does not know.
    explicit ItemTransforms(const Value* list);
    explicit ItemTransforms(std::vector<ItemTransform> steps) : steps_(std::move(steps)) {}

    Image apply(Image image, Rng& rng, bool training) const;
    bool empty() const { return steps_.empty(); }
    // The first fixed size the transforms produce, {0, 0} when none does: a
    // hint for decoding big JPEGs at a smaller scale.
    std::pair<int, int> firstSize() const;

private:
    std::vector<ItemTransform> steps_;
};

// fastai's lighting in logit space, as a table over the 256 byte values:
// x → σ(logit(x) · multiply + add).
std::array<uint8_t, 256> logitTable(double add, double multiply);

// Resizes as fastai's Resize: `squish` stretches to the size; `crop` scales
// to cover it and cuts the overflow (at a random place when `randomPlace`
// is given, else centred); `pad` scales to fit inside it and fills the rest
// by reflection.
Image resizeWithMethod(const Image& image, int height, int width, int method, Rng* randomPlace);

}  // namespace pipelang::runtime
