#include "runtime/data/geometry.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace pipelang::runtime {

namespace {

// Mirror without repeating the edge: -1 → 1, n → n - 2.
int reflectIndex(int i, int n) {
    if (n == 1) return 0;
    int period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

int mapIndex(int i, int n, PadMode mode) {
    if (i >= 0 && i < n) return i;
    if (mode == PadMode::Border) return std::clamp(i, 0, n - 1);
    if (mode == PadMode::Reflect) return reflectIndex(i, n);
    return -1;
}

// Round half away from zero and clamp, without a library call per pixel.
inline uint8_t toByte(float v) {
    v = v < 0.f ? 0.f : v > 255.f ? 255.f : v;
    return uint8_t(v + 0.5f);
}

// The taps of a 1-D antialiased triangle filter from `in` samples to `out`.
struct Taps {
    std::vector<int> start, count;
    std::vector<float> weights;  // `maxCount` per output sample
    int maxCount = 0;
};

Taps triangleTaps(int in, int out) {
    Taps taps;
    double scale = double(in) / out;
    double filterScale = std::max(scale, 1.0);
    double support = filterScale;  // the triangle's support is 1, widened when shrinking
    // Every output reads the same number of inputs (zero weights pad the
    // short ends), so the inner loops have a fixed length.
    auto range = [&](int o) {
        double center = (o + 0.5) * scale;
        return std::pair{std::max(0, int(center - support + 0.5)), std::min(in, int(center + support + 0.5))};
    };
    for (int o = 0; o < out; ++o) taps.maxCount = std::max(taps.maxCount, range(o).second - range(o).first);
    taps.start.resize(size_t(out));
    taps.count.assign(size_t(out), taps.maxCount);
    taps.weights.assign(size_t(out) * taps.maxCount, 0.f);
    for (int o = 0; o < out; ++o) {
        double center = (o + 0.5) * scale;
        auto [lo, hi] = range(o);
        double total = 0;
        std::vector<double> w;
        for (int i = lo; i < hi; ++i) {
            double x = (i - center + 0.5) / filterScale;
            w.push_back(std::max(0.0, 1.0 - std::abs(x)));
            total += w.back();
        }
        int start = std::max(0, std::min(lo, in - taps.maxCount));
        taps.start[size_t(o)] = start;
        for (size_t k = 0; k < w.size(); ++k) {
            int at = lo + int(k) - start;
            if (at >= 0 && at < taps.maxCount)
                taps.weights[size_t(o) * taps.maxCount + size_t(at)] = float(total > 0 ? w[k] / total : 0);
        }
    }
    return taps;
}

}  // namespace

Image resize(const Image& image, int height, int width) {
    if (image.height == height && image.width == width) return image;
    const bool sameWidth = image.width == width, sameHeight = image.height == height;
    Taps horizontal = triangleTaps(image.width, width);
    Taps vertical = triangleTaps(image.height, height);
    Image out(image.channels, height, width);
    std::vector<float> rows(size_t(image.height) * width), sum(static_cast<size_t>(width));
    for (int c = 0; c < image.channels; ++c) {
        // Rows first: every input row resampled to the new width.
        const uint8_t* src = image.plane(c);
        for (int y = 0; y < image.height; ++y) {
            const uint8_t* line = src + size_t(y) * image.width;
            float* dst = rows.data() + size_t(y) * width;
            if (sameWidth) {
                for (int x = 0; x < width; ++x) dst[x] = line[x];
                continue;
            }
            for (int x = 0; x < width; ++x) {
                const float* w = horizontal.weights.data() + size_t(x) * horizontal.maxCount;
                const uint8_t* p = line + horizontal.start[size_t(x)];
                float s = 0;
                for (int k = 0; k < horizontal.count[size_t(x)]; ++k) s += w[k] * p[k];
                dst[x] = s;
            }
        }
        // Then columns: each output row a weighted sum of whole rows (vectorises).
        uint8_t* dst = out.plane(c);
        for (int y = 0; y < height; ++y) {
            uint8_t* line = dst + size_t(y) * width;
            if (sameHeight) {
                const float* row = rows.data() + size_t(y) * width;
                for (int x = 0; x < width; ++x) line[x] = toByte(row[x]);
                continue;
            }
            const float* w = vertical.weights.data() + size_t(y) * vertical.maxCount;
            int start = vertical.start[size_t(y)], count = vertical.count[size_t(y)];
            std::fill(sum.begin(), sum.end(), 0.f);
            for (int k = 0; k < count; ++k) {
                const float* row = rows.data() + size_t(start + k) * width;
                const float weight = w[k];
                for (int x = 0; x < width; ++x) sum[size_t(x)] += weight * row[x];
            }
            for (int x = 0; x < width; ++x) line[x] = toByte(sum[size_t(x)]);
        }
    }
    return out;
}

Image pad(const Image& image, int top, int bottom, int left, int right, PadMode mode) {
    Image out(image.channels, image.height + top + bottom, image.width + left + right);
    std::vector<int> columns(size_t(out.width));
    for (int x = 0; x < out.width; ++x) columns[size_t(x)] = mapIndex(x - left, image.width, mode);
    for (int c = 0; c < image.channels; ++c)
        for (int y = 0; y < out.height; ++y) {
            int sy = mapIndex(y - top, image.height, mode);
            if (sy < 0) continue;
            const uint8_t* src = image.plane(c) + size_t(sy) * image.width;
            uint8_t* dst = out.plane(c) + size_t(y) * out.width;
            for (int x = 0; x < out.width; ++x)
                if (columns[size_t(x)] >= 0) dst[x] = src[columns[size_t(x)]];
        }
    return out;
}

Image crop(const Image& image, int top, int left, int height, int width) {
    Image out(image.channels, height, width);
    int x0 = std::max(0, -left), x1 = std::min(width, image.width - left);
    if (x1 <= x0) return out;
    for (int c = 0; c < image.channels; ++c)
        for (int y = 0; y < height; ++y) {
            int sy = y + top;
            if (sy < 0 || sy >= image.height) continue;
            std::memcpy(out.plane(c) + size_t(y) * width + x0, image.plane(c) + size_t(sy) * image.width + left + x0,
                        size_t(x1 - x0));
        }
    return out;
}

Image centerCrop(const Image& image, int height, int width) {
    return crop(image, (image.height - height) / 2, (image.width - width) / 2, height, width);
}

Image flip(const Image& image, bool vertical) {
    Image out(image.channels, image.height, image.width);
    for (int c = 0; c < image.channels; ++c)
        for (int y = 0; y < image.height; ++y) {
            const uint8_t* src = image.plane(c) + size_t(vertical ? image.height - 1 - y : y) * image.width;
            uint8_t* dst = out.plane(c) + size_t(y) * image.width;
            if (vertical)
                std::memcpy(dst, src, size_t(image.width));
            else
                std::reverse_copy(src, src + image.width, dst);
        }
    return out;
}

Image rotate(const Image& image, double degrees) {
    Image out(image.channels, image.height, image.width);
    double angle = degrees * M_PI / 180.0;
    double cs = std::cos(angle), sn = std::sin(angle);
    double cx = (image.width - 1) / 2.0, cy = (image.height - 1) / 2.0;
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x) {
            // The inverse rotation: where this output pixel comes from.
            double dx = x - cx, dy = y - cy;
            double sx = cs * dx - sn * dy + cx, sy = sn * dx + cs * dy + cy;
            int x0 = int(std::floor(sx)), y0 = int(std::floor(sy));
            float fx = float(sx - x0), fy = float(sy - y0);
            int xa = reflectIndex(x0, image.width), xb = reflectIndex(x0 + 1, image.width);
            int ya = reflectIndex(y0, image.height), yb = reflectIndex(y0 + 1, image.height);
            for (int c = 0; c < image.channels; ++c) {
                float top = image.at(c, ya, xa) * (1 - fx) + image.at(c, ya, xb) * fx;
                float bottom = image.at(c, yb, xa) * (1 - fx) + image.at(c, yb, xb) * fx;
                out.at(c, y, x) = toByte(top * (1 - fy) + bottom * fy);
            }
        }
    return out;
}

void applyTable(Image& image, const std::array<uint8_t, 256>& table) {
    for (auto& p : image.pixels) p = table[p];
}

}  // namespace pipelang::runtime
