// JPEGs as people have them: CMYK ones decoded as Pillow (torchvision's
// image loader) decodes them, truncated ones and ones whose header promises
// more pixels than any real image refused with the file's name.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>

#include "runtime/data/image.h"
#include "runtime/error.h"
#include "temp_dir.h"
#include "tests/runtime/test_files.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;

// The largest and the mean difference of two images of the same shape.
std::pair<int, double> difference(const Image& a, const Image& b) {
    int largest = 0;
    double sum = 0;
    for (size_t i = 0; i < a.pixels.size(); ++i) {
        int d = std::abs(int(a.pixels[i]) - int(b.pixels[i]));
        largest = std::max(largest, d), sum += d;
    }
    return {largest, sum / double(a.pixels.size())};
}

TEST(Jpeg, CmykIsDecodedAsPillowDecodesIt) {
    if (!pythonCanImport("PIL")) GTEST_SKIP() << "/usr/bin/python3 cannot import PIL (python3-pil)";
    TempDir dir;
    ASSERT_EQ(std::system(
                  ("/usr/bin/python3 " PIPE_SOURCE_DIR "/tests/runtime/make_jpegs.py " + dir.path().string()).c_str()),
              0);
    for (int channels : {3, 1}) {
        Image ours = decodeImageFile(dir / "cmyk.jpg", channels);
        Image pillow = decodeImageFile(dir / (channels == 3 ? "cmyk-rgb.png" : "cmyk-grey.png"), channels);
        ASSERT_EQ(ours.channels, channels);
        ASSERT_EQ(ours.height, 32);
        ASSERT_EQ(ours.width, 48);
        // The same conversion; only the DCT differs (pipe's fast one,
        // Pillow's exact one), by a level or two.
        auto [largest, mean] = difference(ours, pillow);
        EXPECT_LE(largest, 8) << channels << " channels";
        EXPECT_LT(mean, 1.5) << channels << " channels";
    }
}

TEST(Jpeg, TruncatedIsRefusedByName) {
    TempDir dir;
    Image image(3, 64, 64);
    for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = uint8_t(i * 7);
    writeJpeg(dir / "whole.jpg", image, 90);
    std::string file = readFile(dir / "whole.jpg");
    std::vector<uint8_t> bytes(file.begin(), file.end());
    EXPECT_NO_THROW(decodeImage(bytes, 3, "whole.jpg"));
    bytes.resize(bytes.size() / 2);
    std::string message = errorOf([&] { decodeImage(bytes, 3, "half.jpg"); });
    EXPECT_NE(message.find("`half.jpg` is a truncated JPEG"), std::string::npos) << message;
}

TEST(Jpeg, AHeaderPromisingTooManyPixelsIsRefusedBeforeDecoding) {
    TempDir dir;
    writeJpeg(dir / "small.jpg", Image(3, 8, 8), 90);
    std::string file = readFile(dir / "small.jpg");
    std::vector<uint8_t> bytes(file.begin(), file.end());
    // The frame header (SOF0, FF C0): length, precision, then height and width.
    size_t sof = 2;
    while (sof + 8 < bytes.size() && !(bytes[sof] == 0xff && bytes[sof + 1] == 0xc0)) ++sof;
    ASSERT_LT(sof + 8, bytes.size());
    for (size_t at : {sof + 5, sof + 7}) bytes[at] = 0xfd, bytes[at + 1] = 0xe8;  // 65000
    std::string message = errorOf([&] { decodeImage(bytes, 3, "bomb.jpg"); });
    EXPECT_NE(message.find("`bomb.jpg` says it is 65000×65000 pixels"), std::string::npos) << message;
}

}  // namespace
}  // namespace pipelang::runtime
