#include "runtime/distributed/world.h"

#include "runtime/distributed/collectives.h"

#include <fcntl.h>
#include <unistd.h>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "cluster/slurm.h"
#include "runtime/data/shard.h"
#include "runtime/distributed/process_group.h"
#include "runtime/error.h"

namespace pipelang::runtime::distributed {

namespace {

struct State {
    WorldInfo info;
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroup> group;
};
State state;

int envInt(const char* name, int fallback) {
    const char* text = std::getenv(name);
    if (!text || !*text) return fallback;
    char* end = nullptr;
    long value = std::strtol(text, &end, 10);
    if (*end != '\0')
        throw RuntimeError(std::string("the environment variable ") + name + "=`" + text + "` is not a whole number");
    return int(value);
}

// How long a rank waits for the others: at the rendezvous, and in a
// collective (a rank that died leaves the others waiting this long at most,
// though the launcher ends them sooner).
constexpr std::chrono::minutes kTimeout{5};

}  // namespace

WorldInfo worldFromEnvironment() {
    WorldInfo info;
    // Under srun (and not torchrun's variables set by hand or by `--nproc`),
    // Slurm's own variables say who is who.
    if (!std::getenv("WORLD_SIZE")) {
        std::optional<cluster::SlurmTask> task;
        try {
            task = cluster::slurmTaskFromEnvironment();
        } catch (const cluster::SlurmError& e) {
            throw RuntimeError(e.what());
        }
        if (task) {
            info.rank = task->rank, info.size = task->size, info.localRank = task->localRank;
            info.masterAddr = task->masterAddr, info.masterPort = task->masterPort;
            if (info.rank >= info.size)
                throw RuntimeError("SLURM_PROCID=" + std::to_string(info.rank) +
                                   " is outside SLURM_STEP_NUM_TASKS=" + std::to_string(info.size));
            return info;
        }
    }
    info.size = envInt("WORLD_SIZE", 1);
    info.rank = envInt("RANK", 0);
    info.localRank = envInt("LOCAL_RANK", info.rank);
    if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr) info.masterAddr = addr;
    info.masterPort = envInt("MASTER_PORT", 29500);
    if (info.size < 1)
        throw RuntimeError("WORLD_SIZE=" + std::to_string(info.size) + ": a run needs one process or more");
    if (info.rank < 0 || info.rank >= info.size)
        throw RuntimeError("RANK=" + std::to_string(info.rank) + " is outside WORLD_SIZE=" + std::to_string(info.size) +
                           " (ranks go from 0 to WORLD_SIZE-1)");
    if (info.masterPort < 1 || info.masterPort > 65535)
        throw RuntimeError("MASTER_PORT=" + std::to_string(info.masterPort) + " is not a TCP port");
    return info;
}

void join(const WorldInfo& info, const std::string& backend) {
    state.info = info;
    if (info.size <= 1) return;
    c10d::TCPStoreOptions options;
    options.port = uint16_t(info.masterPort);
    options.isServer = info.rank == 0;
    options.numWorkers = size_t(info.size);
    options.waitWorkers = true;
    options.timeout = kTimeout;
    try {
        state.store = c10::make_intrusive<c10d::TCPStore>(info.masterAddr, options);
    } catch (const std::exception& e) {
        std::string message = e.what();
        throw RuntimeError("rank " + std::to_string(info.rank) + " cannot meet the others at " + info.masterAddr + ":" +
                           std::to_string(info.masterPort) + " (" + message.substr(0, message.find('\n')) +
                           "); check --master and that every machine runs the same command");
    }
    // A prefix per process group, as torch.distributed does, so the store can
    // serve other keys (the run directory) beside the group's own.
    auto groupStore = c10::make_intrusive<c10d::PrefixStore>("pipe/group", state.store);
    if (backend == "nccl") {
#ifdef USE_C10D_NCCL
        auto nccl = c10d::ProcessGroupNCCL::Options::create();
        state.group = c10::make_intrusive<c10d::ProcessGroupNCCL>(groupStore, info.rank, info.size, nccl);
#else
        throw RuntimeError("this LibTorch was built without NCCL; a distributed run on the GPU needs a CUDA LibTorch");
#endif
    } else {
        auto gloo = c10d::ProcessGroupGloo::Options::create(kTimeout);
        // GLOO_SOCKET_IFNAME picks the network interface, as in PyTorch; on
        // one machine the loopback address always works, whatever the
        // host name resolves to.
        if (const char* name = std::getenv("GLOO_SOCKET_IFNAME"); name && *name)
            gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
        else if (info.masterAddr == "127.0.0.1" || info.masterAddr == "localhost")
            gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        else
            gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        state.group = c10::make_intrusive<c10d::ProcessGroupGloo>(groupStore, info.rank, info.size, gloo);
    }
    setProcessShard(Shard{info.rank, info.size});
    if (info.rank != 0) {
        // Rank 0 alone prints the run's story; the others keep standard error.
        int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) {
            std::fflush(stdout);
            ::dup2(null, STDOUT_FILENO);
            ::close(null);
        }
    }
}

void leave() {
    if (state.group) barrier();
    state.group.reset();
    state.store.reset();
    state.info = WorldInfo{};
    setProcessShard(Shard{});
}

int rank() {
    return state.info.rank;
}
int size() {
    return state.info.size;
}
int localRank() {
    return state.info.localRank;
}
bool isMain() {
    return state.info.rank == 0;
}
bool distributed() {
    return state.group.defined();
}

c10::intrusive_ptr<c10d::ProcessGroup> processGroup() {
    return state.group;
}

std::string shareFromMain(const std::string& value, const std::string& key) {
    if (!distributed()) return value;
    std::string name = "pipe/share/" + key;
    if (isMain()) {
        state.store->set(name, std::vector<uint8_t>(value.begin(), value.end()));
        return value;
    }
    std::vector<uint8_t> bytes = state.store->get(name);  // waits for rank 0
    return std::string(bytes.begin(), bytes.end());
}

}  // namespace pipelang::runtime::distributed
