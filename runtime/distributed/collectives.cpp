#include "runtime/distributed/collectives.h"

#include <algorithm>

#include "runtime/distributed/process_group.h"

namespace pipelang::runtime::distributed {

void allReduceSum(std::vector<torch::Tensor>& tensors) {
    if (!distributed()) return;
    // A c10d allreduce of several tensors takes them as copies of one (a GPU
    // each) and sums them too: one call per tensor.
    for (auto& t : tensors) {
        std::vector<torch::Tensor> one = {t};
        processGroup()->allreduce(one)->wait();
    }
}

double allReduceSum(double value) {
    if (!distributed()) return value;
    std::vector<torch::Tensor> t = {torch::tensor({value}, torch::kFloat64)};
    allReduceSum(t);
    return t[0].item<double>();
}

void broadcast(std::vector<torch::Tensor>& tensors, int root) {
    if (!distributed() || tensors.empty()) return;
    c10d::BroadcastOptions options;
    options.rootRank = root;
    // Gloo broadcasts one tensor per call.
    for (auto& t : tensors) {
        std::vector<torch::Tensor> one = {t};
        processGroup()->broadcast(one, options)->wait();
    }
}

void barrier() {
    if (!distributed()) return;
    processGroup()->barrier()->wait();
}

bool anyRank(bool value) {
    return allReduceSum(value ? 1.0 : 0.0) > 0;
}

torch::Tensor allGatherRows(const torch::Tensor& rows) {
    if (!distributed()) return rows;
    int n = size();
    torch::Tensor count = torch::tensor({rows.size(0)}, torch::kInt64);
    std::vector<std::vector<torch::Tensor>> counts(1);
    for (int r = 0; r < n; ++r) counts[0].push_back(torch::empty_like(count));
    std::vector<torch::Tensor> mine = {count};
    processGroup()->allgather(counts, mine)->wait();
    int64_t longest = 0;
    std::vector<int64_t> lengths;
    for (const auto& c : counts[0]) lengths.push_back(c.item<int64_t>()), longest = std::max(longest, lengths.back());
    auto shape = rows.sizes().vec();
    shape[0] = longest;
    torch::Tensor padded = torch::zeros(shape, rows.options());
    if (rows.size(0) > 0) padded.narrow(0, 0, rows.size(0)).copy_(rows);
    std::vector<std::vector<torch::Tensor>> gathered(1);
    for (int r = 0; r < n; ++r) gathered[0].push_back(torch::empty_like(padded));
    std::vector<torch::Tensor> input = {padded.contiguous()};
    processGroup()->allgather(gathered, input)->wait();
    std::vector<torch::Tensor> parts;
    for (int r = 0; r < n; ++r) parts.push_back(gathered[0][size_t(r)].narrow(0, 0, lengths[size_t(r)]));
    return torch::cat(parts);
}

}  // namespace pipelang::runtime::distributed
