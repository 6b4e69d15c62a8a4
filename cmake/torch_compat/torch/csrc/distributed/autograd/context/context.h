// Debian's libtorch-dev 1.13 ships c10d's reducer.hpp (and libtorch_cpu.so
// exports the Reducer) but leaves out the distributed-autograd headers that
// reducer.hpp includes for two declarations: the type of a gradient callback
// and the pointer type of an RPC context, a member the Reducer holds. pipe
// never uses distributed autograd (RPC); these are the two declarations as
// PyTorch 1.13 has them (torch/csrc/distributed/autograd/context/context.h),
// so the Reducer's layout is the library's. CMakeLists.txt puts this folder
// on the include path of runtime/distributed/gradient_sync.cpp only, and only
// when the LibTorch lacks the real header (a CUDA LibTorch from PyTorch has it).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>

namespace torch::distributed::autograd {

class DistAutogradContext {
public:
    using GradCallback = std::function<bool(at::Tensor&)>;
};

using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace torch::distributed::autograd
