// The image items of a source, decoded on demand: in memory for IDX files,
// streamed from disk (with an optional bounded cache) for files. Every
// method is safe to call from many loader threads at once.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "runtime/data/image.h"

namespace pipelang::runtime {

// What the `image` block asks of every item before the item transforms.
struct ImageBlock {
    int channels = 3;
    int height = 0, width = 0;  // 0: keep the image's own size
};

class ImageItems {
public:
    virtual ~ImageItems() = default;
    virtual int64_t size() const = 0;
    // Item `i` with the block's channels and size.
    virtual Image get(int64_t i) const = 0;
    // A name for messages: the file, or "item N of FILE".
    virtual std::string describe(int64_t i) const = 0;
    virtual bool inMemory() const = 0;
};

// Equal-sized greyscale images held in memory, `count` × height × width.
std::shared_ptr<ImageItems> memoryImages(std::vector<uint8_t> pixels, int64_t count, int height, int width,
                                         ImageBlock block, std::string name);

// Image files, decoded when asked for. With `cacheBytes` > 0, decoded items
// are kept until that many bytes are held; the rest are decoded every time.
// `decodeHint` lets big JPEGs be decoded at a reduced scale.
std::shared_ptr<ImageItems> fileImages(std::vector<std::filesystem::path> paths, ImageBlock block,
                                       std::pair<int, int> decodeHint, int64_t cacheBytes);

}  // namespace pipelang::runtime
