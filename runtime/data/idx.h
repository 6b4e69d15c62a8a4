// The IDX format of (Fashion-)MNIST: a big-endian header (magic number, then
// one 32-bit size per dimension) followed by unsigned bytes; read through
// zlib, so gzipped and plain files both work.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace pipelang::runtime {

struct IdxSet {
    int64_t count = 0;
    int height = 0, width = 0;
    std::vector<uint8_t> images;  // count * height * width, row-major
    std::vector<uint8_t> labels;  // count
};

// Reads `PREFIX-images-idx3-ubyte[.gz]` and `PREFIX-labels-idx1-ubyte[.gz]`
// from `folder`, checking magic numbers, sizes and that the two agree.
IdxSet readIdx(const std::filesystem::path& folder, const std::string& prefix);

// Class names for the labels 0..9: Fashion-MNIST's when the folder's name
// says fashion, the digits otherwise.
std::vector<std::string> idxClassNames(const std::filesystem::path& folder, int classes);

}  // namespace pipelang::runtime
