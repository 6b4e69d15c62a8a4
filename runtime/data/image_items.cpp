#include "runtime/data/image_items.h"

#include <array>
#include <cstring>

#include "runtime/data/geometry.h"

namespace pipelang::runtime {

namespace {

Image applyBlock(Image image, const ImageBlock& block) {
    image = convertChannels(std::move(image), block.channels);
    if (block.height > 0 && block.width > 0) image = resize(image, block.height, block.width);
    return image;
}

class MemoryImages : public ImageItems {
public:
    MemoryImages(std::vector<uint8_t> pixels, int64_t count, int height, int width, ImageBlock block, std::string name)
        : pixels_(std::move(pixels)),
          count_(count),
          height_(height),
          width_(width),
          block_(block),
          name_(std::move(name)) {}
    int64_t size() const override { return count_; }
    Image get(int64_t i) const override {
        Image image(1, height_, width_);
        std::memcpy(image.pixels.data(), pixels_.data() + size_t(i) * image.pixels.size(), image.pixels.size());
        return applyBlock(std::move(image), block_);
    }
    std::string describe(int64_t i) const override { return "item " + std::to_string(i) + " of " + name_; }
    bool inMemory() const override { return true; }

private:
    std::vector<uint8_t> pixels_;
    int64_t count_;
    int height_, width_;
    ImageBlock block_;
    std::string name_;
};

class FileImages : public ImageItems {
public:
    FileImages(std::vector<std::filesystem::path> paths, ImageBlock block, std::pair<int, int> hint, int64_t cacheBytes)
        : paths_(std::move(paths)),
          block_(block),
          hint_(hint),
          cacheBytes_(cacheBytes),
          cache_(cacheBytes > 0 ? paths_.size() : 0) {}
    int64_t size() const override { return int64_t(paths_.size()); }
    Image get(int64_t i) const override {
        auto& lock = locks_[size_t(i) % locks_.size()];
        if (!cache_.empty()) {
            std::lock_guard guard(lock);
            if (cache_[size_t(i)]) return *cache_[size_t(i)];
        }
        std::pair<int, int> atLeast = block_.height > 0 ? std::pair{block_.height, block_.width} : hint_;
        Image image = applyBlock(decodeImageFile(paths_[size_t(i)], block_.channels, atLeast), block_);
        if (!cache_.empty() && held_.load() + int64_t(image.pixels.size()) <= cacheBytes_) {
            std::lock_guard guard(lock);
            if (!cache_[size_t(i)]) {
                cache_[size_t(i)] = std::make_unique<const Image>(image);
                held_ += int64_t(image.pixels.size());
            }
        }
        return image;
    }
    std::string describe(int64_t i) const override { return paths_[size_t(i)].string(); }
    bool inMemory() const override { return false; }

private:
    std::vector<std::filesystem::path> paths_;
    ImageBlock block_;
    std::pair<int, int> hint_;
    int64_t cacheBytes_;
    mutable std::vector<std::unique_ptr<const Image>> cache_;
    mutable std::array<std::mutex, 64> locks_;
    mutable std::atomic<int64_t> held_{0};
};

}  // namespace

std::shared_ptr<ImageItems> memoryImages(std::vector<uint8_t> pixels, int64_t count, int height, int width,
                                         ImageBlock block, std::string name) {
    return std::make_shared<MemoryImages>(std::move(pixels), count, height, width, block, std::move(name));
}

std::shared_ptr<ImageItems> fileImages(std::vector<std::filesystem::path> paths, ImageBlock block,
                                       std::pair<int, int> decodeHint, int64_t cacheBytes) {
    return std::make_shared<FileImages>(std::move(paths), block, decodeHint, cacheBytes);
}

}  // namespace pipelang::runtime
