// The callbacks the loop adds itself, whatever the file says: one concern of
// training each, in its own file here. (The ones a file names register
// themselves: callback.h.)
#pragma once

#include <cstdint>
#include <memory>

#include "runtime/train/callback.h"

namespace pipelang::runtime {

// `accumulate = N`: the optimizer steps after every N batches.
std::unique_ptr<Callback> accumulateGradients(int64_t batches);
// A loss that is not finite ends training with the last good weights saved.
std::unique_ptr<Callback> nanGuard();
// Gradients averaged over the ranks of a data-parallel run.
std::unique_ptr<Callback> syncGradients(bool syncBatchNorm);
// `clip = x`: the gradient norm clipped before each step.
std::unique_ptr<Callback> clipGradients(double maxNorm);
// The progress bar and the table of epochs.
std::unique_ptr<Callback> progressTable();
// metrics.csv: a row per epoch.
std::unique_ptr<Callback> metricsCsv();
// lr.csv: the learning rate of every step.
std::unique_ptr<Callback> lrCsv();
// TensorBoard's event file.
std::unique_ptr<Callback> tensorBoard();
// checkpoint.pt after every epoch, at Ctrl-C and every five minutes.
std::unique_ptr<Callback> checkpointState();

struct Loop;
// `pipe run --resume`: checkpoint.pt, when the stage has one, into the
// network, the optimizer, the loop's position and each callback's state.
void resumeFromCheckpoint(Loop& loop);

}  // namespace pipelang::runtime
