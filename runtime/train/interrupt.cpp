#include "runtime/train/interrupt.h"

#include <csignal>

namespace pipelang::runtime {

namespace {

volatile std::sig_atomic_t requested = 0;

void onInterrupt(int) {
    requested = 1;
    std::signal(SIGINT, SIG_DFL);  // the next Ctrl-C is not negotiable
}

}  // namespace

void installInterruptHandler() {
    std::signal(SIGINT, onInterrupt);
}

bool interruptRequested() {
    return requested != 0;
}

}  // namespace pipelang::runtime
