#include "runtime/data/augment.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

#include "runtime/data/transforms.h"
#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

// ---- random_resized_crop ---------------------------------------------------

CropBox randomResizedCropBox(int height, int width, std::array<double, 2> scale, std::array<double, 2> ratio,
                             Rng& rng) {
    const double area = double(height) * width;
    const double logLo = std::log(ratio[0]), logHi = std::log(ratio[1]);
    for (int attempt = 0; attempt < 10; ++attempt) {
        double target = area * rng.uniform(scale[0], scale[1]);
        double aspect = std::exp(rng.uniform(logLo, logHi));
        // Python's round(): halves to even, as nearbyint in the default mode.
        int w = int(std::nearbyint(std::sqrt(target * aspect)));
        int h = int(std::nearbyint(std::sqrt(target / aspect)));
        if (0 < w && w <= width && 0 < h && h <= height) {
            int top = int(rng.below(uint64_t(height - h + 1)));
            int left = int(rng.below(uint64_t(width - w + 1)));
            return {top, left, h, w};
        }
    }
    // The fallback: a centre crop, clamped to the ratios.
    double own = double(width) / height;
    int w = width, h = height;
    if (own < std::min(ratio[0], ratio[1]))
        h = int(std::nearbyint(w / std::min(ratio[0], ratio[1])));
    else if (own > std::max(ratio[0], ratio[1]))
        w = int(std::nearbyint(h * std::max(ratio[0], ratio[1])));
    return {(height - h) / 2, (width - w) / 2, h, w};
}

Image validationResizedCrop(const Image& image, int height, int width, double valXtra) {
    int xtra = int(std::ceil(std::max(height, width) * valXtra / 8)) * 8;
    return centerCrop(resize(image, height + xtra, width + xtra), height, width);
}

// ---- aug_transforms ----------------------------------------------------------

namespace {

using Mat3 = std::array<double, 9>;

Mat3 multiply(const Mat3& a, const Mat3& b) {
    Mat3 c{};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 3; ++k) c[size_t(i * 3 + j)] += a[size_t(i * 3 + k)] * b[size_t(k * 3 + j)];
    return c;
}

// Solves the 8 × 8 system a · x = b by Gaussian elimination with partial
// pivoting (fastai's find_coeffs calls torch.solve).
std::array<double, 8> solve8(std::array<std::array<double, 9>, 8> m) {
    for (int col = 0; col < 8; ++col) {
        int pivot = col;
        for (int r = col + 1; r < 8; ++r)
            if (std::abs(m[size_t(r)][size_t(col)]) > std::abs(m[size_t(pivot)][size_t(col)])) pivot = r;
        std::swap(m[size_t(col)], m[size_t(pivot)]);
        double p = m[size_t(col)][size_t(col)];
        if (std::abs(p) < 1e-12) return {1, 0, 0, 0, 1, 0, 0, 0};  // degenerate: no warp
        for (int r = 0; r < 8; ++r) {
            if (r == col) continue;
            double f = m[size_t(r)][size_t(col)] / p;
            for (int c = col; c < 9; ++c) m[size_t(r)][size_t(c)] -= f * m[size_t(col)][size_t(c)];
        }
    }
    std::array<double, 8> x{};
    for (int r = 0; r < 8; ++r) x[size_t(r)] = m[size_t(r)][8] / m[size_t(r)][size_t(r)];
    return x;
}

// fastai's _WarpCoord: the perspective that takes the corners moved by the
// warp (targets) back to the square's corners, found as find_coeffs(orig, targ).
std::array<double, 8> warpCoefficients(double xt, double yt) {
    const double orig[4][2] = {{-1, -1}, {-1, 1}, {1, -1}, {1, 1}};
    const double targ[4][2] = {{-1 - yt, -1 - xt}, {-1 + yt, 1 + xt}, {1 + yt, -1 + xt}, {1 - yt, 1 - xt}};
    std::array<std::array<double, 9>, 8> m{};
    for (int i = 0; i < 4; ++i) {
        double px = orig[i][0], py = orig[i][1], qx = targ[i][0], qy = targ[i][1];
        m[size_t(2 * i)] = {qx, qy, 1, 0, 0, 0, -px * qx, -px * qy, px};
        m[size_t(2 * i + 1)] = {0, 0, 0, qx, qy, 1, -py * qx, -py * qy, py};
    }
    return solve8(m);
}

torch::Tensor imageTensor(const Image& image) {
    return torch::from_blob(const_cast<uint8_t*>(image.pixels.data()), {image.channels, image.height, image.width},
                            torch::kUInt8)
        .clone();
}

Image tensorImage(const torch::Tensor& t) {
    torch::Tensor u = t.to(torch::kUInt8).contiguous();
    Image out(int(u.size(0)), int(u.size(1)), int(u.size(2)));
    std::memcpy(out.pixels.data(), u.data_ptr<uint8_t>(), out.pixels.size());
    return out;
}

int64_t gridPadding(PadMode pad) {
    return pad == PadMode::Zeros ? 0 : pad == PadMode::Border ? 1 : 2;  // grid_sample's padding modes
}

}  // namespace

std::array<double, 6> augMatrix(int dihedral, double degrees, double zoom, double col, double row, int height,
                                int width) {
    // fastai's dihedral_mat: k = 1 mirrors left to right.
    const int k = std::clamp(dihedral, 0, 7);
    const int xs[8] = {1, -1, 1, -1, -1, 1, 1, -1}, ys[8] = {1, 1, -1, 1, -1, -1, 1, -1};
    const int m0[8] = {1, 1, 1, 0, 1, 0, 0, 0}, m1[8] = {0, 0, 0, 1, 0, 1, 1, 1};
    Mat3 m = {
        double(xs[k] * m0[k]), double(xs[k] * m1[k]), 0, double(ys[k] * m1[k]), double(ys[k] * m0[k]), 0, 0, 0, 1};
    // rotate_mat, then zoom_mat, multiplied in fastai's order.
    double theta = degrees * M_PI / 180;
    m = multiply(m, {std::cos(theta), std::sin(theta), 0, -std::sin(theta), std::cos(theta), 0, 0, 0, 1});
    double scale = 1 / zoom;
    m = multiply(m, {scale, 0, (1 - scale) * (2 * col - 1), 0, scale, (1 - scale) * (2 * row - 1), 0, 0, 1});
    // fastai's _prepare_mat: rotations stay rotations on a non-square image.
    m[1] *= double(height) / width;
    m[3] *= double(width) / height;
    return {m[0], m[1], m[2], m[3], m[4], m[5]};
}

AugDraw drawAug(const AugSettings& s, int height, int width, Rng& rng) {
    AugDraw d;
    int dihedral = 0;
    if (s.doFlip) {
        if (s.flipVert)  // fastai's Dihedral: one of the 8 symmetries, p = 0.5
            dihedral = rng.chance(0.5) ? int(rng.below(8)) : 0;
        else
            dihedral = rng.chance(0.5) ? 1 : 0;
        d.flipped = dihedral != 0;
    }
    if (s.maxWarp > 0) {
        d.warpX = rng.chance(s.pAffine) ? rng.uniform(-s.maxWarp, s.maxWarp) : 0;
        d.warpY = rng.chance(s.pAffine) ? rng.uniform(-s.maxWarp, s.maxWarp) : 0;
    }
    double degrees = 0;
    if (s.maxRotate > 0 && rng.chance(s.pAffine)) {
        degrees = rng.uniform(-s.maxRotate, s.maxRotate);
        d.rotated = true;
    }
    double zoom = 1, col = 0.5, row = 0.5;
    if (s.minZoom < 1 || s.maxZoom > 1) {
        zoom = rng.chance(s.pAffine) ? rng.uniform(s.minZoom, s.maxZoom) : 1;
        col = rng.uniform(), row = rng.uniform();
        d.zoomed = zoom != 1;
    }
    d.matrix = augMatrix(dihedral, degrees, zoom, col, row, height, width);
    if (s.maxLighting > 0) {
        double ml = s.maxLighting;
        d.brightness = rng.chance(s.pLighting) ? rng.uniform(0.5 * (1 - ml), 0.5 * (1 + ml)) : 0.5;
        d.contrast = rng.chance(s.pLighting) ? std::exp(rng.uniform(std::log(1 - ml), -std::log(1 - ml))) : 1;
    }
    return d;
}

Image applyAug(const Image& image, const AugDraw& d, PadMode pad) {
    Image out = image;
    const bool identity = d.matrix == std::array<double, 6>{1, 0, 0, 0, 1, 0} && d.warpX == 0 && d.warpY == 0;
    if (!identity && !image.empty()) {
        const int h = image.height, w = image.width;
        const bool warp = d.warpX != 0 || d.warpY != 0;
        std::array<double, 8> c = warp ? warpCoefficients(d.warpX, d.warpY) : std::array<double, 8>{};
        torch::Tensor grid = torch::empty({1, h, w, 2}, torch::kFloat32);
        float* g = grid.data_ptr<float>();
        const auto& a = d.matrix;
        for (int i = 0; i < h; ++i) {
            double y = h > 1 ? -1 + 2.0 * i / (h - 1) : 0;  // affine_grid, align_corners = True
            for (int j = 0; j < w; ++j) {
                double x = w > 1 ? -1 + 2.0 * j / (w - 1) : 0;
                double u = a[0] * x + a[1] * y + a[2], v = a[3] * x + a[4] * y + a[5];
                if (warp) {  // fastai's apply_perspective
                    double z = c[6] * u + c[7] * v + 1;
                    if (z != 0) {
                        double pu = (c[0] * u + c[1] * v + c[2]) / z, pv = (c[3] * u + c[4] * v + c[5]) / z;
                        u = pu, v = pv;
                    }
                }
                g[(size_t(i) * w + j) * 2] = float(u);
                g[(size_t(i) * w + j) * 2 + 1] = float(v);
            }
        }
        torch::Tensor input = imageTensor(image).to(torch::kFloat32).unsqueeze(0);
        torch::Tensor sampled = torch::grid_sampler(input, grid, 0, gridPadding(pad), true);
        out = tensorImage(sampled.squeeze(0).round().clamp(0, 255));
    }
    if (d.brightness != 0.5 || d.contrast != 1) {
        // fastai's lighting: (logit(x) + logit(brightness)) · contrast.
        double add = std::log(d.brightness / (1 - d.brightness));
        applyTable(out, logitTable(add * d.contrast, d.contrast));
    }
    return out;
}

// ---- rand_augment and trivial_augment ----------------------------------------

namespace {

// torch.linspace(start, end, steps)[i], from LibTorch itself: its kernel
// (vectorised in blocks) gives the bits torchvision's tables hold.
double linspaceAt(double start, double end, int steps, int i) {
    return double(torch::linspace(start, end, steps)[i].item<float>());
}

// torchvision's _get_inverse_affine_matrix (inverted = True).
std::array<double, 6> inverseAffine(std::array<double, 2> center, double angle, std::array<double, 2> translate,
                                    double scale, std::array<double, 2> shear) {
    double rot = angle * M_PI / 180, sx = shear[0] * M_PI / 180, sy = shear[1] * M_PI / 180;
    double cx = center[0], cy = center[1], tx = translate[0], ty = translate[1];
    double a = std::cos(rot - sy) / std::cos(sy);
    double b = -std::cos(rot - sy) * std::tan(sx) / std::cos(sy) - std::sin(rot);
    double c = std::sin(rot - sy) / std::cos(sy);
    double d = -std::sin(rot - sy) * std::tan(sx) / std::cos(sy) + std::cos(rot);
    std::array<double, 6> m = {d / scale, -b / scale, 0, -c / scale, a / scale, 0};
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
    m[2] += cx;
    m[5] += cy;
    return m;
}

// torchvision's tensor affine: _gen_affine_grid, then grid_sample (nearest,
// zeros outside, align_corners = False), rounded back to bytes.
// _gen_affine_grid's grid for a matrix and a size. RandAugment's magnitude
// is fixed, so the same few grids recur: they are kept (up to 64, then
// made afresh), which saves most of an operation's time.
torch::Tensor affineGrid(const std::array<double, 6>& matrix, int64_t h, int64_t w) {
    std::array<float, 6> m;
    for (size_t i = 0; i < 6; ++i) m[i] = float(matrix[i]);
    using Key = std::tuple<std::array<float, 6>, int64_t, int64_t>;
    static std::mutex mutex;
    static std::map<Key, torch::Tensor> grids;
    const Key key{m, h, w};
    {
        std::lock_guard lock(mutex);
        if (auto it = grids.find(key); it != grids.end()) return it->second;
    }
    torch::Tensor theta = torch::tensor(std::vector<float>(m.begin(), m.end())).reshape({1, 2, 3});
    const double d = 0.5;
    torch::Tensor base = torch::empty({1, h, w, 3}, torch::kFloat32);
    base.select(3, 0).copy_(torch::linspace(-double(w) * 0.5 + d, double(w) * 0.5 + d - 1, w));
    base.select(3, 1).copy_(torch::linspace(-double(h) * 0.5 + d, double(h) * 0.5 + d - 1, h).unsqueeze(-1));
    base.select(3, 2).fill_(1);
    torch::Tensor rescaled = theta.transpose(1, 2) / torch::tensor({0.5f * float(w), 0.5f * float(h)});
    torch::Tensor grid = base.view({1, h * w, 3}).bmm(rescaled).view({1, h, w, 2});
    std::lock_guard lock(mutex);
    if (grids.size() >= 64) grids.clear();
    grids.emplace(key, grid);
    return grid;
}

// torchvision's tensor affine: _gen_affine_grid, then grid_sample (nearest,
// zeros outside, align_corners = False), rounded back to bytes.
torch::Tensor affineNearest(const torch::Tensor& img, const std::array<double, 6>& matrix) {
    torch::Tensor grid = affineGrid(matrix, img.size(1), img.size(2));
    torch::Tensor out = torch::grid_sampler(img.to(torch::kFloat32).unsqueeze(0), grid, 1, 0, false);
    return out.squeeze(0).round().to(torch::kUInt8);
}

// torchvision's _blend, (ratio · img1 + (1 - ratio) · img2).clamp(0, 255)
// truncated to bytes, in the float32 operations torch does (each factor
// rounded to float, a product each, one sum), so the bytes are the same.
// `other(c, i)` is img2 at channel c, pixel i.
template <class Other>
torch::Tensor blendWith(const torch::Tensor& img1, double ratio, Other other) {
    torch::Tensor source = img1.contiguous();
    torch::Tensor out = torch::empty_like(source);
    const int64_t channels = source.size(0), plane = source.size(1) * source.size(2);
    const float a = float(ratio), b = float(1.0 - ratio);
    const uint8_t* in = source.data_ptr<uint8_t>();
    uint8_t* o = out.data_ptr<uint8_t>();
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = 0; i < plane; ++i) {
            float first = a * float(in[c * plane + i]);
            float second = b * other(c, i);
            float v = std::min(std::max(first + second, 0.f), 255.f);
            o[c * plane + i] = uint8_t(v);
        }
    return out;
}

torch::Tensor blend(const torch::Tensor& img1, const torch::Tensor& img2, double ratio) {
    torch::Tensor other = img2.contiguous();
    const int64_t plane = img1.size(1) * img1.size(2);
    const bool perChannel = other.size(0) == img1.size(0);
    const uint8_t* p = other.data_ptr<uint8_t>();
    return blendWith(img1, ratio, [&](int64_t c, int64_t i) { return float(p[(perChannel ? c * plane : 0) + i]); });
}

torch::Tensor blend(const torch::Tensor& img1, float value, double ratio) {
    return blendWith(img1, ratio, [value](int64_t, int64_t) { return value; });
}

// rgb_to_grayscale: (0.2989 · r + 0.587 · g + 0.114 · b) in float32, truncated.
torch::Tensor grayscale(const torch::Tensor& img) {
    if (img.size(0) != 3) return img.clone();
    torch::Tensor source = img.contiguous();
    const int64_t plane = source.size(1) * source.size(2);
    torch::Tensor out = torch::empty({1, source.size(1), source.size(2)}, torch::kUInt8);
    const uint8_t* in = source.data_ptr<uint8_t>();
    uint8_t* o = out.data_ptr<uint8_t>();
    const float kr = float(0.2989), kg = float(0.587), kb = float(0.114);
    for (int64_t i = 0; i < plane; ++i) {
        float r = kr * float(in[i]), g = kg * float(in[plane + i]), b = kb * float(in[2 * plane + i]);
        o[i] = uint8_t((r + g) + b);
    }
    return out;
}

// torchvision's adjust_sharpness: the image blended with its "degenerate"
// copy, whose inner pixels are smoothed by the kernel [1 1 1; 1 5 1; 1 1 1] / 13
// and rounded. The smoothing is done here in integers: (sum + 5·centre) / 13
// is never within 0.038 of a half, so any float evaluation (torchvision's
// conv2d) rounds it the same way, and this is 30 times faster than a grouped
// conv2d on the CPU.
torch::Tensor sharpness(const torch::Tensor& img, double factor) {
    const int64_t channels = img.size(0), h = img.size(1), w = img.size(2);
    if (h <= 2 || w <= 2) return img;
    torch::Tensor source = img.contiguous();
    torch::Tensor degenerate = source.clone();
    const uint8_t* in = source.data_ptr<uint8_t>();
    uint8_t* out = degenerate.data_ptr<uint8_t>();
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t y = 1; y + 1 < h; ++y) {
            const uint8_t* above = in + (c * h + y - 1) * w;
            const uint8_t* row = above + w;
            const uint8_t* below = row + w;
            uint8_t* o = out + (c * h + y) * w;
            for (int64_t x = 1; x + 1 < w; ++x) {
                int sum = above[x - 1] + above[x] + above[x + 1] + row[x - 1] + 5 * row[x] + row[x + 1] + below[x - 1] +
                          below[x] + below[x + 1];
                o[x] = uint8_t((2 * sum + 13) / 26);  // round(sum / 13), never a tie
            }
        }
    return blend(img, degenerate, factor);
}

torch::Tensor autocontrast(const torch::Tensor& img) {
    torch::Tensor minimum = img.amin({-2, -1}, true).to(torch::kFloat32);
    torch::Tensor maximum = img.amax({-2, -1}, true).to(torch::kFloat32);
    // Python's 255 / t is t.reciprocal() * 255 (LibTorch's operator/ divides).
    torch::Tensor scale = (maximum - minimum).reciprocal() * 255.0;
    torch::Tensor flat = torch::isfinite(scale).logical_not();
    minimum.index_put_({flat}, 0);
    scale.index_put_({flat}, 1);
    return ((img - minimum) * scale).clamp(0, 255).to(torch::kUInt8);
}

// torchvision's equalize (_scale_channel), channel by channel, in integers.
Image equalize(Image image) {
    const size_t plane = size_t(image.height) * image.width;
    for (int c = 0; c < image.channels; ++c) {
        uint8_t* p = image.plane(c);
        std::array<int64_t, 256> hist{};
        for (size_t i = 0; i < plane; ++i) ++hist[p[i]];
        int64_t last = -1, sum = 0;
        for (int v = 0; v < 256; ++v)
            if (hist[size_t(v)]) {
                if (last >= 0) sum += hist[size_t(last)];
                last = v;
            }
        int64_t step = sum / 255;
        if (step == 0) continue;
        std::array<uint8_t, 256> lut{};
        int64_t cumulative = 0;
        for (int v = 0; v < 256; ++v) {
            // lut[v] = (cumsum[v - 1] + step // 2) // step, lut[0] = 0
            lut[size_t(v)] = uint8_t(std::clamp<int64_t>(v == 0 ? 0 : (cumulative + step / 2) / step, 0, 255));
            cumulative += hist[size_t(v)];
        }
        for (size_t i = 0; i < plane; ++i) p[i] = lut[p[i]];
    }
    return image;
}

}  // namespace

const char* augOpName(AugOp op) {
    static const char* names[kAugOps] = {"identity",  "shear_x",    "shear_y",      "translate_x", "translate_y",
                                         "rotate",    "brightness", "color",        "contrast",    "sharpness",
                                         "posterize", "solarize",   "autocontrast", "equalize"};
    return names[int(op)];
}

bool augSigned(AugOp op) {
    return op >= AugOp::ShearX && op <= AugOp::Sharpness;
}

double augMagnitude(AugOp op, int bin, int bins, bool wide, int height, int width) {
    switch (op) {
    case AugOp::ShearX:
    case AugOp::ShearY: return linspaceAt(0, wide ? 0.99 : 0.3, bins, bin);
    case AugOp::TranslateX: return linspaceAt(0, wide ? 32.0 : 150.0 / 331.0 * width, bins, bin);
    case AugOp::TranslateY: return linspaceAt(0, wide ? 32.0 : 150.0 / 331.0 * height, bins, bin);
    case AugOp::Rotate: return linspaceAt(0, wide ? 135.0 : 30.0, bins, bin);
    case AugOp::Brightness:
    case AugOp::Color:
    case AugOp::Contrast:
    case AugOp::Sharpness: return linspaceAt(0, wide ? 0.99 : 0.9, bins, bin);
    case AugOp::Posterize: {
        // 8 - (arange(bins) / ((bins - 1) / k)).round().int(), k = 4 (6 wide)
        torch::Tensor bits = 8 - (torch::arange(bins) / ((bins - 1) / (wide ? 6.0 : 4.0))).round().to(torch::kInt);
        return double(bits[bin].item<int>());
    }
    case AugOp::Solarize: return linspaceAt(255, 0, bins, bin);
    default: return 0;
    }
}

Image applyAugOp(const Image& image, AugOp op, double magnitude) {
    if (image.empty()) return image;
    const double h = image.height, w = image.width;
    switch (op) {
    case AugOp::Identity: return image;
    case AugOp::Equalize: return equalize(image);
    default: break;
    }
    torch::NoGradGuard noGrad;
    torch::Tensor img = imageTensor(image), out;
    switch (op) {
    case AugOp::ShearX:
        out = affineNearest(img,
                            inverseAffine({-w * 0.5, -h * 0.5}, 0, {0, 0}, 1, {std::atan(magnitude) * 180 / M_PI, 0}));
        break;
    case AugOp::ShearY:
        out = affineNearest(img,
                            inverseAffine({-w * 0.5, -h * 0.5}, 0, {0, 0}, 1, {0, std::atan(magnitude) * 180 / M_PI}));
        break;
    case AugOp::TranslateX:
        out = affineNearest(img, inverseAffine({0, 0}, 0, {double(int(magnitude)), 0}, 1, {0, 0}));
        break;
    case AugOp::TranslateY:
        out = affineNearest(img, inverseAffine({0, 0}, 0, {0, double(int(magnitude))}, 1, {0, 0}));
        break;
    case AugOp::Rotate: out = affineNearest(img, inverseAffine({0, 0}, -magnitude, {0, 0}, 1, {0, 0})); break;
    case AugOp::Brightness: out = blend(img, 0.f, 1 + magnitude); break;
    case AugOp::Color: out = img.size(0) == 1 ? img : blend(img, grayscale(img), 1 + magnitude); break;
    case AugOp::Contrast: {
        float mean = grayscale(img).to(torch::kFloat32).mean({-3, -2, -1}, true).item<float>();
        out = blend(img, mean, 1 + magnitude);
        break;
    }
    case AugOp::Sharpness: out = sharpness(img, 1 + magnitude); break;
    case AugOp::Posterize: {
        int bits = std::clamp(int(magnitude), 0, 8);
        out = img.bitwise_and(int64_t(uint8_t(256 - (1 << (8 - bits)))));
        break;
    }
    case AugOp::Solarize: out = torch::where(img.ge(magnitude), img.bitwise_not(), img); break;
    case AugOp::AutoContrast: out = autocontrast(img); break;
    default: out = img;
    }
    return tensorImage(out);
}

std::vector<AugStep> drawAugSteps(bool trivial, int numOps, int magnitude, int bins, int height, int width, Rng& rng) {
    std::vector<AugStep> steps;
    for (int k = 0; k < (trivial ? 1 : numOps); ++k) {
        AugOp op = AugOp(rng.below(kAugOps));
        int bin = trivial ? int(rng.below(uint64_t(bins))) : magnitude;
        double m = augMagnitude(op, bin, bins, trivial, height, width);
        if (augSigned(op) && rng.below(2)) m = -m;
        steps.push_back({op, m});
    }
    return steps;
}

// ---- the makers ----------------------------------------------------------------

namespace {

std::array<double, 2> pairArg(const Value& call, const char* name) {
    auto v = numbersArg(&call, name);
    if (v.size() != 2 || v[0] > v[1])
        throw RuntimeError("`" + std::string(name) + "` of `" + call.text + "` must be [lo, hi]");
    return {v[0], v[1]};
}

ItemTransform makeRandomResizedCrop(const Value& call) {
    auto [height, width] = sizeArg(&call, "size");
    auto scale = pairArg(call, "scale"), ratio = pairArg(call, "ratio");
    double valXtra = numberArg(&call, "val_xtra");
    ItemTransform t;
    t.apply = [=](Image image, Rng& rng, bool training) {
        if (image.empty()) return image;
        if (!training) return validationResizedCrop(image, height, width, valXtra);
        CropBox box = randomResizedCropBox(image.height, image.width, scale, ratio, rng);
        return resize(crop(image, box.top, box.left, box.height, box.width), height, width);
    };
    return t;
}
const ItemMakers::Add kRandomResizedCrop{"random_resized_crop", makeRandomResizedCrop};

ItemTransform makeAugTransforms(const Value& call) {
    AugSettings s;
    s.doFlip = boolArg(&call, "do_flip");
    s.flipVert = boolArg(&call, "flip_vert");
    s.maxRotate = numberArg(&call, "max_rotate");
    s.minZoom = numberArg(&call, "min_zoom");
    s.maxZoom = numberArg(&call, "max_zoom");
    s.maxWarp = numberArg(&call, "max_warp");
    s.maxLighting = numberArg(&call, "max_lighting");
    s.pAffine = numberArg(&call, "p_affine");
    s.pLighting = numberArg(&call, "p_lighting");
    std::string pad = stringArg(&call, "pad_mode");
    s.pad = pad == "zeros" ? PadMode::Zeros : pad == "border" ? PadMode::Border : PadMode::Reflect;
    ItemTransform t;
    t.size = ItemTransform::Size::Keeps;
    t.apply = [s](Image image, Rng& rng, bool training) {
        if (!training || image.empty()) return image;
        return applyAug(image, drawAug(s, image.height, image.width, rng), s.pad);
    };
    return t;
}
const ItemMakers::Add kAugTransforms{"aug_transforms", makeAugTransforms};

ItemTransform policy(bool trivial, int numOps, int magnitude, int bins) {
    ItemTransform t;
    t.size = ItemTransform::Size::Keeps;
    t.apply = [=](Image image, Rng& rng, bool training) {
        if (!training || image.empty()) return image;
        for (const AugStep& step : drawAugSteps(trivial, numOps, magnitude, bins, image.height, image.width, rng))
            image = applyAugOp(image, step.op, step.magnitude);
        return image;
    };
    return t;
}

ItemTransform makeRandAugment(const Value& call) {
    int bins = int(intArg(&call, "num_magnitude_bins")), magnitude = int(intArg(&call, "magnitude"));
    if (magnitude >= bins)
        throw RuntimeError("`magnitude` of `rand_augment` must be below num_magnitude_bins (" + std::to_string(bins) +
                           ")");
    return policy(false, int(intArg(&call, "num_ops")), magnitude, bins);
}
const ItemMakers::Add kRandAugment{"rand_augment", makeRandAugment};

const ItemMakers::Add kTrivialAugment{
    "trivial_augment", [](const Value& call) { return policy(true, 1, 0, int(intArg(&call, "num_magnitude_bins"))); }};

}  // namespace

}  // namespace pipelang::runtime
