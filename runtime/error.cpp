#include "runtime/error.h"

#include <c10/util/Exception.h>

namespace pipelang::runtime {

std::string describe(const std::exception& error) {
    if (dynamic_cast<const c10::Error*>(&error)) return "in LibTorch: " + firstLine(error);
    return error.what();
}

std::string firstLine(const std::exception& error) {
    const auto* torch = dynamic_cast<const c10::Error*>(&error);
    std::string message = torch ? torch->what_without_backtrace() : error.what();
    return message.substr(0, message.find('\n'));
}

}  // namespace pipelang::runtime
