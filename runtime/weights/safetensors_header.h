// The header of a safetensors file, read and checked without LibTorch, so
// that the checks run under the fuzzer (tests/fuzz/fuzz_safetensors.cpp) as
// they run in readSafetensors: every offset, size and dtype against the file
// before any tensor is made.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pipelang::runtime {

// The dtypes safetensors files hold that pipe reads, by their names in the header.
struct SafetensorsDType {
    const char* name;
    size_t bytes;
};
inline constexpr SafetensorsDType kSafetensorsDTypes[] = {
    {"F32", 4}, {"F64", 8}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
    {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1},
};

struct SafetensorsEntry {
    std::string name;
    const SafetensorsDType* dtype = nullptr;
    std::vector<int64_t> shape;
    uint64_t begin = 0, end = 0;  // within the data, which follows the header
};

struct SafetensorsHeader {
    std::vector<SafetensorsEntry> entries;  // in the order of their data, then by name
    std::map<std::string, std::string> metadata;
};

// The header's length from the file's first 8 bytes, checked against the
// file's size. Errors (RuntimeError) name `path`.
uint64_t safetensorsHeaderSize(const std::filesystem::path& path, const unsigned char (&length)[8], uint64_t fileSize);
// The header's JSON, each entry checked against `dataSize` (the bytes after
// the header): known dtype, a shape whose bytes fit, offsets in the data and
// matching the shape, no two tensors sharing bytes.
SafetensorsHeader parseSafetensorsHeader(const std::filesystem::path& path, std::string_view text, uint64_t dataSize);

// The error readSafetensors gives for a bad file: "cannot read weights file `path`: what".
[[noreturn]] void badSafetensors(const std::filesystem::path& path, const std::string& what);

}  // namespace pipelang::runtime
