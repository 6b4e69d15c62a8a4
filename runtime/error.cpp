#include "runtime/error.h"

#include <c10/util/Exception.h>

namespace pipelang::runtime {

std::string describe(const std::exception& error) {
    if (const auto* torch = dynamic_cast<const c10::Error*>(&error)) {
        std::string message = torch->what_without_backtrace();
        return "in LibTorch: " + message.substr(0, message.find('\n'));
    }
    return error.what();
}

}  // namespace pipelang::runtime
