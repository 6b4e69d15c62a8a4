// The augmentations of fastai and torchvision as item transforms:
// random_resized_crop (torchvision's RandomResizedCrop, fastai's validation
// resize), aug_transforms (fastai's default set in one resampling) and the
// policies rand_augment and trivial_augment (torchvision's RandAugment and
// TrivialAugmentWide, with their 14 operations). Each draws from the item's
// own generator, on training items only. The pieces are public so that the
// tests can check each draw's statistics and each operation's pixels
// against torchvision's.
#pragma once

#include <array>
#include <vector>

#include "runtime/data/geometry.h"
#include "runtime/data/image.h"
#include "runtime/data/random.h"

namespace pipelang::runtime {

// ---- random_resized_crop ---------------------------------------------------

struct CropBox {
    int top = 0, left = 0, height = 0, width = 0;
};
// torchvision's RandomResizedCrop.get_params: up to ten draws of an area
// share in `scale` and a log-uniform width/height in `ratio`, the first that
// fits placed uniformly; else the centre crop of the image clamped to
// `ratio`.
CropBox randomResizedCropBox(int height, int width, std::array<double, 2> scale, std::array<double, 2> ratio, Rng& rng);
// The validation form, as fastai's RandomResizedCrop: the image resized to
// the size plus ceil(max(size) · valXtra / 8) · 8 on each side, then its
// centre cut to the size.
Image validationResizedCrop(const Image& image, int height, int width, double valXtra);

// ---- aug_transforms ----------------------------------------------------------

struct AugSettings {
    bool doFlip = true, flipVert = false;
    double maxRotate = 10, minZoom = 1, maxZoom = 1.1, maxWarp = 0.2, maxLighting = 0.2;
    double pAffine = 0.75, pLighting = 0.75;
    PadMode pad = PadMode::Reflect;
};
// One image's draw of fastai's aug_transforms: the affine matrix in fastai's
// coordinates ([-1, 1] on both axes, align_corners), composed as fastai
// composes flip · rotate · zoom and corrected for the aspect ratio; the
// warp's two magnitudes; and the lighting (brightness as a value around 0.5,
// contrast as a factor around 1).
struct AugDraw {
    std::array<double, 6> matrix = {1, 0, 0, 0, 1, 0};
    double warpX = 0, warpY = 0;
    double brightness = 0.5, contrast = 1;
    bool flipped = false, rotated = false, zoomed = false;  // for the tests' statistics
};
AugDraw drawAug(const AugSettings& settings, int height, int width, Rng& rng);
// The matrix of drawn values, as drawAug composes it: `dihedral` is fastai's
// symmetry index 0..7 (1: a left-right flip), `degrees` the rotation, `zoom`
// and its centre (`col`, `row` in [0, 1]).
std::array<double, 6> augMatrix(int dihedral, double degrees, double zoom, double col, double row, int height,
                                int width);
// Resamples the image through the draw (bilinear, `pad` outside, one pass),
// then changes its lighting. What fastai's affine_coord + lighting do.
Image applyAug(const Image& image, const AugDraw& draw, PadMode pad);

// ---- rand_augment and trivial_augment ----------------------------------------

// torchvision's operations, in the order of its augmentation space.
enum class AugOp {
    Identity,
    ShearX,
    ShearY,
    TranslateX,
    TranslateY,
    Rotate,
    Brightness,
    Color,
    Contrast,
    Sharpness,
    Posterize,
    Solarize,
    AutoContrast,
    Equalize,
};
constexpr int kAugOps = 14;
const char* augOpName(AugOp op);
// torchvision's magnitude of `op` at `bin` of `bins` (unsigned), for
// RandAugment's space or TrivialAugmentWide's (`wide`). Ops without a
// magnitude give 0.
double augMagnitude(AugOp op, int bin, int bins, bool wide, int height, int width);
bool augSigned(AugOp op);
// torchvision's _apply_op on a uint8 tensor image (nearest resampling,
// zeros outside), with the signed magnitude.
Image applyAugOp(const Image& image, AugOp op, double magnitude);

struct AugStep {
    AugOp op;
    double magnitude;
};
// The operations one image gets: RandAugment's `numOps` at the fixed bin
// `magnitude`, or (`trivial`) TrivialAugmentWide's one at a random bin.
std::vector<AugStep> drawAugSteps(bool trivial, int numOps, int magnitude, int bins, int height, int width, Rng& rng);

}  // namespace pipelang::runtime
