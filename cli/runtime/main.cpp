// `pipe-runtime COMMAND ...`: the half of pipe that links LibTorch. `pipe run`
// and the other commands of cli/runtime_commands.h hand over to it so that
// `pipe check` and the rest never pay LibTorch's start-up. Each command is a
// file of this folder; here are what they share: threads and the errors that
// end them.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "cli/runtime/command.h"
#include "cli/runtime_commands.h"
#include "cluster/slurm.h"
#include "runtime/distributed/world.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/threads.h"
#include "runtime/train/interrupt.h"

namespace {

// The error that ends a run, on the terminal and in the run's log.
void failed(const char* command, const std::string& message) {
    std::fputc('\n', stderr);
    // In a data-parallel run every rank may fail; each says which it is.
    namespace distributed = pipelang::runtime::distributed;
    std::string who = distributed::size() > 1 ? " (rank " + std::to_string(distributed::rank()) + ")" : "";
    pipelang::runtime::log::error(std::string("pipe ") + command + who + ": error: " + message);
}

}  // namespace

int main(int argc, char** argv) {
    auto handler = argc >= 2 ? pipelang::cli::runtime::Commands::find(argv[1]) : nullptr;
    if (!handler) {
        std::string names;
        for (const auto& c : pipelang::cli::kRuntimeCommands)
            names += std::string(names.empty() ? "" : ", ") + "`pipe " + c.name + "`";
        std::fprintf(stderr, "pipe-runtime: use it through %s\n", names.c_str());
        return 2;
    }
    const char* command = argv[1];
    // Every command computes with LibTorch's pool on all cores and OpenBLAS
    // on one (runtime/threads.h); `run --threads N` narrows it.
    pipelang::runtime::useThreads(int(std::max(1u, std::thread::hardware_concurrency())));
    try {
        return handler(argc - 1, argv + 1);
    } catch (const pipelang::runtime::Interrupted& e) {
        // Every rank stopped at the same step; rank 0 tells.
        bool requeue = pipelang::runtime::requeueRequested();
        int status = requeue ? pipelang::cluster::kRequeueStatus : 130;
        if (!pipelang::runtime::distributed::isMain()) return status;
        std::fputc('\n', stderr);
        pipelang::runtime::log::error(std::string("pipe ") + command + ": " + e.what() +
                                      (requeue ? " (SIGUSR1: Slurm's warning before the time limit); the job's "
                                                 "script requeues it to go on"
                                               : "; continue with `pipe run --resume RUN`"));
        return status;
    } catch (const pipelang::runtime::RuntimeError& e) {
        failed(command, e.what());
    } catch (const std::exception& e) {
        failed(command, pipelang::runtime::describe(e));
    }
    return 1;
}
