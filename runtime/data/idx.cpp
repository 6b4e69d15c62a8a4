#include "runtime/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "runtime/data/listing.h"
#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

struct GzFile {
    gzFile file;
    explicit GzFile(const std::filesystem::path& path) : file(gzopen(path.c_str(), "rb")) {}
    ~GzFile() {
        if (file) gzclose(file);
    }
};

std::filesystem::path findFile(const std::filesystem::path& folder, const std::string& name) {
    for (const char* suffix : {".gz", ""}) {
        auto path = folder / (name + suffix);
        if (std::filesystem::is_regular_file(path)) return path;
    }
    std::string hint = folder.string().find("fashion-mnist") != std::string::npos
                           ? " (Debian ships it in the `dataset-fashion-mnist` package)"
                           : "";
    throw RuntimeError("idx source: `" + (folder / (name + ".gz")).string() + "` does not exist" + hint +
                       "; check the source's `path` and its `train`/`test` prefixes.");
}

// The whole (decompressed) file.
std::vector<uint8_t> readAll(const std::filesystem::path& path) {
    GzFile gz(path);
    if (!gz.file) throw RuntimeError("idx source: cannot open `" + path.string() + "`; check that it is readable.");
    gzbuffer(gz.file, 1 << 17);
    std::vector<uint8_t> out;
    std::vector<uint8_t> chunk(1 << 20);
    for (;;) {
        int n = gzread(gz.file, chunk.data(), unsigned(chunk.size()));
        if (n < 0) {
            int code = 0;
            std::string message = gzerror(gz.file, &code);
            throw RuntimeError("idx source: `" + path.string() + "` is corrupt (" + message +
                               "); download or reinstall it.");
        }
        if (n == 0) break;
        out.insert(out.end(), chunk.begin(), chunk.begin() + n);
    }
    return out;
}

uint32_t bigEndian(const std::vector<uint8_t>& bytes, size_t at) {
    return uint32_t(bytes[at]) << 24 | uint32_t(bytes[at + 1]) << 16 | uint32_t(bytes[at + 2]) << 8 | bytes[at + 3];
}

// Checks the header and returns the sizes of the dimensions.
std::vector<uint32_t> header(const std::vector<uint8_t>& bytes, const std::filesystem::path& path, int dims) {
    uint32_t magic = 0x800u + uint32_t(dims);  // unsigned bytes, `dims` dimensions
    auto bad = [&](const std::string& what) {
        return RuntimeError("idx source: `" + path.string() + "` " + what + "; it is not an IDX " +
                            (dims == 1 ? "label" : "image") + " file, or it is damaged.");
    };
    if (bytes.size() < 4) throw bad("is too short (" + std::to_string(bytes.size()) + " bytes)");
    if (bigEndian(bytes, 0) != magic) {
        char text[16];
        std::snprintf(text, sizeof text, "0x%08x", bigEndian(bytes, 0));
        char expected[16];
        std::snprintf(expected, sizeof expected, "0x%08x", magic);
        throw bad(std::string("starts with the magic number ") + text + " instead of " + expected);
    }
    if (bytes.size() < 4 + 4 * size_t(dims)) throw bad("is too short (" + std::to_string(bytes.size()) + " bytes)");
    std::vector<uint32_t> sizes;
    uint64_t total = 1;
    for (int d = 0; d < dims; ++d) {
        sizes.push_back(bigEndian(bytes, 4 + 4 * size_t(d)));
        total *= sizes.back();
    }
    uint64_t expected = 4 + 4 * uint64_t(dims) + total;
    if (bytes.size() != expected)
        throw bad("holds " + std::to_string(bytes.size()) + " bytes where its header promises " +
                  std::to_string(expected));
    return sizes;
}

}  // namespace

IdxSet readIdx(const std::filesystem::path& folder, const std::string& prefix) {
    if (!std::filesystem::is_directory(folder))
        throw RuntimeError("idx source: the folder `" + folder.string() + "` does not exist" +
                           (folder.string().find("fashion-mnist") != std::string::npos
                                ? "; install Debian's `dataset-fashion-mnist` package or fix the `path`."
                                : "; fix the source's `path`."));
    auto imagesPath = findFile(folder, prefix + "-images-idx3-ubyte");
    auto labelsPath = findFile(folder, prefix + "-labels-idx1-ubyte");
    IdxSet set;
    set.images = readAll(imagesPath);
    auto imageSizes = header(set.images, imagesPath, 3);
    set.labels = readAll(labelsPath);
    auto labelSizes = header(set.labels, labelsPath, 1);
    if (imageSizes[0] != labelSizes[0])
        throw RuntimeError("idx source: `" + imagesPath.string() + "` holds " + std::to_string(imageSizes[0]) +
                           " images but `" + labelsPath.string() + "` holds " + std::to_string(labelSizes[0]) +
                           " labels; the two files must come from the same set.");
    set.count = imageSizes[0];
    set.height = int(imageSizes[1]);
    set.width = int(imageSizes[2]);
    set.images.erase(set.images.begin(), set.images.begin() + 16);
    set.labels.erase(set.labels.begin(), set.labels.begin() + 8);
    return set;
}

std::vector<std::string> idxClassNames(const std::filesystem::path& folder, int classes) {
    std::string name = folder.lexically_normal().string();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    std::vector<std::string> out;
    if (name.find("fashion") != std::string::npos && classes <= 10) {
        static const char* fashion[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
        out.assign(fashion, fashion + 10);
        return out;
    }
    for (int i = 0; i < classes; ++i) out.push_back(std::to_string(i));
    return out;
}

namespace {
// An idx source lists no files: its images and labels are in the idx files
// themselves, which the image block reads (image_data.cpp).
void listIdx(const Value&, Listing& listing) {
    listing.inMemory = true;
}
const SourceMakers::Add kIdx{"idx", listIdx};
}  // namespace

}  // namespace pipelang::runtime
