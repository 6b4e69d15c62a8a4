#include "runtime/device.h"

#include <torch/cuda.h>

#include "runtime/distributed/world.h"
#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

// One GPU per process: a data-parallel worker takes the GPU of its local rank.
torch::Device cudaDevice() {
    auto gpus = int(torch::cuda::device_count());
    return torch::Device(torch::kCUDA, gpus > 0 ? int8_t(distributed::localRank() % gpus) : int8_t(0));
}

}  // namespace

torch::Device chooseDevice(const std::string& wanted) {
    if (wanted == "cuda") {
        if (!torch::cuda::is_available())
            throw RuntimeError(
                "`device = \"cuda\"` was asked for, but this LibTorch sees no CUDA GPU (a CPU-only "
                "LibTorch, or no NVIDIA driver); use `--device cpu`, or build pipe against a CUDA "
                "LibTorch on a machine with a GPU");
        return cudaDevice();
    }
    if (wanted == "auto" && torch::cuda::is_available()) return cudaDevice();
    return torch::Device(torch::kCPU);
}

}  // namespace pipelang::runtime
