#include "runtime/distributed/world.h"
#include "runtime/train/callbacks/internal.h"
#include "runtime/train/loop.h"

namespace pipelang::runtime {

namespace {

class ProgressTable : public Callback {
public:
    void beforeFit(Loop& loop) override { loop.progress.header(epochColumns(loop.metricNames)); }
    void beforeEpoch(Loop& loop) override { loop.progress.begin("epoch " + std::to_string(loop.epoch), loop.batches); }
    // Every rank trains on an equal shard: the run's items are N times this rank's.
    void afterBatch(Loop& loop) override {
        loop.progress.step(loop.done, loop.items * distributed::size(), loop.running);
    }
    void beforeValidate(Loop& loop) override { loop.progress.end(); }
    void afterEpoch(Loop& loop) override { loop.progress.row(epochCells(loop.result.epochs.back())); }
};

}  // namespace

std::unique_ptr<Callback> progressTable() {
    return std::make_unique<ProgressTable>();
}

}  // namespace pipelang::runtime
