// The loader behind every split: an epoch's order (a permutation drawn from
// (seed, epoch) for training, the split's own order otherwise) cut into
// batches, each made whole by one worker thread. Workers run at most
// `prefetch` batches ahead of the consumer, so memory stays bounded, and
// batches are handed out in order. Since a batch depends only on its items
// and the epoch, the result is the same for any number of workers. In a
// data-parallel run each process makes only its shard of every batch; a
// shard left empty (the end of a validation split) is skipped.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "runtime/data/dataset.h"
#include "runtime/data/shard.h"

namespace pipelang::runtime {

// Makes the batch of the items at `positions` (their places in the split)
// for `epoch`. Called from worker threads, so it must be thread-safe.
using MakeBatch = std::function<Batch(const std::vector<int64_t>& positions, int64_t epoch)>;

struct LoaderOptions {
    int64_t items = 0;
    int64_t batchSize = 64;
    int64_t workers = 0;  // 0: batches are made on the caller's thread
    bool shuffle = false;
    bool dropLast = false;  // drop a last, smaller batch (training, as fastai)
    uint64_t seed = 0;
    int64_t prefetch = 0;  // batches made ahead; 0: twice the workers, at least 2
    // This process's slice of every batch (data-parallel runs); the number of
    // batches is the global one, the same on every rank.
    Shard shard = processShard();
    // An epoch's order of items, when shuffling is more than a permutation
    // (text batches bucketed by length); it must depend on the epoch alone.
    std::function<std::vector<int64_t>(int64_t epoch)> order;
};

// A split's loader options: training shuffles from the seed and drops a
// smaller last batch (as fastai); validation and test keep their order.
inline LoaderOptions splitLoaderOptions(int64_t items, int64_t batchSize, int64_t workers, bool training,
                                        uint64_t seed) {
    LoaderOptions options;
    options.items = items;
    options.batchSize = batchSize;
    options.workers = workers;
    options.shuffle = options.dropLast = training;
    options.seed = seed;
    return options;
}

class ThreadedLoader : public Loader {
public:
    ThreadedLoader(LoaderOptions options, MakeBatch make);
    ~ThreadedLoader() override;
    int64_t batches() const override;
    void start(int64_t epoch, int64_t firstBatch = 0) override;
    std::optional<Batch> next() override;

private:
    struct Slot {
        std::optional<Batch> batch;
        std::exception_ptr error;
    };
    void stop();
    void work();
    std::optional<Batch> take();  // the next batch; nothing for an empty shard
    std::vector<int64_t> positionsOf(int64_t batch) const;

    LoaderOptions options_;
    MakeBatch make_;
    std::vector<int64_t> order_;
    int64_t epoch_ = -1;
    int64_t total_ = 0;     // batches this epoch
    int64_t consumed_ = 0;  // batches handed out
    int64_t claimed_ = 0;   // batches a worker has started
    bool stopping_ = false;
    std::map<int64_t, Slot> ready_;
    std::mutex mutex_;
    // Two conditions, so that taking a batch wakes one worker, not all of
    // them: with small batches the wake-ups, not the work, were the cost.
    std::condition_variable space_;   // workers: a batch may be made ahead
    std::condition_variable filled_;  // the consumer: a batch is ready
    std::vector<std::thread> threads_;
};

// Rows `positions` of a contiguous tensor, gathered into a new one.
torch::Tensor gatherRows(const torch::Tensor& tensor, const std::vector<int64_t>& positions);

}  // namespace pipelang::runtime
