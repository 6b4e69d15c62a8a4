// Collectives over every rank of the world (world.h): no-ops in one
// process. Tensors stay where they are; on the CPU with Gloo, on the GPU
// with NCCL.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "runtime/distributed/world.h"

namespace pipelang::runtime::distributed {

void allReduceSum(std::vector<torch::Tensor>& tensors);
double allReduceSum(double value);
void broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
void barrier();
// True on every rank when it is true on any (a Ctrl-C that reached one rank
// first: all of them stop at the same step).
bool anyRank(bool value);
// Every rank's rows, in rank order: ranks may hold different numbers of
// rows (the last validation batch), so they are padded to the longest for
// the allgather and cut back.
torch::Tensor allGatherRows(const torch::Tensor& rows);

}  // namespace pipelang::runtime::distributed
