#include "runtime/distributed/launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "runtime/error.h"

namespace pipelang::runtime::distributed {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t interrupts = 0;

void onSignal(int) {
    interrupts = interrupts + 1;
}

int freePort() {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) throw RuntimeError(std::string("cannot open a socket to find a free port: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(s, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(s);
        throw RuntimeError(std::string("cannot find a free port: ") + std::strerror(errno));
    }
    ::close(s);
    return ntohs(address.sin_port);
}

int parsePort(const std::string& text, const std::string& what) {
    char* end = nullptr;
    long port = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || port < 1 || port > 65535)
        throw RuntimeError(what + ": `" + text + "` is not a TCP port (1 to 65535)");
    return int(port);
}

std::string describe(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        int signal = WTERMSIG(status);
        const char* name = strsignal(signal);
        return "was killed by signal " + std::to_string(signal) + (name ? std::string(" (") + name + ")" : "");
    }
    return "ended with status " + std::to_string(status);
}

struct Worker {
    pid_t pid = -1;
    int rank = 0;
    bool running = false;
    int status = 0;
};

}  // namespace

void resolveMaster(const LaunchOptions& options, std::string& address, int& port) {
    if (!options.master.empty()) {
        auto colon = options.master.rfind(':');
        if (colon == std::string::npos || colon == 0)
            throw RuntimeError("--master `" + options.master + "`: write it as address:port, e.g. 10.0.0.1:29500");
        address = options.master.substr(0, colon);
        port = parsePort(options.master.substr(colon + 1), "--master");
        return;
    }
    const char* addr = std::getenv("MASTER_ADDR");
    const char* portText = std::getenv("MASTER_PORT");
    if (options.nodes > 1 && (!addr || !*addr || !portText || !*portText))
        throw RuntimeError("a run over " + std::to_string(options.nodes) +
                           " machines needs the address of rank 0's machine: --master addr:port, or MASTER_ADDR and "
                           "MASTER_PORT");
    address = addr && *addr ? addr : "127.0.0.1";
    port = portText && *portText ? parsePort(portText, "MASTER_PORT") : freePort();
}

int launch(const LaunchOptions& options, const std::string& program, const std::vector<std::string>& arguments) {
    if (options.processes < 1) throw RuntimeError("--nproc must be 1 or more");
    if (options.nodes < 1) throw RuntimeError("--nnodes must be 1 or more");
    if (options.nodeRank < 0 || options.nodeRank >= options.nodes)
        throw RuntimeError("--node-rank " + std::to_string(options.nodeRank) + " is outside --nnodes " +
                           std::to_string(options.nodes) + " (machines are numbered from 0)");
    std::string address;
    int port = 0;
    resolveMaster(options, address, port);
    int world = options.processes * options.nodes;

    // Rank 0 writes its run directory here, for the message that ends a
    // failed or interrupted run.
    fs::path runDirFile = fs::temp_directory_path() / ("pipe-launch-" + std::to_string(::getpid()) + ".txt");
    fs::remove(runDirFile);

    struct sigaction action {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);

    std::vector<Worker> workers(size_t(options.processes));
    for (int local = 0; local < options.processes; ++local) {
        Worker& w = workers[size_t(local)];
        w.rank = options.nodeRank * options.processes + local;
        std::fflush(nullptr);
        pid_t pid = ::fork();
        if (pid < 0) throw RuntimeError(std::string("cannot start a worker: ") + std::strerror(errno));
        if (pid == 0) {
            // A group of its own: Ctrl-C reaches the launcher alone, which
            // passes it on exactly once.
            ::setpgid(0, 0);
            ::signal(SIGINT, SIG_DFL);
            ::signal(SIGTERM, SIG_DFL);
            ::setenv("RANK", std::to_string(w.rank).c_str(), 1);
            ::setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
            ::setenv("LOCAL_RANK", std::to_string(local).c_str(), 1);
            ::setenv("LOCAL_WORLD_SIZE", std::to_string(options.processes).c_str(), 1);
            ::setenv("GROUP_RANK", std::to_string(options.nodeRank).c_str(), 1);
            ::setenv("MASTER_ADDR", address.c_str(), 1);
            ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
            ::setenv(kRunDirFileVariable, runDirFile.c_str(), 1);
            std::vector<char*> argv;
            argv.push_back(const_cast<char*>(program.c_str()));
            for (const auto& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            ::execv(program.c_str(), argv.data());
            std::fprintf(stderr, "pipe run: cannot start worker `%s`: %s\n", program.c_str(), std::strerror(errno));
            ::_exit(127);
        }
        w.pid = pid;
        w.running = true;
    }

    auto runDir = [&] {
        std::ifstream in(runDirFile);
        std::string dir;
        std::getline(in, dir);
        return dir;
    };
    int forwarded = 0;
    bool sawUnchecked = false;
    const Worker* failed = nullptr;
    bool stopping = false;
    auto stopped = std::chrono::steady_clock::time_point{};
    int running = options.processes;
    while (running > 0) {
        // Ctrl-C: passed on once per press (a second one ends the workers
        // at once, as it does a one-process run).
        while (forwarded < interrupts) {
            ++forwarded;
            for (auto& w : workers)
                if (w.running) ::kill(w.pid, SIGINT);
        }
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            for (auto& w : workers) {
                if (w.pid != pid) continue;
                w.running = false;
                w.status = status;
                --running;
                bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
                bool interrupted = WIFEXITED(status) && WEXITSTATUS(status) == 130;
                // 2: the file does not check (rank 0 printed why); every rank ends so.
                bool unchecked = WIFEXITED(status) && WEXITSTATUS(status) == 2;
                if (unchecked) sawUnchecked = true;
                if (!ok && !interrupted && !unchecked && !failed && !stopping) {
                    failed = &w;
                    std::fprintf(stderr, "\npipe run: rank %d of %d (pid %d) %s; stopping the other workers\n", w.rank,
                                 world, int(w.pid), describe(status).c_str());
                    stopping = true;
                    stopped = std::chrono::steady_clock::now();
                    for (auto& other : workers)
                        if (other.running) ::kill(other.pid, SIGTERM);
                }
            }
            continue;
        }
        if (pid < 0 && errno != EINTR) break;
        // Workers that ignore SIGTERM for 10 s are killed.
        if (stopping && std::chrono::steady_clock::now() - stopped > std::chrono::seconds(10))
            for (auto& w : workers)
                if (w.running) ::kill(w.pid, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::string dir = runDir();
    fs::remove(runDirFile);
    if (failed) {
        std::fprintf(stderr, "pipe run: the run failed because rank %d %s%s\n", failed->rank,
                     describe(failed->status).c_str(),
                     dir.empty() ? ""
                                 : ("; continue it with `pipe run --resume " + dir + " --nproc " +
                                    std::to_string(options.processes) + "`")
                                       .c_str());
        return 1;
    }
    if (sawUnchecked) return 2;
    bool anyInterrupted = false;
    for (const auto& w : workers)
        anyInterrupted = anyInterrupted || (WIFEXITED(w.status) && WEXITSTATUS(w.status) == 130);
    return anyInterrupted ? 130 : 0;
}

}  // namespace pipelang::runtime::distributed
