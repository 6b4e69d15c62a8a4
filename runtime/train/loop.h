// The training loop of one `train` stage: phases of the schedule, epochs of
// training batches, each epoch followed by a validation pass. The loop does
// the forward pass, the loss, backward and the optimizer's step, sets the
// schedule's learning rates, and raises the events of callback.h around
// them; the callbacks share its state through this struct. fit() (fit.h)
// sets it up and builds the callbacks.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "interpreter/pipeline.h"
#include "runtime/data/dataset.h"
#include "runtime/models/network.h"
#include "runtime/train/callback.h"
#include "runtime/train/checkpoint.h"
#include "runtime/train/fit.h"
#include "runtime/train/loss.h"
#include "runtime/train/progress.h"
#include "runtime/train/schedule.h"

namespace pipelang::runtime {

struct Loop {
    Loop(Network& network, const PreparedData& data, const Section& dataSection, const Section& train,
         const torch::Device& device, std::filesystem::path stageDir, Progress& progress);

    // Trains every phase, raising the events; the result of every epoch.
    FitResult run();

    // What the stage trains, and with what; set before run().
    Network& network;
    const PreparedData& data;
    const Section& dataSection;
    const Section& train;
    const torch::Device device;
    const std::filesystem::path stageDir;
    Progress& progress;
    bool writes = false;  // rank 0 alone writes the stage's files; every rank trains
    LossFn lossFn;
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    std::vector<Phase> phases;
    const Value* metricList = nullptr;
    std::vector<std::string> metricNames;  // the metrics' columns, as written
    std::string precision;
    int64_t batchSize = 0, workers = 0;
    bool hasValid = false;
    std::vector<std::unique_ptr<Callback>> callbacks;

    // Where a resumed run goes on: the position checkpoint.pt holds.
    bool resumed = false;
    TrainState start;

    // Where the loop is. The counters count the current batch from
    // afterBackward on; before it they count the batches trained before it.
    const Phase* phase = nullptr;
    int64_t epoch = 0;         // of the stage, over every phase
    int64_t epochInPhase = 0;  // the schedule's shapes count from each phase's start
    int64_t batches = 0;       // training batches in an epoch of this phase
    int64_t done = 0;          // batches of this epoch trained
    int64_t step = 0;          // batches of this phase trained
    int64_t globalStep = 0;    // batches of the stage trained
    double lr = 0;             // the head's learning rate for this batch
    Batch batch;               // on the device; cleared after afterBatch
    torch::Tensor output;
    torch::Tensor loss;    // what backward runs on: a callback may scale it in afterLoss
    double lossValue = 0;  // the batch's own loss, unscaled
    bool stepsNow = true;  // the optimizer steps after this batch (set in beforeBatch)
    double total = 0;      // this rank's loss sum over the epoch's items so far
    int64_t items = 0;
    double running = 0;  // the running mean the progress bar shows
    FitResult result;    // early_stop sets stoppedEarly: training ends after that epoch

private:
    void runPhase(const Phase& phase);
    void runEpoch(Loader& loader);
    void enterEpoch();
    void trainBatch(Batch next);
    EpochResult score(std::chrono::steady_clock::time_point started);
    void emit(void (Callback::*event)(Loop&));
};

// The table's columns (metrics.csv, the progress table) and one epoch's cells.
std::vector<std::string> epochColumns(const std::vector<std::string>& metricNames);
std::vector<std::string> epochCells(const EpochResult& epoch);

// A batch on the device, copied from page-locked memory.
Batch toDevice(Batch batch, const torch::Device& device);
// The forward pass at `precision`; predictions come back float32, so that
// losses and metrics are computed as in fp32 training.
torch::Tensor forwardAt(Network& network, const Batch& batch, const std::string& precision,
                        const torch::Device& device);
// Throws RuntimeError for a precision this runtime cannot train at.
void checkPrecision(const std::string& precision, const torch::Device& device);

// Fields the checker always fills in (`batch_size`, `precision`): a missing
// one is an internal error.
int64_t integerField(const Section& section, std::string_view name);
std::string stringField(const Section& section, std::string_view name);

}  // namespace pipelang::runtime
