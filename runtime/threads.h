// How many cores a run computes on.
#pragma once

namespace pipelang::runtime {

// Sizes every pool that computes tensors to `threads`: LibTorch's own
// (OpenMP) and the BLAS library's. Debian's LibTorch does its matrix
// products in OpenBLAS, whose pthread pool has one thread per core whatever
// LibTorch is told; between products those threads spin in sched_yield, so
// `--threads 1` still took the second core, and small products were split
// across threads that then had to meet. (Measured on bench/chars_mlp.pipe:
// 3,710 steps/s with the pool left alone, 4,055 with it sized to 1.)
void useThreads(int threads);

}  // namespace pipelang::runtime
