// Where a stage computes: the file's `device` (or --device) made a LibTorch
// device, for `pipe run`, its data-parallel workers and `pipe lr-find` alike.
#pragma once

#include <torch/types.h>

#include <string>

namespace pipelang::runtime {

// "cpu", "cuda" or "auto" (a GPU when LibTorch sees one). A data-parallel
// worker takes the GPU of its local rank. Throws RuntimeError for "cuda"
// without one, saying what to do.
torch::Device chooseDevice(const std::string& wanted);

}  // namespace pipelang::runtime
