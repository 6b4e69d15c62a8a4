// The runtime's one error type: a sentence for the user (what failed, where,
// what to do), caught at the top of `pipe-runtime` and printed without a trace.
#pragma once

#include <stdexcept>
#include <string>

namespace pipelang::runtime {

class RuntimeError : public std::runtime_error {
public:
    explicit RuntimeError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace pipelang::runtime

namespace pipelang::runtime {

// Ctrl-C during training: a checkpoint was written; the run ends with exit
// code 130 and continues with `pipe run --resume RUN`.
class Interrupted : public RuntimeError {
public:
    using RuntimeError::RuntimeError;
};

}  // namespace pipelang::runtime
