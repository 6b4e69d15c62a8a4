// Checkpoints: everything a `train` stage needs to go on exactly where it
// stopped — the weights, the optimizer's state, the position in the schedule
// and inside the epoch, the epoch's running sums, the callbacks' state and
// LibTorch's random generator (dropout). The loader's order depends only on
// (seed, epoch), so a resumed epoch starts at its next batch and no batch is
// replayed. Written atomically (temporary file, fsync, rename); a file that
// does not load whole is refused with its name, never half-loaded. The
// checkpoint before it stays beside it (checkpoint.prev.pt), so a file
// damaged afterwards (a full disk, a bad copy) costs one epoch, not the run.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/models/network.h"

namespace pipelang::runtime {

struct TrainState {
    int64_t epoch = 0;       // the epoch in progress (or the next to start)
    int64_t batch = 0;       // its batches already trained
    int64_t globalStep = 0;  // training steps since the stage began
    double total = 0, running = 0;
    int64_t items = 0;  // the epoch's sums so far
    double keepBest = 0, stopBest = 0;
    int64_t keepEpoch = -1, stopEpoch = -1;
    std::vector<std::pair<std::string, torch::Tensor>> kept;  // the weights `keep = best(...)` holds
};

void saveCheckpoint(const std::filesystem::path& path, Network& network, torch::optim::Optimizer& optimizer,
                    const TrainState& state);
// Throws RuntimeError naming the file when it is not a whole checkpoint of this network.
TrainState loadCheckpoint(const std::filesystem::path& path, Network& network, torch::optim::Optimizer& optimizer);

// The checkpoint saveCheckpoint(path) kept from before: checkpoint.prev.pt.
std::filesystem::path previousCheckpoint(const std::filesystem::path& path);

struct Resumed {
    TrainState state;
    std::filesystem::path from;  // `path`, or its previous checkpoint
    std::string warning;         // why the previous one was used; empty when it was not
};
// Loads `path`; when it is missing or damaged, the previous checkpoint, with
// a warning that says why. Nothing when there is neither; throws
// RuntimeError (naming `path`) when none that exists loads.
std::optional<Resumed> resumeCheckpoint(const std::filesystem::path& path, Network& network,
                                        torch::optim::Optimizer& optimizer);

}  // namespace pipelang::runtime
