// Weights on disk as safetensors only: an 8-byte little-endian header length,
// a JSON header (name → dtype, shape, data_offsets; optional __metadata__),
// then the raw little-endian bytes. Nothing executable is ever read.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace pipelang::runtime {

struct NamedTensors {
    std::vector<std::pair<std::string, torch::Tensor>> tensors;  // in file order
    std::map<std::string, std::string> metadata;
};

// Reads a whole file; a truncated or malformed file is a RuntimeError naming
// the file and what is wrong, never a half-loaded result.
NamedTensors readSafetensors(const std::filesystem::path& path);
// Writes atomically (temporary file, fsync, rename): a crash leaves the old
// file or the new one, never a torn one.
void writeSafetensors(const std::filesystem::path& path, const NamedTensors& data);

}  // namespace pipelang::runtime
