// The processes of one data-parallel run, as torchrun and DDP define them:
// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT in the
// environment, a c10d TCPStore on rank 0 for the rendezvous, and one c10d
// process group (Gloo on the CPU, NCCL between GPUs where the LibTorch has
// it) for the collectives. Without WORLD_SIZE > 1 a run is one process and
// every function here is a no-op, so the training loop calls them
// unconditionally. The collectives are in collectives.h; this header keeps
// LibTorch out, so the command line that joins the world compiles fast.
#pragma once

#include <string>

namespace pipelang::runtime::distributed {

struct WorldInfo {
    int rank = 0;
    int size = 1;
    int localRank = 0;
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
};

// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; a process started
// without them is rank 0 of 1. Throws RuntimeError on values that do not
// make sense (a rank outside the world, a port that is not a number).
WorldInfo worldFromEnvironment();

// Joins the world: rank 0 serves the TCPStore, every rank connects and
// builds the process group. `backend` is "gloo" or "nccl". Rank > 0 stops
// printing to standard output (rank 0 alone prints, as the launcher's user
// expects); errors still go to standard error, named by rank. Also sets the
// loaders' shard (see runtime/data/shard.h).
void join(const WorldInfo& info, const std::string& backend = "gloo");
void leave();  // destroys the process group and the store

int rank();
int localRank();  // the rank among this machine's processes (its GPU)
int size();
bool isMain();       // rank 0, or not distributed
bool distributed();  // size() > 1

// A string that rank 0 knows and the others learn (the run directory).
std::string shareFromMain(const std::string& value, const std::string& key);

}  // namespace pipelang::runtime::distributed
