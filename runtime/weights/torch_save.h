// Files written by PyTorch's torch.save — `.pth`, `.pt`, `.bin` — read as
// torch.load(weights_only=True) reads them: a state dict of tensors and
// nothing that runs. Both formats: the zip archive of PyTorch 1.6 and later
// (data.pkl and one record per storage, read with LibTorch's own
// PyTorchStreamReader) and the legacy one (a run of pickles, then the
// storages' bytes).
#pragma once

#include <filesystem>

#include "runtime/safetensors.h"

namespace pipelang::runtime {

// The file's state dict, names in file order. A checkpoint that wraps its
// state dict (`{"state_dict": ...}`, `{"model": ...}`) gives the inner one,
// and DataParallel's `module.` prefix is dropped. A whole pickled model, a
// global that would run code, or a truncated or malformed file is a
// RuntimeError naming the file and what to do.
NamedTensors readTorchSave(const std::filesystem::path& path);

// Whether the file starts as torch.save's formats do (a zip archive, or a
// pickle), rather than as safetensors.
bool looksLikeTorchSave(const std::filesystem::path& path);

}  // namespace pipelang::runtime
