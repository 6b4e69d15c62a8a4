#include "runtime/weights/weights_file.h"

#include "runtime/weights/torch_save.h"

namespace pipelang::runtime {

NamedTensors readWeights(const std::filesystem::path& path) {
    return looksLikeTorchSave(path) ? readTorchSave(path) : readSafetensors(path);
}

}  // namespace pipelang::runtime
