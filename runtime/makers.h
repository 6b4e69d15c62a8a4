// The runtime's side of stdlib/implementations.h: looks up the maker a
// resolved call names, in the table of its family, and turns a missing one
// into the runtime's error. Each family's header names its table, e.g.
// `using LossMakers = stdlib::Implementations<stdlib::Family::Loss, LossMaker>;`.
#pragma once

#include <string>

#include "interpreter/pipeline.h"
#include "runtime/error.h"
#include "stdlib/implementations.h"

namespace pipelang::runtime {

// The maker of the built-in `call` names. The registry coverage test makes a
// miss impossible for a checked file; the error is for a call made in code.
template <typename Table>
const auto& makerOf(const Value& call) {
    const auto* maker = Table::find(call.text);
    if (!maker)
        throw RuntimeError(std::string(stdlib::familyName(Table::family)) + " `" + call.text +
                           "` is not supported by this runtime yet");
    return *maker;
}

}  // namespace pipelang::runtime
