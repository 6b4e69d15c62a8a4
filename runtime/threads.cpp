#include "runtime/threads.h"

#include <dlfcn.h>
#include <torch/torch.h>

namespace pipelang::runtime {

void useThreads(int threads) {
    torch::set_num_threads(threads);
    // Looked up rather than linked: the BLAS behind libblas.so.3 is chosen by
    // Debian's alternatives, and only OpenBLAS has a pool to size.
    using SetThreads = void (*)(int);
    if (auto* set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
}

}  // namespace pipelang::runtime
