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

    r.add({"random_resized_crop",
           Family::Item,
           "Cuts a random part of each training image, of a random share of its area and shape, and resizes it to "
           "`size` (torchvision's RandomResizedCrop: ten tries, then a centre crop); other images are resized to "
           "`size` plus `val_xtra` and cut to `size` in the centre, as fastai does.",
           {
               {"size", "int|list<int>", "", "the output size: one side for a square, or [height, width]", {}, 1, {}},
               {"scale",
                "list<float>",
                "[0.08, 1.0]",
                "[lo, hi]: the share of the image's area the part covers",
                {},
                0,
                1},
               {"ratio", "list<float>", "[0.75, 1.333]", "[lo, hi]: the part's width over its height", {}, 0, {}},
               {"val_xtra",
                "float",
                "0.14",
                "other images are first resized to `size` × (1 + val_xtra), rounded up to a multiple of 8",
                {},
                0,
                1},
           }});

    r.add({"aug_transforms",
           Family::Item,
           "fastai's default augmentation as one transform: a flip, a small rotation, zoom and perspective warp in "
           "one bilinear resampling (reflection at the borders), then brightness and contrast; each training image "
           "draws its own values, other images are left as they are.",
           {
               {"do_flip", "bool", "true", "mirror left to right with probability 0.5"},
               {"flip_vert", "bool", "false",
                "also flip top to bottom and turn by right angles (one of the 8 symmetries of a square, p = 0.5)"},
               {"max_rotate", "float", "10", "the largest rotation, in degrees", {}, 0, 180},
               {"min_zoom", "float", "1.0", "the smallest zoom (below 1 zooms out)", {}, 0.1, 10},
               {"max_zoom", "float", "1.1", "the largest zoom", {}, 0.1, 10},
               {"max_warp", "float", "0.2", "the largest perspective warp, as a share of half the image", {}, 0, 1},
               {"max_lighting", "float", "0.2", "the largest change of brightness and of contrast", {}, 0, 0.99},
               {"p_affine",
                "float",
                "0.75",
                "the probability of each of rotation, zoom and warp (drawn apart per image)",
                {},
                0,
                1},
               {"p_lighting", "float", "0.75", "the probability of each of brightness and contrast", {}, 0, 1},
               {"pad_mode",
                "string",
                "\"reflection\"",
                "what fills the parts that come from outside the image",
                {"reflection", "border", "zeros"}},
           }});

    r.add({"rand_augment",
           Family::Item,
           "torchvision's RandAugment: `num_ops` operations drawn at random from its 14 (identity, shears, "
           "translations, rotation, brightness, colour, contrast, sharpness, posterize, solarize, autocontrast, "
           "equalize), each at the one `magnitude`, with a random sign; training images only.",
           {
               {"num_ops", "int", "2", "operations applied to each image, one after the other", {}, 0, 16},
               {"magnitude", "int", "9", "the strength, a bin from 0 to num_magnitude_bins - 1", {}, 0, {}},
               {"num_magnitude_bins",
                "int",
                "31",
                "how many strengths the range of each operation is cut into",
                {},
                2,
                1000},
           }});

    r.add(
        {"trivial_augment",
         Family::Item,
         "torchvision's TrivialAugmentWide: one operation drawn from RandAugment's 14, at a random strength of its "
         "wide range, with a random sign; training images only.",
         {
             {"num_magnitude_bins", "int", "31", "how many strengths each operation's range is cut into", {}, 2, 1000},
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

    r.add(
        {"mixup",
         Family::Batch,
         "Blends each training image with another of its batch (fastai's MixUp): weights λ ~ Beta(alpha, alpha) "
         "per item, kept at or above 0.5, and the loss is λ·loss(own label) + (1 - λ)·loss(the other's). Image "
         "inputs; validation batches are left alone.",
         {
             {"alpha", "float", "0.4", "the Beta distribution's parameter: small values blend little", {}, 0.001, 100},
         }});

    r.add({"cutmix",
           Family::Batch,
           "Pastes a box of another training image of the batch into each (fastai's CutMix): λ ~ Beta(alpha, alpha) "
           "sets the box's share, 1 - λ, of the area, and the loss is λ·loss(own label) + (1 - λ)·loss(the "
           "other's). Image inputs; validation batches are left alone.",
           {
               {"alpha", "float", "1.0", "the Beta distribution's parameter", {}, 0.001, 100},
           }});
}

}  // namespace pipelang::stdlib
