#include "runtime/threads.h"

#include <dlfcn.h>
#include <torch/torch.h>
#include <cstdlib>

namespace pipelang::runtime {

void useThreads(int threads) {
    torch::set_num_threads(threads);
    // Looked up rather than linked: the BLAS behind libblas.so.3 is chosen by
    // Debian's alternatives, and only OpenBLAS has a pool to size. Its
    // products then run on the calling thread: on one core per op, where
    // LibTorch's pool parallelises the other ops.
    using SetThreads = void (*)(int);
    if (std::getenv("OPENBLAS_NUM_THREADS")) return;  // the user's own choice stands
    if (auto* set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
}

}  // namespace pipelang::runtime
