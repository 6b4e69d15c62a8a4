// Item transforms, as the data block's `item` list names them, applied to
// decoded images in order. Random ones (random_crop, flip, rotate,
// brightness, contrast, resize with method crop) draw from the item's own
// generator and act only on training items; on the others they are the
// deterministic counterpart (centre crop) or nothing, so validation is fixed.
#pragma once

#include <memory>
#include <vector>

#include "interpreter/pipeline.h"
#include "runtime/data/image.h"
#include "runtime/data/random.h"

namespace pipelang::runtime {

struct ItemTransform {
    enum class Kind { Resize, Pad, RandomCrop, CenterCrop, Flip, Rotate, Brightness, Contrast };
    Kind kind = Kind::Resize;
    int height = 0, width = 0;  // resize, crops
    int padding = 0;            // pad
    int method = 0;             // resize: 0 squish, 1 crop, 2 pad; pad: a PadMode
    double p = 1;               // probability of a random change
    double amount = 0;          // rotate: degrees; brightness, contrast: max
    bool vertical = false;      // flip
};

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

// Resizes as fastai's Resize: `squish` stretches to the size; `crop` scales
// to cover it and cuts the overflow (at a random place when `randomPlace`
// is given, else centred); `pad` scales to fit inside it and fills the rest
// by reflection.
Image resizeWithMethod(const Image& image, int height, int width, int method, Rng* randomPlace);

}  // namespace pipelang::runtime
