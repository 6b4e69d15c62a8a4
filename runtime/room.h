// Room on disk for what a run writes. A full disk found half-way through
// training costs the user the epochs before it, so the run reserves space for
// its files before the first step and fails then, with a clear message.
#pragma once

#include <cstdint>
#include <filesystem>

namespace pipelang::runtime {

// Reserves `bytes` in `dir` (posix_fallocate of a temporary file, removed
// again), which fails on a full disk, a quota or a file-size limit as the real
// writes would. Throws RuntimeError naming the folder, the size and what to do.
void ensureRoom(const std::filesystem::path& dir, std::uintmax_t bytes, const char* what);

// What a training stage writes at most at once: weights, and checkpoints that
// hold them with the optimizer's state (two more tensors per parameter for
// Adam) and the kept best weights (the checkpoint, the one before it and the
// one being written), plus room for logs and metrics.
std::uintmax_t stageRoom(std::uintmax_t parameterBytes);

}  // namespace pipelang::runtime
