#include <chrono>

#include "runtime/distributed/collectives.h"
#include "runtime/error.h"
#include "runtime/train/callbacks/internal.h"
#include "runtime/train/interrupt.h"
#include "runtime/train/loop.h"

namespace pipelang::runtime {

namespace {

// Steps between two checks, in a run of several processes, of whether any
// rank was interrupted or is due a checkpoint: each check is an all-reduce
// that waits for the slowest rank.
constexpr int64_t kAskEvery = 16;

std::filesystem::path checkpointPath(const Loop& loop) {
    return loop.stageDir / "checkpoint.pt";
}

// checkpoint.pt, so that `--resume` goes on where training stopped: after
// every epoch, and at a step boundary on Ctrl-C or when five minutes have
// passed since the last one. Last in the loop's list, it saves what every
// other callback updated.
class CheckpointState : public Callback {
public:
    void beforeFit(Loop&) override { last_ = std::chrono::steady_clock::now(); }

    // Across processes a check asks every rank (an all-reduce), so they ask
    // every kAskEvery steps: all at the same steps. Every rank stops at the
    // same step when Ctrl-C reached any, and the checkpoint holds the loss
    // sums of every rank.
    void afterBatch(Loop& loop) override {
        bool boundary =
            loop.stepsNow && loop.done < loop.batches && (!distributed::distributed() || loop.done % kAskEvery == 0);
        bool due = std::chrono::steady_clock::now() - last_ > std::chrono::minutes(5);
        if (!boundary || !distributed::anyRank(interruptRequested() || due)) return;
        bool interrupted = distributed::anyRank(interruptRequested());
        save(loop, loop.epoch, loop.done, distributed::allReduceSum(loop.total), loop.running,
             int64_t(distributed::allReduceSum(double(loop.items))));
        if (interrupted) {
            loop.progress.end();
            throw Interrupted("interrupted in epoch " + std::to_string(loop.epoch) + " after batch " +
                              std::to_string(loop.done) + "; a checkpoint is in " + checkpointPath(loop).string());
        }
    }

    void afterEpoch(Loop& loop) override {
        save(loop, loop.epoch + 1, 0, 0, 0, 0);
        if (distributed::anyRank(interruptRequested()))
            throw Interrupted("interrupted after epoch " + std::to_string(loop.epoch) + "; a checkpoint is in " +
                              checkpointPath(loop).string());
    }

private:
    void save(Loop& loop, int64_t epoch, int64_t batch, double total, double running, int64_t items) {
        if (loop.writes) {
            TrainState now;
            now.epoch = epoch, now.batch = batch, now.globalStep = loop.globalStep;
            now.total = total, now.running = running, now.items = items;
            for (const auto& callback : loop.callbacks) callback->saveState(now);
            saveCheckpoint(checkpointPath(loop), loop.network, *loop.optimizer, now);
        }
        last_ = std::chrono::steady_clock::now();
    }

    std::chrono::steady_clock::time_point last_;
};

}  // namespace

std::unique_ptr<Callback> checkpointState() {
    return std::make_unique<CheckpointState>();
}

void resumeFromCheckpoint(Loop& loop) {
    auto resumed = resumeCheckpoint(checkpointPath(loop), loop.network, *loop.optimizer);
    if (!resumed) return;
    loop.start = resumed->state;
    loop.resumed = true;
    for (const auto& callback : loop.callbacks) callback->loadState(loop.start);
    if (!resumed->warning.empty()) loop.progress.line("warning: " + resumed->warning);
    loop.progress.line("resuming from " + resumed->from.string() + ": epoch " + std::to_string(loop.start.epoch) +
                       ", batch " + std::to_string(loop.start.batch));
}

}  // namespace pipelang::runtime
