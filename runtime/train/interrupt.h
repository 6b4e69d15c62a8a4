// Ctrl-C while training: the first one asks the training loop to write a
// checkpoint at the next step and stop cleanly; a second one ends the
// process at once, as usual.
#pragma once

namespace pipelang::runtime {

void installInterruptHandler();
bool interruptRequested();

}  // namespace pipelang::runtime
