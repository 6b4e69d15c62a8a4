#include "runtime/train/interrupt.h"

#include <csignal>

namespace pipelang::runtime {

namespace {

volatile std::sig_atomic_t requested = 0;
volatile std::sig_atomic_t requeue = 0;

void onInterrupt(int) {
    requested = 1;
    std::signal(SIGINT, SIG_DFL);  // the next Ctrl-C is not negotiable
}

void onRequeueSignal(int) {
    requested = 1;
    requeue = 1;
}

}  // namespace

void installInterruptHandler() {
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGUSR1, onRequeueSignal);
}

bool interruptRequested() {
    return requested != 0;
}

bool requeueRequested() {
    return requeue != 0;
}

}  // namespace pipelang::runtime
