// A decoded image: 8-bit channels, planar (channel × height × width), the form
// the item transforms work on. Decoding uses libjpeg-turbo and libpng.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace pipelang::runtime {

struct Image {
    int channels = 0, height = 0, width = 0;
    std::vector<uint8_t> pixels;  // channels * height * width, CHW

    Image() = default;
    Image(int c, int h, int w, uint8_t fill = 0) : channels(c), height(h), width(w), pixels(size_t(c) * h * w, fill) {}
    uint8_t* plane(int c) { return pixels.data() + size_t(c) * height * width; }
    const uint8_t* plane(int c) const { return pixels.data() + size_t(c) * height * width; }
    uint8_t& at(int c, int y, int x) { return pixels[(size_t(c) * height + y) * width + x]; }
    uint8_t at(int c, int y, int x) const { return pixels[(size_t(c) * height + y) * width + x]; }
    bool empty() const { return pixels.empty(); }
};

// The most pixels an image may say it has before it is decoded: Pillow's
// limit (twice its decompression-bomb warning), so a corrupt or hostile
// header cannot make pipe allocate gigabytes. Larger files are refused,
// named, like unreadable ones (`on_bad`).
constexpr int64_t kMaxImagePixels = 178956970;

// Reads and decodes a JPEG or PNG file (told apart by their signatures) into
// `channels` channels (1: grey, 3: RGB). Throws RuntimeError naming the file
// when it cannot be read or decoded. A JPEG larger than `atLeast` (height,
// width; 0 for no hint) is decoded at the smallest libjpeg-turbo scale that
// still covers it, which is several times faster for big photos.
Image decodeImageFile(const std::filesystem::path& path, int channels, std::pair<int, int> atLeast = {0, 0});
// Decodes an encoded JPEG or PNG held in memory; `name` is for messages.
Image decodeImage(const std::vector<uint8_t>& bytes, int channels, const std::string& name,
                  std::pair<int, int> atLeast = {0, 0});

// Interleaved (HWC) pixels to a planar image.
Image fromInterleaved(const uint8_t* data, int channels, int height, int width);
// The same image with `channels` channels: grey ↔ RGB (ITU-R 601 luma).
Image convertChannels(Image image, int channels);

// Writes the image as floats in [0, 1], or normalised per channel as
// (x - mean) / std when `mean` and `std` are given (one per channel).
void toFloat(const Image& image, float* out, const float* mean = nullptr, const float* std = nullptr);

// Encoders, for tests and for writing examples' images.
void writePng(const std::filesystem::path& path, const Image& image);
void writeJpeg(const std::filesystem::path& path, const Image& image, int quality = 95);

}  // namespace pipelang::runtime
