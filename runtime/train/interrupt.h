// Ctrl-C while training: the first one asks the training loop to write a
// checkpoint at the next step and stop cleanly; a second one ends the
// process at once, as usual.
//
// SIGUSR1 asks the same, for Slurm: its warning before a job's time limit
// (`#SBATCH --signal=USR1@...`) or `scancel --signal=USR1`. The run then
// ends with cluster::kRequeueStatus, on which its batch script requeues the
// job to resume.
#pragma once

namespace pipelang::runtime {

void installInterruptHandler();
bool interruptRequested();
// Whether it was SIGUSR1 that asked.
bool requeueRequested();

}  // namespace pipelang::runtime
