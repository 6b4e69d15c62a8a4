// Pretrained weights as people have them: a safetensors file, or a state
// dict that PyTorch's torch.save wrote (`.pth`, `.pt`, `.bin`), told apart
// by their first bytes rather than their names; or a Hugging Face model
// folder (model.safetensors, pytorch_model.bin, or the shards an index names).
#pragma once

#include <filesystem>

#include "runtime/safetensors.h"

namespace pipelang::runtime {

NamedTensors readWeights(const std::filesystem::path& path);

}  // namespace pipelang::runtime
