#include "runtime/data/shard.h"

namespace pipelang::runtime {

namespace {
// One per process: a process is one rank of a run.
Shard current;
}  // namespace

Shard processShard() {
    return current;
}
void setProcessShard(Shard shard) {
    current = shard;
}

}  // namespace pipelang::runtime
