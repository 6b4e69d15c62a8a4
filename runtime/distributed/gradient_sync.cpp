#include "runtime/distributed/gradient_sync.h"

#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <algorithm>

#include "runtime/distributed/collectives.h"
#include "runtime/distributed/process_group.h"

namespace pipelang::runtime::distributed {

GradientSync::GradientSync(torch::nn::Module& network) {
    auto group = processGroup();
    if (!group) return;
    std::vector<at::Tensor> params;
    std::unordered_map<size_t, std::string> names;
    for (const auto& p : network.named_parameters()) {
        if (!p.value().requires_grad()) continue;
        names[params.size()] = p.key();
        params.push_back(p.value());
    }
    if (params.empty()) return;
    std::vector<bool> sparse(params.size(), false);
    const std::vector<size_t> limits = {size_t(c10d::kDefaultFirstBucketBytes), size_t(c10d::kDefaultBucketBytesCap)};
    auto [buckets, bucketLimits] = c10d::compute_bucket_assignment_by_size(params, limits, sparse);
    // Gradients are ready from the last layer to the first: the buckets go
    // in that order, so the first to fill is the first to be reduced.
    std::reverse(buckets.begin(), buckets.end());
    std::reverse(bucketLimits.begin(), bucketLimits.end());
    reducer_ = std::make_unique<c10d::Reducer>(
        params, buckets, bucketLimits, group, sparse, int64_t(c10d::kDefaultBucketBytesCap),
        /*find_unused_parameters=*/false,
        /*gradient_as_bucket_view=*/false, names, int64_t(c10d::kDefaultFirstBucketBytes));
}

GradientSync::~GradientSync() = default;

void GradientSync::beforeForward(bool sync) {
    if (!reducer_ || !sync) return;
    // After the first step the buckets follow the order in which gradients
    // actually arrived (DDP's bucket rebuild), agreed on by every rank.
    reducer_->rebuild_buckets();
    reducer_->prepare_for_forward();
}

void GradientSync::beforeBackward(bool sync) {
    if (!reducer_ || !sync) return;
    reducer_->prepare_for_backward({});
}

void copyFromMain(torch::nn::Module& network) {
    if (!distributed()) return;
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> state;
    for (const auto& p : network.parameters()) state.push_back(p.detach());
    for (const auto& b : network.buffers()) state.push_back(b.detach());
    broadcast(state, 0);
}

}  // namespace pipelang::runtime::distributed
