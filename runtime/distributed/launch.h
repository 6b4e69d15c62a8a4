// `pipe run --nproc N`: starts N worker processes on this machine, as
// torchrun does, each the same `pipe-runtime run` with RANK, WORLD_SIZE,
// LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set. A run over
// several machines is the same command on each with --nnodes, --node-rank
// and --master addr:port. The launcher passes Ctrl-C on to its workers
// once (they write a checkpoint and stop together), and when a worker dies it
// stops the others and says which rank ended how.
#pragma once

#include <string>
#include <vector>

namespace pipelang::runtime::distributed {

struct LaunchOptions {
    int processes = 1;   // --nproc: workers on this machine
    int nodes = 1;       // --nnodes
    int nodeRank = 0;    // --node-rank
    std::string master;  // --master addr:port; empty: MASTER_ADDR/MASTER_PORT, or a free local port
};

// Reads --master, or MASTER_ADDR and MASTER_PORT, into address and port; on
// one machine with neither, the loopback address and a port that is free now.
// Throws RuntimeError for a malformed address or a run over several machines
// without one.
void resolveMaster(const LaunchOptions& options, std::string& address, int& port);

// Runs `program` with `arguments` (argv[1..]) as every local worker; returns
// the launcher's exit code: 0 when every worker succeeded, 2 when the file
// does not check, 130 when they were interrupted, 1 otherwise.
int launch(const LaunchOptions& options, const std::string& program, const std::vector<std::string>& arguments);

// The environment variable through which rank 0 tells the launcher its run
// directory (for the message that says how to resume).
inline constexpr const char* kRunDirFileVariable = "PIPE_RUN_DIR_FILE";

}  // namespace pipelang::runtime::distributed
