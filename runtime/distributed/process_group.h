// The c10d process group that world.cpp built, for the pieces that talk to
// c10d directly (the gradient reducer). Kept apart from world.h so that the
// training loop does not include c10d's headers.
#pragma once

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

namespace pipelang::runtime::distributed {

// Null when the run is one process.
c10::intrusive_ptr<c10d::ProcessGroup> processGroup();

}  // namespace pipelang::runtime::distributed
