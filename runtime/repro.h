// `pipe repro RUN`: runs a finished run again from its record — the same
// file (checked against its recorded SHA-256), overrides, seed and thread
// count — into a new run directory beside it, then compares the two: every
// stage's weights hash, and every metric of every epoch. On the CPU they are
// bit-identical, so any difference is reported, and the exit code is 1.
#pragma once

#include <filesystem>

namespace pipelang::runtime {

struct ReproOptions {
    std::filesystem::path run;
};

// Returns 0 when the rerun matches, 1 when anything differs or fails.
int repro(const ReproOptions& options);

}  // namespace pipelang::runtime
