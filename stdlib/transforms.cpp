// Transforms: item transforms run on each decoded item (random ones on training
// items only, so validation stays fixed); batch transforms run on whole batches.
#include "stdlib/registry.h"

namespace pipelang::stdlib {

void addTransforms(Registry& r) {
    // ---- item transforms ----------------------------------------------------
    r.add({"resize",
           Family::Item,
           "Resizes every image to `size`, on training and validation items alike.",
           {
               {"size", "int|list<int>", "", "the new size: one side for a square, or [height, width]", {}, 1, {}},
               {"method",
                "string",
                "\"squish\"",
                "how to change the shape: `squish` stretches, `crop` cuts to fit, `pad` adds borders",
                {"squish", "crop", "pad"}},
           }});

    r.add({"pad",
           Family::Item,
           "Adds a border of `size` pixels around every image, e.g. before `random_crop`.",
           {
               {"size", "int", "", "pixels added on each side", {}, 0, {}},
               {"mode",
                "string",
                "\"zeros\"",
                "what fills the border: `zeros`, a `reflect`ion of the image, or its `border` pixels repeated",
                {"zeros", "reflect", "border"}},
           }});

    r.add({"random_crop",
           Family::Item,
           "Cuts a patch of `size` from a random place in training images, and from the centre of the others.",
           {
               {"size", "int|list<int>", "", "the patch size: one side for a square, or [height, width]", {}, 1, {}},
           }});

    r.add({"center_crop",
           Family::Item,
           "Cuts a patch of `size` from the centre of every image.",
           {
               {"size", "int|list<int>", "", "the patch size: one side for a square, or [height, width]", {}, 1, {}},
           }});

    r.add({"flip",
           Family::Item,
           "Mirrors training images left to right at random.",
           {
               {"p", "float", "0.5", "the probability that an image is flipped", {}, 0, 1},
               {"vertical", "bool", "false", "flip top to bottom instead (for images with no natural up)"},
           }});

    r.add({"rotate",
           Family::Item,
           "Rotates training images by a random angle between -`degrees` and +`degrees`.",
           {
               {"degrees", "float", "10", "the largest rotation, in degrees", {}, 0, 180},
               {"p", "float", "0.75", "the probability that an image is rotated", {}, 0, 1},
           }});

    r.add({"brightness",
           Family::Item,
           "Makes training images randomly lighter or darker.",
           {
               {"max", "float", "0.2", "the largest change, as a share of the full range", {}, 0, 1},
               {"p", "float", "0.75", "the probability that an image is changed", {}, 0, 1},
           }});

    r.add({"contrast",
           Family::Item,
           "Raises or lowers the contrast of training images at random.",
           {
               {"max", "float", "0.2", "the largest change, as a share of the image's contrast", {}, 0, 1},
               {"p", "float", "0.75", "the probability that an image is changed", {}, 0, 1},
           }});

    // ---- batch transforms ---------------------------------------------------
    r.add({"normalize",
           Family::Batch,
           "Scales each channel to mean 0 and standard deviation 1, using training-split statistics unless given. "
           "Beside a backbone that loads pretrained weights, RGB images take ImageNet's statistics instead, as "
           "those weights expect (fastai does the same); `pipe plan` marks them `from weights`.",
           {
               {"mean", "list<float>", "none", "one mean per channel; by default from the training split"},
               {"std", "list<float>", "none", "one standard deviation per channel; by default from the training split"},
           }});
}

}  // namespace pipelang::stdlib
