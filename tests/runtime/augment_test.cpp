// Augmentation: random_resized_crop, aug_transforms, rand_augment,
// trivial_augment, mixup and cutmix. Statistical checks of what each draws,
// pixels against torchvision 0.14 (tests/runtime/make_augment.py) where an
// operation is deterministic, the same batches for the same seed, and
// nothing random at validation.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "runtime/data/augment.h"
#include "runtime/data/mix.h"
#include "runtime/data/transforms.h"
#include "runtime/models/network.h"
#include "runtime/safetensors.h"
#include "runtime/train/fit.h"
#include "runtime/train/loss.h"
#include "runtime/train/tta.h"
#include "tests/runtime/compiled.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"
#include "tests/runtime/test_files.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;

Image patterned(int channels, int height, int width) {
    Image image(channels, height, width);
    for (int c = 0; c < channels; ++c)
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x) image.at(c, y, x) = uint8_t((c * 70 + y * 13 + x * 7 + (x * y) % 11) % 256);
    return image;
}

// The item transforms of `item = [...]` in a checked data block.
ItemTransforms itemsOf(const std::string& list) {
    TempDir dir("pipe-augment-items");
    auto c = compile(dir.path(),
                     "data d {\n source = folder(\"x\")\n blocks = (image, category)\n item = " + list + "\n}\n");
    return ItemTransforms(c.data ? c.data->field("item") : nullptr);
}

// ---- random_resized_crop ---------------------------------------------------

TEST(AugmentCrop, BoxesStayWithinScaleAndRatio) {
    const int h = 1000, w = 1000;
    double shareSum = 0, logRatioSum = 0;
    std::set<std::pair<int, int>> corners;
    const int n = 4000;
    for (int i = 0; i < n; ++i) {
        Rng rng(11, 0, uint64_t(i));
        CropBox b = randomResizedCropBox(h, w, {0.1, 0.5}, {0.75, 1.333}, rng);
        ASSERT_GE(b.top, 0);
        ASSERT_GE(b.left, 0);
        ASSERT_LE(b.top + b.height, h);
        ASSERT_LE(b.left + b.width, w);
        double share = double(b.height) * b.width / (double(h) * w);
        double ratio = double(b.width) / b.height;
        // Sides are rounded to whole pixels: a share or ratio a little over its bound.
        EXPECT_GE(share, 0.1 - 0.002);
        EXPECT_LE(share, 0.5 + 0.002);
        EXPECT_GE(ratio, 0.75 * 0.995);
        EXPECT_LE(ratio, 1.333 * 1.005);
        shareSum += share;
        logRatioSum += std::log(ratio);
        corners.insert({b.top, b.left});
    }
    // Every draw fits a 1000 × 1000 image at once: the share is uniform in
    // [0.1, 0.5] and the ratio log-uniform in [0.75, 1.333].
    EXPECT_NEAR(shareSum / n, 0.3, 0.01);
    EXPECT_NEAR(logRatioSum / n, (std::log(0.75) + std::log(1.333)) / 2, 0.01);
    EXPECT_GT(corners.size(), size_t(n * 0.9));  // placed at random
}

TEST(AugmentCrop, FallsBackToTheCentreAsTorchvision) {
    // No part of 99% of the area can be 3..4 times wider than high: ten
    // tries fail and the centre crop of ratio 3 is taken.
    Rng rng(1);
    CropBox b = randomResizedCropBox(100, 100, {0.99, 1.0}, {3, 4}, rng);
    EXPECT_EQ(b.width, 100);
    EXPECT_EQ(b.height, 33);  // round(100 / 3)
    EXPECT_EQ(b.top, 33);
    EXPECT_EQ(b.left, 0);
    // A tall image with ratios about 1 keeps its whole width.
    b = randomResizedCropBox(50, 10, {0.99, 1.0}, {0.9, 1.1}, rng);
    EXPECT_EQ(b.width, 10);
    EXPECT_EQ(b.height, 11);  // round(10 / 0.9)
    EXPECT_EQ(b.top, 19);
}

TEST(AugmentCrop, RandomInTrainingFastaisResizeAndCentreAtValidation) {
    ItemTransforms t = itemsOf("[random_resized_crop(8)]");
    Image image = patterned(3, 30, 40);
    std::set<std::vector<uint8_t>> seen;
    for (uint64_t i = 0; i < 20; ++i) {
        Rng rng(5, 0, i);
        Image out = t.apply(image, rng, true);
        EXPECT_EQ(out.channels, 3);
        EXPECT_EQ(out.height, 8);
        EXPECT_EQ(out.width, 8);
        seen.insert(out.pixels);
    }
    EXPECT_GT(seen.size(), 15u);
    // Validation: squished to 8 + ceil(8 · 0.14 / 8) · 8 = 16, the centre 8 × 8 cut.
    Image expected = centerCrop(resize(image, 16, 16), 8, 8);
    for (uint64_t i = 0; i < 3; ++i) {
        Rng rng(5, 0, i);
        EXPECT_EQ(t.apply(image, rng, false).pixels, expected.pixels);
    }
    Rng rng(1);
    EXPECT_EQ(validationResizedCrop(image, 224, 224, 0.14).height, 224);  // via 256, as fastai's 224 crop
}

// ---- aug_transforms ----------------------------------------------------------

TEST(AugmentAffine, DrawsAsFastaiDefaults) {
    AugSettings s;  // fastai's defaults
    const int n = 8000;
    int flipped = 0, rotated = 0, zoomed = 0, warpedX = 0, warpedY = 0, brightened = 0, contrasted = 0;
    for (int i = 0; i < n; ++i) {
        Rng rng(3, 1, uint64_t(i));
        AugDraw d = drawAug(s, 32, 48, rng);
        flipped += d.flipped, rotated += d.rotated, zoomed += d.zoomed;
        warpedX += d.warpX != 0, warpedY += d.warpY != 0;
        brightened += d.brightness != 0.5, contrasted += d.contrast != 1;
        EXPECT_LE(std::abs(d.warpX), 0.2);
        EXPECT_LE(std::abs(d.warpY), 0.2);
        EXPECT_GE(d.brightness, 0.4);
        EXPECT_LE(d.brightness, 0.6);
        EXPECT_GE(d.contrast, 0.8 - 1e-12);
        EXPECT_LE(d.contrast, 1 / 0.8 + 1e-12);
        // The matrix's scale: 1/zoom in [1/1.1, 1], whatever the rotation;
        // a flip is a negative determinant.
        double det = d.matrix[0] * d.matrix[4] - d.matrix[1] * d.matrix[3];
        EXPECT_GE(std::abs(det), 1 / 1.21 - 1e-9);
        EXPECT_LE(std::abs(det), 1 + 1e-9);
        EXPECT_EQ(det < 0, d.flipped);
    }
    // Shares within 4 standard deviations of the probabilities.
    auto share = [&](int k) { return double(k) / n; };
    EXPECT_NEAR(share(flipped), 0.5, 0.023);
    EXPECT_NEAR(share(rotated), 0.75, 0.02);
    EXPECT_NEAR(share(zoomed), 0.75, 0.02);
    EXPECT_NEAR(share(warpedX), 0.75, 0.02);
    EXPECT_NEAR(share(warpedY), 0.75, 0.02);
    EXPECT_NEAR(share(brightened), 0.75, 0.02);
    EXPECT_NEAR(share(contrasted), 0.75, 0.02);

    // Overridden: no flip, rotation only with p = 0.3, dihedral flips.
    AugSettings t;
    t.doFlip = false, t.maxWarp = 0, t.maxLighting = 0, t.pAffine = 0.3, t.minZoom = t.maxZoom = 1;
    int r = 0;
    for (int i = 0; i < n; ++i) {
        Rng rng(4, 1, uint64_t(i));
        AugDraw d = drawAug(t, 20, 20, rng);
        EXPECT_FALSE(d.flipped);
        EXPECT_FALSE(d.zoomed);
        EXPECT_EQ(d.warpX, 0);
        EXPECT_EQ(d.brightness, 0.5);
        r += d.rotated;
        double degrees = std::atan2(d.matrix[1], d.matrix[0]) * 180 / M_PI;
        EXPECT_LE(std::abs(degrees), 10 + 1e-9);
    }
    EXPECT_NEAR(share(r), 0.3, 0.021);
    AugSettings dihedral;
    dihedral.flipVert = true;
    int turned = 0;
    for (int i = 0; i < n; ++i) {
        Rng rng(5, 1, uint64_t(i));
        turned += drawAug(dihedral, 20, 20, rng).flipped;
    }
    EXPECT_NEAR(share(turned), 0.5 * 7 / 8, 0.023);  // p = 0.5, then one of 8 (one is no change)
}

TEST(AugmentAffine, TrainingOnlyAndSeeded) {
    ItemTransforms t = itemsOf("[aug_transforms()]");
    Image image = patterned(3, 24, 30);
    for (uint64_t i = 0; i < 5; ++i) {
        Rng rng(9, 0, i);
        EXPECT_EQ(t.apply(image, rng, false).pixels, image.pixels);
    }
    std::set<std::vector<uint8_t>> seen;
    for (uint64_t i = 0; i < 12; ++i) {
        Rng a(9, 0, i), b(9, 0, i);
        Image x = t.apply(image, a, true), y = t.apply(image, b, true);
        EXPECT_EQ(x.pixels, y.pixels);  // the same draw for the same (seed, epoch, item)
        EXPECT_EQ(x.height, 24);
        EXPECT_EQ(x.width, 30);
        seen.insert(x.pixels);
    }
    EXPECT_GT(seen.size(), 10u);
    // A pure left-right flip resamples exactly.
    AugDraw flipOnly;
    flipOnly.matrix = augMatrix(1, 0, 1, 0.5, 0.5, 24, 30);
    EXPECT_EQ(applyAug(image, flipOnly, PadMode::Reflect).pixels, flip(image, false).pixels);
}

// ---- against torchvision -----------------------------------------------------

class AugmentTorchvision : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!pythonCanImport("torch, torchvision")) return;
        dir_ = new TempDir("pipe-augment-ref");
        std::string command =
            "/usr/bin/python3 " PIPE_SOURCE_DIR "/tests/runtime/make_augment.py " + dir_->path().string();
        if (std::system(command.c_str()) != 0) return;
        for (auto& [name, t] : readSafetensors(dir_->path() / "augment.safetensors").tensors) ref_[name] = t;
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    void SetUp() override {
        if (!pythonCanImport("torch, torchvision"))
            GTEST_SKIP() << "/usr/bin/python3 cannot import torch and torchvision";
        ASSERT_FALSE(ref_.empty()) << "make_augment.py failed";
    }
    static Image image(const std::string& name) {
        torch::Tensor t = ref_.at(name).contiguous();
        Image out(int(t.size(0)), int(t.size(1)), int(t.size(2)));
        std::memcpy(out.pixels.data(), t.data_ptr<uint8_t>(), out.pixels.size());
        return out;
    }
    static torch::Tensor tensor(const Image& image) {
        return torch::from_blob(const_cast<uint8_t*>(image.pixels.data()), {image.channels, image.height, image.width},
                                torch::kUInt8)
            .clone();
    }
    static inline TempDir* dir_ = nullptr;
    static inline std::map<std::string, torch::Tensor> ref_;
};

const char* kTorchvisionOps[kAugOps] = {"Identity",  "ShearX",     "ShearY",       "TranslateX", "TranslateY",
                                        "Rotate",    "Brightness", "Color",        "Contrast",   "Sharpness",
                                        "Posterize", "Solarize",   "AutoContrast", "Equalize"};

TEST_F(AugmentTorchvision, MagnitudeTablesAreTorchvisions) {
    for (bool wide : {false, true})
        for (int bins : {31, 11})
            for (int k = 0; k < kAugOps; ++k) {
                std::string name = std::string("table/") + (wide ? "wide/" : "rand/") + std::to_string(bins) + "/" +
                                   kTorchvisionOps[k];
                torch::Tensor table = ref_.at(name);
                if (table.numel() == 1) {  // ops without a magnitude
                    EXPECT_EQ(augMagnitude(AugOp(k), 3, bins, wide, 21, 26), 0) << name;
                    continue;
                }
                ASSERT_EQ(table.numel(), bins) << name;
                for (int i = 0; i < bins; ++i)
                    EXPECT_EQ(float(augMagnitude(AugOp(k), i, bins, wide, 21, 26)), table[i].item<float>())
                        << name << " bin " << i;
            }
}

// Each of the 14 operations, at RandAugment's magnitude 9 of 31 and at
// TrivialAugmentWide's bin 25, both signs, on an RGB and a grey image: the
// same bytes as torchvision's _apply_op on uint8 tensors. Tolerance: none
// (every byte equal).
TEST_F(AugmentTorchvision, EveryOperationGivesTorchvisionsPixels) {
    int compared = 0;
    for (const char* which : {"rgb", "grey"}) {
        Image input = image(which);
        for (bool wide : {false, true})
            for (int k = 0; k < kAugOps; ++k) {
                AugOp op = AugOp(k);
                double magnitude = augMagnitude(op, wide ? 25 : 9, 31, wide, input.height, input.width);
                for (int sign : {0, 1}) {
                    if (sign && !augSigned(op)) continue;
                    std::string name = std::string(wide ? "op_wide/" : "op/") + which + "/" + kTorchvisionOps[k] + "/" +
                                       std::to_string(sign);
                    Image out = applyAugOp(input, op, sign ? -magnitude : magnitude);
                    torch::Tensor expected = ref_.at(name);
                    ASSERT_EQ(tensor(out).sizes(), expected.sizes()) << name;
                    torch::Tensor diff = (tensor(out).to(torch::kInt) - expected.to(torch::kInt)).abs();
                    EXPECT_EQ(diff.max().item<int>(), 0)
                        << name << ": " << diff.gt(0).sum().item<int>() << " of " << diff.numel() << " bytes differ";
                    ++compared;
                }
            }
    }
    EXPECT_EQ(compared, 2 * 2 * (14 + 9));
}

// 120 random images (RGB and grey, sizes 12..48 × 9..49) each through one
// operation at a random magnitude: every byte equal to torchvision's.
TEST_F(AugmentTorchvision, RandomImagesAndMagnitudesGiveTorchvisionsPixels) {
    int cases = 0;
    for (int k = 0; ref_.count("random/" + std::to_string(k) + "/in"); ++k, ++cases) {
        std::string prefix = "random/" + std::to_string(k) + "/";
        AugOp op = AugOp(ref_.at(prefix + "op").item<int64_t>());
        double magnitude = ref_.at(prefix + "magnitude").item<double>();
        Image out = applyAugOp(image(prefix + "in"), op, magnitude);
        torch::Tensor expected = ref_.at(prefix + "out");
        ASSERT_EQ(tensor(out).sizes(), expected.sizes()) << prefix;
        int differ = tensor(out).ne(expected).sum().item<int>();
        EXPECT_EQ(differ, 0) << prefix << augOpName(op) << " at " << magnitude << ": " << differ << " of "
                             << expected.numel() << " bytes differ";
    }
    EXPECT_EQ(cases, 120);
}

// aug_transforms' resampling at fixed draws against fastai's formulas on
// torch's affine_grid and grid_sample. Tolerance: one grey level (pipe
// rounds the bilinear value; the reference is the float before rounding).
TEST_F(AugmentTorchvision, AugTransformsResamplesAsFastai) {
    for (const char* which : {"rgb", "grey"}) {
        Image input = image(which);
        AugDraw d;
        d.matrix = augMatrix(1, 7.0, 1.08, 0.3, 0.8, input.height, input.width);
        d.warpX = 0.15, d.warpY = -0.1;
        Image out = applyAug(input, d, PadMode::Reflect);
        torch::Tensor expected = ref_.at(std::string("aug/") + which);
        torch::Tensor diff = (tensor(out).to(torch::kFloat) - expected).abs();
        EXPECT_LE(diff.max().item<float>(), 0.5 + 1e-3) << which;
    }
}

// ---- rand_augment and trivial_augment ----------------------------------------

TEST(AugmentPolicies, RandAugmentAppliesNumOpsUniformlyDrawn) {
    const int n = 7000;
    std::map<int, int> ops;
    int signedOps = 0, negative = 0;
    for (int i = 0; i < n; ++i) {
        Rng rng(2, 0, uint64_t(i));
        auto steps = drawAugSteps(false, 2, 9, 31, 28, 28, rng);
        ASSERT_EQ(steps.size(), 2u);
        for (const auto& s : steps) {
            ++ops[int(s.op)];
            double expected = augMagnitude(s.op, 9, 31, false, 28, 28);
            EXPECT_EQ(std::abs(s.magnitude), std::abs(expected)) << augOpName(s.op);
            if (augSigned(s.op)) {
                ++signedOps;
                negative += s.magnitude < 0;
            }
        }
    }
    ASSERT_EQ(ops.size(), size_t(kAugOps));
    for (auto [op, count] : ops) EXPECT_NEAR(double(count) / (2 * n), 1.0 / kAugOps, 0.012) << augOpName(AugOp(op));
    EXPECT_NEAR(double(negative) / signedOps, 0.5, 0.02);
    Rng rng(1);
    EXPECT_EQ(drawAugSteps(false, 5, 9, 31, 28, 28, rng).size(), 5u);
}

TEST(AugmentPolicies, TrivialAugmentDrawsOneOpAtAnyStrength) {
    const int n = 6000;
    double binSum = 0;
    std::set<int> ops;
    for (int i = 0; i < n; ++i) {
        Rng rng(8, 0, uint64_t(i));
        auto steps = drawAugSteps(true, 2, 9, 31, 28, 28, rng);
        ASSERT_EQ(steps.size(), 1u);
        ops.insert(int(steps[0].op));
        if (steps[0].op == AugOp::Rotate) {
            // The wide space's rotation: up to 135 degrees, in 31 bins of 4.5.
            double bin = std::abs(steps[0].magnitude) / 4.5;
            EXPECT_NEAR(bin, std::round(bin), 1e-4);
            EXPECT_LE(std::abs(steps[0].magnitude), 135 + 1e-4);
            binSum += bin;
        }
    }
    EXPECT_EQ(ops.size(), size_t(kAugOps));
    int rotations = 0;
    for (int i = 0; i < n; ++i) {
        Rng rng(8, 0, uint64_t(i));
        rotations += drawAugSteps(true, 2, 9, 31, 28, 28, rng)[0].op == AugOp::Rotate;
    }
    EXPECT_NEAR(binSum / rotations, 15, 1.5);  // uniform over 0..30
}

TEST(AugmentPolicies, TrainingOnlyAndSeeded) {
    for (const char* list :
         {"[rand_augment()]", "[trivial_augment()]", "[rand_augment(num_ops = 3, magnitude = 20)]"}) {
        ItemTransforms t = itemsOf(list);
        Image image = patterned(3, 20, 20);
        Rng rng(1);
        EXPECT_EQ(t.apply(image, rng, false).pixels, image.pixels) << list;
        int changed = 0;
        for (uint64_t i = 0; i < 30; ++i) {
            Rng a(4, 2, i), b(4, 2, i);
            Image x = t.apply(image, a, true);
            EXPECT_EQ(x.pixels, t.apply(image, b, true).pixels) << list;
            changed += x.pixels != image.pixels;
        }
        EXPECT_GT(changed, 15) << list;  // identity is one op of 14
    }
}

// ---- mixup and cutmix ------------------------------------------------------------

TEST(AugmentMix, BetaDrawsHaveBetasMoments) {
    for (auto [a, b] : {std::pair{0.4, 0.4}, std::pair{1.0, 1.0}, std::pair{2.0, 5.0}}) {
        const int n = 40000;
        double sum = 0, squares = 0;
        Rng rng(21, uint64_t(a * 10), uint64_t(b * 10));
        for (int i = 0; i < n; ++i) {
            double x = betaDraw(a, b, rng);
            ASSERT_GE(x, 0);
            ASSERT_LE(x, 1);
            sum += x, squares += x * x;
        }
        double mean = sum / n, variance = squares / n - mean * mean;
        EXPECT_NEAR(mean, a / (a + b), 0.006) << a << "," << b;
        EXPECT_NEAR(variance, a * b / ((a + b) * (a + b) * (a + b + 1)), 0.004) << a << "," << b;
    }
}

// E[max(λ, 1 - λ)] for λ ~ Beta(a, a), by the midpoint rule.
double expectedMax(double a) {
    double logNorm = 2 * std::lgamma(a) - std::lgamma(2 * a), sum = 0;
    const int steps = 200000;
    for (int i = 0; i < steps; ++i) {
        double x = (i + 0.5) / steps;
        sum += std::max(x, 1 - x) * std::exp((a - 1) * (std::log(x) + std::log(1 - x)) - logNorm) / steps;
    }
    return sum;
}

TEST(AugmentMix, MixUpBlendsEachItemWithItsPartner) {
    const int64_t n = 4000;
    Batch batch;
    batch.x = torch::arange(n, torch::kFloat32).view({n, 1, 1, 1}).expand({n, 1, 2, 3}).contiguous();
    batch.y = torch::arange(n, torch::kInt64);
    Rng rng(6);
    mixUp(batch, 0.4, rng);
    ASSERT_TRUE(batch.lam.defined());
    ASSERT_TRUE(batch.yMix.defined());
    auto lam = batch.lam.accessor<float, 1>();
    auto partner = batch.yMix.accessor<int64_t, 1>();
    double sum = 0;
    std::set<int64_t> partners;
    for (int64_t i = 0; i < n; ++i) {
        EXPECT_GE(lam[i], 0.5f);  // fastai keeps the item's own share the larger
        EXPECT_LE(lam[i], 1.0f);
        double expected = lam[i] * double(i) + (1 - lam[i]) * double(partner[i]);
        EXPECT_NEAR(batch.x[i][0][1][2].item<float>(), expected, 1e-3 * std::max(1.0, expected));
        sum += lam[i];
        partners.insert(partner[i]);
    }
    EXPECT_EQ(partners.size(), size_t(n));  // a permutation of the batch
    // λ ~ Beta(0.4, 0.4) has mean 0.5 (BetaDrawsHaveBetasMoments); folded to max(λ, 1 - λ):
    EXPECT_NEAR(sum / n, expectedMax(0.4), 0.01);
    EXPECT_GT(expectedMax(0.4), 0.75);
}

TEST(AugmentMix, CutMixBoxAreaMatchesLambda) {
    // Unclipped boxes cover 1 - λ of the image, to the rounding of their sides.
    int unclipped = 0;
    for (int i = 0; i < 4000; ++i) {
        Rng rng(31, 0, uint64_t(i));
        double lam = betaDraw(1, 1, rng);
        MixBox b = cutMixBox(1000, 1000, lam, rng);
        double share = double(b.x2 - b.x1) * (b.y2 - b.y1) / 1e6;
        EXPECT_LE(share, 1 - lam + 0.005);
        if (b.x1 > 0 && b.y1 > 0 && b.x2 < 1000 && b.y2 < 1000) {
            EXPECT_NEAR(share, 1 - lam, 0.005);
            ++unclipped;
        }
    }
    EXPECT_GT(unclipped, 100);

    const int64_t n = 16;
    for (uint64_t k = 0; k < 20; ++k) {
        Batch batch;
        batch.x = torch::arange(n, torch::kFloat32).view({n, 1, 1, 1}).expand({n, 2, 10, 12}).contiguous();
        batch.y = torch::arange(n, torch::kInt64);
        Rng rng(7, k);
        cutMix(batch, 1.0, rng);
        double lam = batch.lam[0].item<double>();
        for (int64_t i = 0; i < n; ++i) {
            EXPECT_EQ(batch.lam[i].item<double>(), lam);
            int64_t partner = batch.yMix[i].item<int64_t>();
            torch::Tensor own = batch.x[i].eq(float(i)), theirs = batch.x[i].eq(float(partner));
            if (partner == i) continue;
            // Every pixel is the item's or its partner's; the partner's are the box.
            EXPECT_EQ((own | theirs).all().item<bool>(), true);
            double boxShare = theirs.to(torch::kFloat).mean().item<double>();
            EXPECT_NEAR(1 - boxShare, lam, 1e-6);
        }
    }
}

TEST(AugmentMix, LossIsTheBlendOfBothTargetsLosses) {
    TempDir dir("pipe-augment-loss");
    auto c = compileText((dir / "t.pipe").string(),
                         "data d {\n source = folder(\"x\")\n blocks = (image, category)\n}\n"
                         "model m { backbone = cnn() }\n"
                         "train t { loss = cross_entropy(label_smoothing = 0.1) }\n");
    ASSERT_TRUE(c->ok()) << render(c->diags);
    LossFn loss = makeLoss(*c->pipeline.find("train", "t")->field("loss"));
    torch::manual_seed(3);
    torch::Tensor out = torch::randn({8, 5});
    torch::Tensor y = torch::randint(5, {8}, torch::kInt64), yMix = torch::randint(5, {8}, torch::kInt64);
    torch::Tensor lam = torch::rand({8}) * 0.5 + 0.5;
    namespace F = torch::nn::functional;
    auto each = [&](const torch::Tensor& target) {
        return F::cross_entropy(out, target, F::CrossEntropyFuncOptions().label_smoothing(0.1).reduction(torch::kNone));
    };
    torch::Tensor expected = (lam * each(y) + (1 - lam) * each(yMix)).mean();
    EXPECT_NEAR(mixedLoss(loss, out, y, yMix, lam).item<double>(), expected.item<double>(), 1e-6);
    // Unmixed: the plain loss.
    EXPECT_NEAR(mixedLoss(loss, out, y, {}, {}).item<double>(), loss(out, y).item<double>(), 1e-9);
    // Float targets (a number) are blended, as fastai blends them.
    torch::Tensor t = torch::randn({8}), tMix = torch::randn({8}), pred = torch::randn({8, 1});
    LossFn mse = [](const torch::Tensor& o, const torch::Tensor& target) {
        return F::mse_loss(o.reshape(target.sizes()), target);
    };
    EXPECT_NEAR(mixedLoss(mse, pred, t, tMix, lam).item<double>(),
                F::mse_loss(pred.reshape({8}), lam * t + (1 - lam) * tMix).item<double>(), 1e-6);
}

// ---- through the data block: seeded, training only, shown ----------------------

const char* kAugmentedStripes = R"(seed 3
data d {
    source     = folder("images", extensions = [".png"])
    blocks     = (image(channels = 1), category)
    label      = parent_label
    split      = random(valid = 0.25, seed = 1)
    item       = [random_resized_crop(12, scale = [0.5, 1.0]), aug_transforms(), rand_augment(), trivial_augment()]
    batch      = [normalize(mean = [0.5], std = [0.25]), MIX]
    batch_size = 8
    workers    = WORKERS
}
)";

std::string stripesPipe(const std::string& mix, int workers) {
    std::string text = kAugmentedStripes;
    text.replace(text.find("MIX"), 3, mix);
    text.replace(text.find("WORKERS"), 7, std::to_string(workers));
    return text;
}

std::vector<Batch> epochOf(const PreparedData& data, Split split, int64_t epoch, int64_t workers = 0) {
    auto loader = data.loader(split, 8, workers);
    loader->start(epoch);
    std::vector<Batch> out;
    while (auto b = loader->next()) out.push_back(std::move(*b));
    return out;
}

bool same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (!a[i].x.equal(b[i].x) || !a[i].y.equal(b[i].y)) return false;
        if (a[i].lam.defined() != b[i].lam.defined()) return false;
        if (a[i].lam.defined() && (!a[i].lam.equal(b[i].lam) || !a[i].yMix.equal(b[i].yMix))) return false;
    }
    return true;
}

TEST(AugmentData, SameSeedSameBatchesAndValidationUntouched) {
    TempDir dir("pipe-augment-data");
    makeStripes(dir.path(), 24);
    for (const char* mix : {"mixup()", "cutmix()"}) {
        auto a = prepare(dir.path(), stripesPipe(mix, 0), 42);
        auto b = prepare(dir.path(), stripesPipe(mix, 3), 42);
        auto other = prepare(dir.path(), stripesPipe(mix, 0), 43);
        ASSERT_TRUE(a && b && other);
        auto trainA = epochOf(*a, Split::Train, 0);
        ASSERT_FALSE(trainA.empty());
        EXPECT_TRUE(trainA[0].lam.defined()) << mix;
        EXPECT_EQ(trainA[0].x.size(2), 12);
        EXPECT_TRUE(same(trainA, epochOf(*b, Split::Train, 0, 3))) << mix << ": another worker count";
        EXPECT_FALSE(same(trainA, epochOf(*a, Split::Train, 1))) << mix << ": the next epoch";
        EXPECT_FALSE(same(trainA, epochOf(*other, Split::Train, 0))) << mix << ": another seed";

        // Validation: no mixing, and the items are what the deterministic
        // transforms alone make (random_resized_crop's validation resize).
        std::string plainText = stripesPipe("normalize(mean = [0.5], std = [0.25])", 0);
        plainText.replace(plainText.find(", aug_transforms()"),
                          std::string(", aug_transforms(), rand_augment(), trivial_augment()").size(), "");
        auto plain = prepare(dir.path(), plainText, 42);
        ASSERT_TRUE(plain);
        auto validA = epochOf(*a, Split::Valid, 0), validPlain = epochOf(*plain, Split::Valid, 0);
        EXPECT_FALSE(validA[0].lam.defined());
        EXPECT_TRUE(same(validA, validPlain)) << mix;
        EXPECT_TRUE(same(validA, epochOf(*a, Split::Valid, 5))) << mix;

        // Test-time augmentation: the training transforms, seeded by the
        // pass, in the split's order, never mixed.
        auto pass = [&](const PreparedData& d, int64_t k) {
            auto loader = d.augmentedLoader(Split::Valid, 8, 0, k);
            EXPECT_TRUE(loader);
            loader->start(0);
            std::vector<Batch> out;
            while (auto batch = loader->next()) out.push_back(std::move(*batch));
            return out;
        };
        auto p0 = pass(*a, 0);
        EXPECT_FALSE(p0[0].lam.defined());
        EXPECT_TRUE(same(p0, pass(*b, 0)));
        EXPECT_FALSE(same(p0, pass(*a, 1)));
        EXPECT_FALSE(same(p0, validA));
        EXPECT_TRUE(p0[0].y.equal(validA[0].y));
    }
}

// Without a random item transform every augmented copy is the plain item:
// TTA's blend gives back the plain predictions, and the loss and accuracy
// of evaluate(); with aug_transforms the copies differ.
TEST(AugmentTta, NoRandomTransformMeansThePlainScores) {
    TempDir dir("pipe-augment-tta");
    makeStripes(dir.path(), 24);
    for (const char* item : {"[]", "[aug_transforms()]"}) {
        std::string text = R"(seed 3
data d {
    source     = folder("images", extensions = [".png"])
    blocks     = (image(channels = 1), category)
    label      = parent_label
    split      = random(valid = 0.25, seed = 1)
    item       = ITEM
    batch      = [normalize(mean = [0.5], std = [0.25])]
    batch_size = 8
}
model m { backbone = cnn(channels = [4]) }
train t { loss = cross_entropy(label_smoothing = 0.1)  metrics = [accuracy] }
)";
        text.replace(text.find("ITEM"), 4, item);
        auto c = compile(dir.path(), text);
        ASSERT_TRUE(c.data);
        auto data = prepareData(*c.data, dir.path(), 42);
        const Section& train = *c.compilation->pipeline.find("train", "t");
        torch::manual_seed(1);
        auto net = buildNetwork(*c.compilation->pipeline.find("model", "m"), data->info(), dir.path());
        torch::Device cpu(torch::kCPU);
        Evaluation plain = evaluate(*net, *data, *c.data, Split::Valid, train, *train.field("metrics"), cpu);
        Evaluation tta = evaluateWithTta(*net, *data, *c.data, Split::Valid, train, *train.field("metrics"), cpu, 3);
        EXPECT_EQ(tta.items, plain.items);
        if (std::string(item) == "[]") {
            EXPECT_NEAR(tta.loss, plain.loss, 1e-5);
            EXPECT_EQ(tta.metrics, plain.metrics);
        } else {
            EXPECT_GT(std::abs(tta.loss - plain.loss), 1e-6) << "the augmented copies changed nothing";
            Evaluation again =
                evaluateWithTta(*net, *data, *c.data, Split::Valid, train, *train.field("metrics"), cpu, 3);
            EXPECT_EQ(again.loss, tta.loss);  // seeded
        }
    }
}

// ---- end to end ------------------------------------------------------------------

TEST(AugmentRun, MixupTrainsAndPipeShowShowsTheMixedBatch) {
    TempDir dir("pipe-augment-run");
    makeStripes(dir.path(), 40);
    fs::path file = writeText(dir / "mixed.pipe", R"(seed 3
data stripes {
    source     = folder("images", extensions = [".png"])
    blocks     = (image(channels = 1), category)
    label      = parent_label
    split      = random(valid = 0.25, seed = 1)
    item       = [aug_transforms(max_rotate = 5, max_warp = 0)]
    batch      = [normalize(), mixup()]
    batch_size = 8
}
model net { backbone = cnn(channels = [8, 16]) }
train fit {
    optimizer = adamw(lr = 1e-2)
    schedule  = one_cycle(epochs = 5)
    metrics   = [accuracy]
}
evaluate fit on stripes.valid with [accuracy]
evaluate fit on stripes.valid with [accuracy] tta 3
)");
    TrainedRun run = trainRun(file, dir / "runs");
    ASSERT_EQ(run.result.status, 0) << run.result.output;
    std::ifstream csv(run.dir / "fit" / "metrics.csv");
    std::string line, last;
    std::getline(csv, line);
    EXPECT_EQ(line, "epoch,train_loss,valid_loss,accuracy,time");
    while (std::getline(csv, line)) last = line;
    std::stringstream cells(last);
    std::string epoch, trainLoss, validLoss, accuracy;
    std::getline(cells, epoch, ',');
    std::getline(cells, trainLoss, ',');
    std::getline(cells, validLoss, ',');
    std::getline(cells, accuracy, ',');
    EXPECT_TRUE(std::isfinite(std::stod(trainLoss))) << last;
    EXPECT_TRUE(std::isfinite(std::stod(validLoss))) << last;
    EXPECT_GE(std::stod(accuracy), 0.8) << "two classes: chance is 0.5\n" << run.result.output;
    // Both evaluations, the second with test-time augmentation.
    EXPECT_NE(run.result.output.find("evaluate fit on stripes.valid: 20 items"), std::string::npos)
        << run.result.output;
    size_t at = run.result.output.find("evaluate fit on stripes.valid (tta 3): 20 items, loss ");
    ASSERT_NE(at, std::string::npos) << run.result.output;
    size_t acc = run.result.output.find("accuracy ", at);
    ASSERT_NE(acc, std::string::npos);
    EXPECT_GE(std::stod(run.result.output.substr(acc + 9)), 0.8) << run.result.output;

    // pipe predict --tta: the same probabilities every time, for the same seed.
    std::string image = (dir / "images" / "vertical" / "3.png").string();
    CommandResult once = runPipeCommand("predict " + run.dir.string() + " " + image + " --tta 4");
    CommandResult twice = runPipeCommand("predict " + run.dir.string() + " " + image + " --tta 4");
    ASSERT_EQ(once.status, 0) << once.output;
    EXPECT_EQ(once.output, twice.output);
    EXPECT_NE(once.output.find("3.png: vertical "), std::string::npos) << once.output;
    CommandResult bad = runPipeCommand("predict " + run.dir.string() + " " + image + " --tta 100");
    EXPECT_EQ(bad.status, 2) << bad.output;

    // pipe show draws the mixed training batch: both labels and their shares.
    CommandResult shown = runPipeCommand("show " + file.string() + " --out " + (dir / "shown").string());
    ASSERT_EQ(shown.status, 0) << shown.output;
    std::ifstream batchCsv(dir / "shown" / "batch.csv");
    std::string header, row;
    std::getline(batchCsv, header);
    int mixed = 0, rows = 0;
    while (std::getline(batchCsv, row)) {
        ++rows;
        mixed += row.find(" / ") != std::string::npos;
    }
    EXPECT_EQ(rows, 8);
    EXPECT_EQ(mixed, rows) << header;
    EXPECT_TRUE(fs::exists(dir / "shown" / "batch.png"));
}

}  // namespace
}  // namespace pipelang::runtime
