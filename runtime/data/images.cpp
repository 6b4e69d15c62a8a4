// JPEG through libjpeg-turbo's TurboJPEG API, PNG through libpng's simplified
// png_image API.
#include <png.h>
#include <turbojpeg.h>

#include <cstring>
#include <fstream>
#include <memory>

#include "runtime/data/image.h"
#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

struct TjHandle {
    tjhandle handle;
    explicit TjHandle(tjhandle h) : handle(h) {}
    ~TjHandle() {
        if (handle) tjDestroy(handle);
    }
};

// One decompressor per thread: creating one costs more than a small decode.
tjhandle decompressor() {
    thread_local TjHandle h(tjInitDecompress());
    return h.handle;
}

std::string quoted(const std::string& name) {
    return "`" + name + "`";
}

// CMYK (and YCCK) JPEGs as Pillow reads them, which torchvision's loaders
// use: the stored values taken as Adobe's inverted CMYK, then
// R = (255 - C)(255 - K) / 255 with Pillow's rounding (its cmyk2rgb), and
// grey by Pillow's luma weights.
void cmykToRgbOrGrey(const std::vector<uint8_t>& cmyk, std::vector<uint8_t>& out, int channels) {
    auto mulDiv255 = [](int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    };
    const size_t pixels = cmyk.size() / 4;
    for (size_t i = 0; i < pixels; ++i) {
        const uint8_t* in = &cmyk[4 * i];
        int nk = in[3];  // 255 - K, K being 255 - the stored value
        int rgb[3];
        for (int c = 0; c < 3; ++c) rgb[c] = nk - mulDiv255(255 - in[c], nk);
        if (channels == 3)
            for (int c = 0; c < 3; ++c) out[3 * i + size_t(c)] = uint8_t(rgb[c]);
        else
            out[i] = uint8_t((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
    }
}

Image decodeJpeg(const std::vector<uint8_t>& bytes, int channels, const std::string& name,
                 std::pair<int, int> atLeast) {
    tjhandle tj = decompressor();
    if (!tj) throw RuntimeError("could not start the JPEG decoder (libturbojpeg) while reading " + quoted(name) + ".");
    int width = 0, height = 0, subsampling = 0, colorspace = 0;
    if (tjDecompressHeader3(tj, bytes.data(), (unsigned long)bytes.size(), &width, &height, &subsampling,
                            &colorspace) != 0)
        throw RuntimeError("image " + quoted(name) + " is not a readable JPEG (" + tjGetErrorStr2(tj) +
                           "); replace or remove the file.");
    if (int64_t(width) * height > kMaxImagePixels)
        throw RuntimeError("image " + quoted(name) + " says it is " + std::to_string(width) + "×" +
                           std::to_string(height) + " pixels, more than the " + std::to_string(kMaxImagePixels) +
                           " pipe decodes (Pillow's limit); replace or remove the file.");
    // The smallest scale that keeps both sides at least as large as asked.
    int outW = width, outH = height;
    if (atLeast.first > 0 && atLeast.second > 0) {
        int count = 0;
        tjscalingfactor* factors = tjGetScalingFactors(&count);
        for (int i = 0; i < count; ++i) {
            int w = TJSCALED(width, factors[i]), h = TJSCALED(height, factors[i]);
            if (w >= atLeast.second && h >= atLeast.first && int64_t(w) * h < int64_t(outW) * outH) outW = w, outH = h;
        }
    }
    // libjpeg-turbo decodes CMYK only to CMYK: it is converted here.
    const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
    const int format = cmyk ? TJPF_CMYK : channels == 1 ? TJPF_GRAY : TJPF_RGB;
    std::vector<uint8_t> decoded(size_t(outW) * outH * size_t(tjPixelSize[format]));
    if (tjDecompress2(tj, bytes.data(), (unsigned long)bytes.size(), decoded.data(), outW, 0, outH, format,
                      TJFLAG_FASTDCT) != 0) {
        // Most of libjpeg's warnings are about damage a decoder recovers
        // from (extraneous bytes before a marker) and Pillow accepts them
        // too; a file that ends early has pixels missing, filled with grey.
        std::string message = tjGetErrorStr2(tj);
        if (tjGetErrorCode(tj) == TJERR_FATAL)
            throw RuntimeError("image " + quoted(name) + " is a corrupt JPEG (" + message +
                               "); replace or remove the file.");
        if (message.find("Premature end of JPEG file") != std::string::npos)
            throw RuntimeError("image " + quoted(name) + " is a truncated JPEG (its data ends before its last " +
                               "pixel); replace or remove the file.");
    }
    if (!cmyk) return fromInterleaved(decoded.data(), channels, outH, outW);
    std::vector<uint8_t> converted(size_t(outW) * outH * size_t(channels));
    cmykToRgbOrGrey(decoded, converted, channels);
    return fromInterleaved(converted.data(), channels, outH, outW);
}

Image decodePng(const std::vector<uint8_t>& bytes, int channels, const std::string& name) {
    png_image png;
    std::memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
        throw RuntimeError("image " + quoted(name) + " is not a readable PNG (" + png.message +
                           "); replace or remove the file.");
    if (int64_t(png.width) * png.height > kMaxImagePixels) {
        png_image_free(&png);
        throw RuntimeError("image " + quoted(name) + " says it is " + std::to_string(png.width) + "×" +
                           std::to_string(png.height) + " pixels, more than the " + std::to_string(kMaxImagePixels) +
                           " pipe decodes (Pillow's limit); replace or remove the file.");
    }
    png.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;  // alpha is composited onto black
    std::vector<uint8_t> interleaved(PNG_IMAGE_SIZE(png));
    if (!png_image_finish_read(&png, nullptr, interleaved.data(), 0, nullptr)) {
        std::string message = png.message;
        png_image_free(&png);
        throw RuntimeError("image " + quoted(name) + " is a corrupt PNG (" + message +
                           "); replace or remove the file.");
    }
    return fromInterleaved(interleaved.data(), channels, int(png.height), int(png.width));
}

}  // namespace

Image decodeImage(const std::vector<uint8_t>& bytes, int channels, const std::string& name,
                  std::pair<int, int> atLeast) {
    if (channels != 1 && channels != 3)
        throw RuntimeError("images can be decoded to 1 or 3 channels, not " + std::to_string(channels) + ".");
    static const uint8_t pngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff)
        return decodeJpeg(bytes, channels, name, atLeast);
    if (bytes.size() >= 8 && std::memcmp(bytes.data(), pngSignature, 8) == 0) return decodePng(bytes, channels, name);
    throw RuntimeError("file " + quoted(name) + " is neither a JPEG nor a PNG image" +
                       (bytes.empty() ? std::string(" (it is empty)") : std::string()) +
                       "; remove it or narrow the source's `extensions`.");
}

Image decodeImageFile(const std::filesystem::path& path, int channels, std::pair<int, int> atLeast) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw RuntimeError("cannot open image " + quoted(path.string()) + "; check that it exists and is readable.");
    in.seekg(0, std::ios::end);
    auto size = in.tellg();
    in.seekg(0);
    std::vector<uint8_t> bytes(size < 0 ? size_t(0) : size_t(size));
    if (!bytes.empty() && !in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size())))
        throw RuntimeError("cannot read image " + quoted(path.string()) + ".");
    return decodeImage(bytes, channels, path.string(), atLeast);
}

Image fromInterleaved(const uint8_t* data, int channels, int height, int width) {
    Image image(channels, height, width);
    size_t n = size_t(height) * width;
    if (channels == 1) {
        std::memcpy(image.pixels.data(), data, n);
        return image;
    }
    for (int c = 0; c < channels; ++c) {
        uint8_t* out = image.plane(c);
        for (size_t i = 0; i < n; ++i) out[i] = data[i * channels + c];
    }
    return image;
}

Image convertChannels(Image image, int channels) {
    if (image.channels == channels) return image;
    size_t n = size_t(image.height) * image.width;
    Image out(channels, image.height, image.width);
    if (image.channels == 1) {
        for (int c = 0; c < channels; ++c) std::memcpy(out.plane(c), image.plane(0), n);
    } else if (channels == 1) {
        const uint8_t *r = image.plane(0), *g = image.plane(1), *b = image.plane(2);
        uint8_t* y = out.plane(0);
        for (size_t i = 0; i < n; ++i) y[i] = uint8_t((299 * r[i] + 587 * g[i] + 114 * b[i] + 500) / 1000);
    } else {
        throw RuntimeError("cannot convert an image with " + std::to_string(image.channels) + " channels to " +
                           std::to_string(channels) + ".");
    }
    return out;
}

void toFloat(const Image& image, float* out, const float* mean, const float* std) {
    const size_t plane = size_t(image.height) * image.width;
    for (int c = 0; c < image.channels; ++c) {
        float scale = std ? 1.f / (255.f * std[c]) : 1.f / 255.f;
        float shift = std ? -mean[c] / std[c] : 0.f;
        const uint8_t* src = image.plane(c);
        float* dst = out + size_t(c) * plane;
        for (size_t i = 0; i < plane; ++i) dst[i] = float(src[i]) * scale + shift;
    }
}

namespace {

std::vector<uint8_t> interleave(const Image& image) {
    size_t n = size_t(image.height) * image.width;
    std::vector<uint8_t> out(n * image.channels);
    for (int c = 0; c < image.channels; ++c)
        for (size_t i = 0; i < n; ++i) out[i * image.channels + c] = image.plane(c)[i];
    return out;
}

}  // namespace

void writePng(const std::filesystem::path& path, const Image& image) {
    png_image png;
    std::memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = png_uint_32(image.width);
    png.height = png_uint_32(image.height);
    png.format = image.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    auto data = interleave(image);
    if (!png_image_write_to_file(&png, path.c_str(), 0, data.data(), 0, nullptr))
        throw RuntimeError("cannot write PNG " + quoted(path.string()) + " (" + png.message + ").");
}

void writeJpeg(const std::filesystem::path& path, const Image& image, int quality) {
    tjhandle tj = tjInitCompress();
    if (!tj) throw RuntimeError("could not start the JPEG encoder (libturbojpeg).");
    TjHandle guard(tj);
    auto data = interleave(image);
    unsigned char* jpeg = nullptr;
    unsigned long size = 0;
    int format = image.channels == 1 ? TJPF_GRAY : TJPF_RGB;
    int subsampling = image.channels == 1 ? TJSAMP_GRAY : TJSAMP_444;
    if (tjCompress2(tj, data.data(), image.width, 0, image.height, format, &jpeg, &size, subsampling, quality, 0) != 0)
        throw RuntimeError("cannot encode JPEG " + quoted(path.string()) + " (" + tjGetErrorStr2(tj) + ").");
    std::unique_ptr<unsigned char, void (*)(unsigned char*)> owned(jpeg, tjFree);
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(jpeg), std::streamsize(size));
    if (!out) throw RuntimeError("cannot write JPEG " + quoted(path.string()) + ".");
}

}  // namespace pipelang::runtime
