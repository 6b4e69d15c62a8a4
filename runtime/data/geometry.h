// Pixel operations on planar 8-bit images, the kernels behind the item
// transforms. Each is a pure function of its inputs (no threads, no global
// state), so the same item always gives the same bytes.
#pragma once

#include <array>

#include "runtime/data/image.h"

namespace pipelang::runtime {

enum class PadMode { Zeros, Reflect, Border };

// Resamples to height × width with an antialiased bilinear (triangle) filter,
// the filter PIL's `resize(BILINEAR)` uses, so shrinking does not alias.
Image resize(const Image& image, int height, int width);
// Adds borders; the fill follows `mode` (reflect mirrors without repeating
// the edge pixel, as PyTorch's and numpy's "reflect").
Image pad(const Image& image, int top, int bottom, int left, int right, PadMode mode);
// The height × width window whose top-left corner is (top, left); parts
// outside the image are zeros.
Image crop(const Image& image, int top, int left, int height, int width);
// The centred window, zero-padded when the image is smaller.
Image centerCrop(const Image& image, int height, int width);
Image flip(const Image& image, bool vertical);
// Rotates by `degrees` (counter-clockwise) about the centre, bilinear,
// filling what comes from outside by reflection (fastai's default).
Image rotate(const Image& image, double degrees);
// Maps every pixel through a table.
void applyTable(Image& image, const std::array<uint8_t, 256>& table);

}  // namespace pipelang::runtime
