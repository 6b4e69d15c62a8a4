// Which part of every batch this process loads. In a data-parallel run of N
// processes, global batch k of an epoch is cut into N consecutive slices and
// rank r loads slice r, so that the N processes together see exactly the
// items (and the order) of a one-process run with the whole batch: the
// epoch's permutation depends on (seed, epoch) alone, the same on every rank.
#pragma once

#include <cstdint>

namespace pipelang::runtime {

struct Shard {
    int64_t rank = 0;
    int64_t count = 1;
    // Slice `rank` of a global batch of `items`: [begin, end).
    int64_t begin(int64_t items) const { return items * rank / count; }
    int64_t end(int64_t items) const { return items * (rank + 1) / count; }
};

// The shard of this process (rank 0 of 1 until a distributed run sets it).
Shard processShard();
void setProcessShard(Shard shard);

}  // namespace pipelang::runtime
