#include "record/sweep_run.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <thread>

namespace pipelang::record {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t interrupts = 0;

void onInterrupt(int) {
    interrupts = interrupts + 1;
}

struct Running {
    size_t point;
    std::chrono::steady_clock::time_point started;
};

std::string pointName(size_t i, size_t count) {
    std::string number = std::to_string(i + 1);
    size_t digits = std::to_string(count).size();
    return "p" + std::string(digits > number.size() ? digits - number.size() : 0, '0') + number;
}

// Why a point failed: the last line of its output that says `error`.
std::string failureOf(const fs::path& output, int status) {
    std::ifstream in(output);
    std::string found;
    for (std::string line; std::getline(in, line);) {
        size_t at = line.find("error: ");
        if (at != std::string::npos && found.empty()) found = line.substr(at + 7);
        if (line.find("pipe run: error: ") != std::string::npos) found = line.substr(line.find("error: ") + 7);
    }
    return found.empty() ? "exit status " + std::to_string(status) : found;
}

pid_t start(const fs::path& dir, const SweepPoint& point, const SweepRunOptions& o) {
    std::vector<std::string> args = {o.runtime.string(), "run", o.file.string(), "--run-dir", dir.string()};
    for (const auto& s : o.overrides) args.insert(args.end(), {"--set", s});
    for (const auto& [key, value] : point) args.insert(args.end(), {"--set", key + "=" + value});
    if (o.threads > 0) args.insert(args.end(), {"--threads", std::to_string(o.threads)});
    if (!o.device.empty()) args.insert(args.end(), {"--device", o.device});
    fs::path output = dir / "output.txt";
    pid_t pid = fork();
    if (pid != 0) return pid;
    // The child: its own process group, so a Ctrl-C at the terminal reaches
    // the sweep only, which asks each point to stop once.
    setpgid(0, 0);
    std::signal(SIGINT, SIG_DFL);
    int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        ::close(fd);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    std::fprintf(stderr, "pipe: error: cannot start `%s`: %s\n", argv[0], std::strerror(errno));
    _exit(127);
}

}  // namespace

int threadsPerJob(int jobs) {
    int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    return std::max(1, cores / std::max(1, jobs));
}

fs::path makeSweepDirectory(const fs::path& runsDir, const fs::path& file, const std::string& kind) {
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    std::string base = file.stem().string() + "-" + kind + "-" + stamp;
    std::error_code ec;
    fs::create_directories(runsDir, ec);
    if (ec) throw RecordError("cannot create the runs folder `" + runsDir.string() + "`: " + ec.message());
    fs::path dir = runsDir / base;
    for (int n = 2; !fs::create_directory(dir, ec); ++n) {
        if (ec) throw RecordError("cannot create `" + dir.string() + "`: " + ec.message());
        dir = runsDir / (base + "-" + std::to_string(n));
    }
    return dir;
}

std::vector<PointResult> runPoints(const std::vector<SweepPoint>& points, const SweepRunOptions& o, bool& interrupted,
                                   FILE* progress) {
    std::vector<PointResult> results(points.size());
    for (size_t i = 0; i < points.size(); ++i) {
        results[i].run = pointName(i, points.size());
        results[i].point = points[i];
        results[i].status = "not run";
        results[i].error = "the sweep was stopped before it started";
    }
    interrupts = 0;
    struct sigaction action {
    }, previous{};
    action.sa_handler = onInterrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous);

    std::map<pid_t, Running> running;
    size_t next = 0, done = 0;
    int forwarded = 0;
    const int jobs = std::max(1, o.jobs);
    while (next < points.size() || !running.empty()) {
        while (interrupts == 0 && next < points.size() && int(running.size()) < jobs) {
            fs::path dir = o.sweepDir / results[next].run;
            fs::create_directories(dir);
            pid_t pid = start(dir, points[next], o);
            if (pid < 0) {
                results[next].status = "failed";
                results[next].error = std::string("cannot start a process: ") + std::strerror(errno);
                ++next, ++done;
                continue;
            }
            running[pid] = {next, std::chrono::steady_clock::now()};
            ++next;
        }
        if (running.empty()) break;
        // Pass each Ctrl-C on to the points once: the first asks them to stop
        // at a checkpoint, the second stops them.
        while (forwarded < interrupts) {
            ++forwarded;
            for (const auto& [pid, r] : running) kill(pid, SIGINT);
        }
        int status = 0;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;
        }
        auto it = running.find(pid);
        if (it == running.end()) continue;
        PointResult& r = results[it->second.point];
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.started).count();
        fs::path dir = o.sweepDir / r.run;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        r.error.clear();
        if (code == 0) {
            r.status = "finished";
            r.metrics = finalMetrics(dir, o.metric);
        } else if (code == 130 || (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT)) {
            r.status = "interrupted";
            r.error = "continue it with `pipe run --resume " + dir.string() + "`";
        } else {
            r.status = "failed";
            r.error = failureOf(dir / "output.txt", code);
        }
        running.erase(it);
        ++done;
        if (progress) {
            std::string line = "[" + std::to_string(done) + "/" + std::to_string(points.size()) + "] " + r.run + " ";
            for (const auto& [key, value] : r.point) line += " " + key + "=" + value;
            if (r.status == "finished") {
                for (const auto& [name, value] : r.metrics)
                    if (name == o.metric) line += "  " + name + " " + std::to_string(value);
            } else {
                line += "  " + r.status + ": " + r.error;
            }
            char took[32];
            std::snprintf(took, sizeof took, "  (%.1f s)", r.seconds);
            std::fprintf(progress, "%s%s\n", line.c_str(), took);
            std::fflush(progress);
        }
    }
    sigaction(SIGINT, &previous, nullptr);
    interrupted = interrupts > 0;
    return results;
}

}  // namespace pipelang::record
