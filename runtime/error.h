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

// What an error that ends a command says to the user. LibTorch's own errors
// (c10::Error) carry a backtrace: they give their first line, marked
// "in LibTorch: ". Kept here so that the command line needs no LibTorch header.
std::string describe(const std::exception& error);
// The first line of an error's message: LibTorch's without its backtrace.
std::string firstLine(const std::exception& error);

}  // namespace pipelang::runtime

namespace pipelang::runtime {

// Ctrl-C during training: a checkpoint was written; the run ends with exit
// code 130 and continues with `pipe run --resume RUN`.
class Interrupted : public RuntimeError {
public:
    using RuntimeError::RuntimeError;
};

}  // namespace pipelang::runtime
