// How many cores a run computes on.
#pragma once

namespace pipelang::runtime {

// Gives LibTorch's intra-op pool `threads` and keeps the BLAS library's own
// pool to one thread. Debian's LibTorch does its matrix products in
// OpenBLAS, whose pthread pool (one thread per core, whatever LibTorch is
// told) spins in sched_yield between products and fights LibTorch's OpenMP
// threads for the cores. Measured on the 2-core machine, --threads 2,
// training items/s with OpenBLAS at 1 thread against its default of 2:
// bench/chars_mlp.pipe 168,575 against 51,265; bench/fashion_train.pipe
// 8,203 against 7,839; words_lm_lstm.pipe 9,042 against under a quarter of
// that. OPENBLAS_NUM_THREADS, when set, is left to stand.
void useThreads(int threads);

}  // namespace pipelang::runtime
