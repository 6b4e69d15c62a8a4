#include "runtime/data/loader.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "runtime/data/random.h"

namespace pipelang::runtime {

ThreadedLoader::ThreadedLoader(LoaderOptions options, MakeBatch make) : options_(options), make_(std::move(make)) {
    if (options_.batchSize < 1) options_.batchSize = 1;
    if (options_.prefetch <= 0) options_.prefetch = std::max<int64_t>(2, 2 * options_.workers);
}

ThreadedLoader::~ThreadedLoader() {
    stop();
}

int64_t ThreadedLoader::batches() const {
    int64_t n = options_.items, b = options_.batchSize;
    if (options_.dropLast && n >= b) return n / b;
    return (n + b - 1) / b;
}

std::vector<int64_t> ThreadedLoader::positionsOf(int64_t batch) const {
    int64_t begin = batch * options_.batchSize;
    int64_t end = std::min<int64_t>(begin + options_.batchSize, int64_t(order_.size()));
    const Shard& shard = options_.shard;
    if (shard.count > 1) {
        int64_t items = end - begin;
        end = begin + shard.end(items);
        begin += shard.begin(items);
    }
    return {order_.begin() + begin, order_.begin() + end};
}

void ThreadedLoader::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    space_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
}

void ThreadedLoader::start(int64_t epoch, int64_t firstBatch) {
    stop();
    epoch_ = epoch;
    if (options_.order) {
        order_ = options_.order(epoch);
    } else if (options_.shuffle) {
        order_ = Rng(options_.seed, uint64_t(epoch), 0x6f72646572).permutation(options_.items);
    } else {
        order_.resize(size_t(options_.items));
        std::iota(order_.begin(), order_.end(), int64_t(0));
    }
    total_ = batches();
    consumed_ = claimed_ = std::clamp<int64_t>(firstBatch, 0, total_);
    ready_.clear();
    stopping_ = false;
    for (int64_t w = 0; w < options_.workers; ++w) threads_.emplace_back([this] { work(); });
}

void ThreadedLoader::work() {
    for (;;) {
        int64_t batch;
        {
            std::unique_lock lock(mutex_);
            space_.wait(lock,
                        [&] { return stopping_ || (claimed_ < total_ && claimed_ < consumed_ + options_.prefetch); });
            if (stopping_) return;
            batch = claimed_++;
        }
        Slot slot;
        try {
            std::vector<int64_t> positions = positionsOf(batch);
            if (!positions.empty()) slot.batch = make_(positions, epoch_);
        } catch (...) {
            slot.error = std::current_exception();
        }
        {
            std::lock_guard lock(mutex_);
            ready_[batch] = std::move(slot);
        }
        filled_.notify_one();  // the one consumer
    }
}

std::optional<Batch> ThreadedLoader::next() {
    if (epoch_ < 0) start(0);
    for (;;) {
        if (consumed_ >= total_) return std::nullopt;
        if (auto batch = take()) return batch;
    }
}

std::optional<Batch> ThreadedLoader::take() {
    if (options_.workers == 0) {
        std::vector<int64_t> positions = positionsOf(consumed_++);
        if (positions.empty()) return std::nullopt;
        return make_(positions, epoch_);
    }
    Slot slot;
    {
        std::unique_lock lock(mutex_);
        filled_.wait(lock, [&] { return ready_.count(consumed_) > 0; });
        auto it = ready_.find(consumed_);
        slot = std::move(it->second);
        ready_.erase(it);
        ++consumed_;
    }
    space_.notify_one();  // one more batch may be made ahead
    if (slot.error) {
        stop();
        consumed_ = total_;
        std::rethrow_exception(slot.error);
    }
    return std::move(slot.batch);
}

torch::Tensor gatherRows(const torch::Tensor& tensor, const std::vector<int64_t>& positions) {
    auto sizes = tensor.sizes().vec();
    sizes[0] = int64_t(positions.size());
    torch::Tensor out = torch::empty(sizes, tensor.options());
    size_t rowBytes = size_t(tensor.numel() / std::max<int64_t>(1, tensor.size(0))) * tensor.element_size();
    auto* src = static_cast<const char*>(tensor.data_ptr());
    auto* dst = static_cast<char*>(out.data_ptr());
    for (size_t i = 0; i < positions.size(); ++i)
        std::memcpy(dst + i * rowBytes, src + size_t(positions[i]) * rowBytes, rowBytes);
    return out;
}

}  // namespace pipelang::runtime
