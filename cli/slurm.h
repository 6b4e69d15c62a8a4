// `pipe run FILE --slurm`: the run submitted to Slurm as a batch job (a
// sweep: a job array, one point per task), its readable script kept in the
// run's (or sweep's) directory beside the job's log and `slurm.toml` (the
// job id `pipe status` asks about). The file is checked first and sbatch
// looked for before anything is written; a job Slurm refuses leaves nothing
// behind.
#pragma once

#include <string>
#include <vector>

#include "cli/run_flags.h"

namespace pipelang::cli {

// The exit code of `pipe run --slurm`: 0 when submitted.
int submitToSlurm(const RunFlags& flags);

}  // namespace pipelang::cli
