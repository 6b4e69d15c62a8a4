#include "record/sweep_run.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <toml.hpp>

#include "interpreter/compile.h"
#include "record/asha.h"
#include "record/file_lock.h"

namespace pipelang::record {

namespace fs = std::filesystem;

namespace {

// ---- signals: counted here, passed on to each running point ----------------

volatile std::sig_atomic_t interrupts = 0;  // Ctrl-C
volatile std::sig_atomic_t warnings = 0;    // SIGUSR1: Slurm's warning before the time limit

void onInterrupt(int) {
    interrupts = interrupts + 1;
}
void onWarning(int) {
    warnings = warnings + 1;
}

// Counts SIGINT and SIGUSR1 while it lives (however nested: the sweep's
// loop and each point's watcher both hold one), for the watchers to pass on.
class Signals {
public:
    Signals() {
        std::lock_guard lock(mutex_);
        if (depth_++ > 0) return;
        interrupts = 0;
        warnings = 0;
        struct sigaction action {};
        sigemptyset(&action.sa_mask);
        action.sa_handler = onInterrupt;
        sigaction(SIGINT, &action, &previousInterrupt_);
        action.sa_handler = onWarning;
        sigaction(SIGUSR1, &action, &previousWarning_);
    }
    ~Signals() {
        std::lock_guard lock(mutex_);
        if (--depth_ > 0) return;
        sigaction(SIGINT, &previousInterrupt_, nullptr);
        sigaction(SIGUSR1, &previousWarning_, nullptr);
    }
    Signals(const Signals&) = delete;
    Signals& operator=(const Signals&) = delete;

private:
    static inline std::mutex mutex_;
    static inline int depth_ = 0;
    using Action = struct sigaction;
    static inline Action previousInterrupt_ = {};
    static inline Action previousWarning_ = {};
};

// ---- point.toml: a point's values, then how it ended -----------------------

// A TOML basic string: written as .pipe writes a string, whose escapes
// (\" \\ \n \t \r) TOML reads alike.
std::string tomlString(const std::string& text) {
    Value v{Value::Kind::String};
    v.text = text;
    return v.str();
}

// A TOML float (never an integer, which a float key does not read as).
std::string tomlFloat(double v) {
    std::string text = exactNumber(v);
    return text.find_first_of(".eni") == std::string::npos ? text + ".0" : text;
}

// Written whole to a new file and renamed over the old: a reader sees the
// old file or the new, never half of one.
void writePointFile(const fs::path& dir, size_t index, const PointResult& r) {
    std::ostringstream s;
    s << "# point " << index + 1 << " of its sweep: its values, then how it ended (record/sweep_run.h)\n"
      << "index = " << index << "\nrun = " << tomlString(r.run) << "\nstatus = " << tomlString(r.status)
      << "\nerror = " << tomlString(r.error) << "\nseconds = " << tomlFloat(r.seconds) << "\nepochs = " << r.epochs
      << "\nexit = " << r.exitCode << "\n";
    s << "values = [";
    for (size_t i = 0; i < r.point.size(); ++i)
        s << (i ? ", " : "") << "[" << tomlString(r.point[i].first) << ", " << tomlString(r.point[i].second) << "]";
    s << "]\nmetrics = [";
    for (size_t i = 0; i < r.metrics.size(); ++i)
        s << (i ? ", " : "") << "[" << tomlString(r.metrics[i].first) << ", "
          << tomlString(exactNumber(r.metrics[i].second)) << "]";
    s << "]\n";
    fs::path temporary = dir / "point.toml.new";
    {
        std::ofstream out(temporary);
        out << s.str();
        if (!out.flush()) throw RecordError("cannot write " + temporary.string());
    }
    std::error_code ec;
    fs::rename(temporary, dir / "point.toml", ec);
    if (ec) throw RecordError("cannot write " + (dir / "point.toml").string() + ": " + ec.message());
}

std::optional<PointResult> readPointFile(const fs::path& dir) {
    if (!fs::exists(dir / "point.toml")) return std::nullopt;
    try {
        toml::value t = toml::parse((dir / "point.toml").string());
        PointResult r;
        r.run = toml::find<std::string>(t, "run");
        r.status = toml::find<std::string>(t, "status");
        r.error = toml::find<std::string>(t, "error");
        const toml::value& seconds = toml::find(t, "seconds");
        r.seconds = seconds.is_integer() ? double(seconds.as_integer()) : seconds.as_floating();
        r.epochs = toml::find<int64_t>(t, "epochs");
        r.exitCode = int(toml::find<int64_t>(t, "exit"));
        for (const auto& pair : toml::find<std::vector<std::vector<std::string>>>(t, "values"))
            if (pair.size() == 2) r.point.push_back({pair[0], pair[1]});
        for (const auto& pair : toml::find<std::vector<std::vector<std::string>>>(t, "metrics"))
            if (pair.size() == 2) r.metrics.push_back({pair[0], std::strtod(pair[1].c_str(), nullptr)});
        return r;
    } catch (const std::exception& e) {
        throw RecordError((dir / "point.toml").string() + " is malformed: " + e.what());
    }
}

// ---- the process of a point -----------------------------------------------

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

// `pipe-runtime run` for the point in `dir`: a new run with the point's
// values as --set, or the interrupted run there resumed.
pid_t start(const fs::path& dir, const SweepPoint& point, bool resume, const SweepRunOptions& o) {
    std::vector<std::string> args = {o.runtime.string(), "run"};
    if (resume) {
        args.insert(args.end(), {"--resume", dir.string()});
    } else {
        args.insert(args.end(), {o.file.string(), "--run-dir", dir.string()});
        for (const auto& s : o.overrides) args.insert(args.end(), {"--set", s});
        for (const auto& [key, value] : point) args.insert(args.end(), {"--set", key + "=" + value});
    }
    if (o.threads > 0) args.insert(args.end(), {"--threads", std::to_string(o.threads)});
    if (!o.device.empty()) args.insert(args.end(), {"--device", o.device});
    fs::path output = dir / "output.txt";
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string cannot = "pipe: error: cannot start `" + args[0] + "`\n";
    pid_t pid = fork();
    if (pid != 0) return pid;
    // The child (only async-signal-safe calls until exec): its own process
    // group, so a Ctrl-C at the terminal reaches the sweep only, which asks
    // each point to stop once.
    setpgid(0, 0);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGUSR1, SIG_DFL);
    int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | (resume ? O_APPEND : O_TRUNC), 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        ::close(fd);
    }
    execv(argv[0], argv.data());
    ssize_t ignored = ::write(2, cannot.data(), cannot.size());
    (void)ignored;
    _exit(127);
}

// What a point is compared by at ASHA's rungs: the metrics.csv of the train
// stage that measures the sweep's metric, and how many epochs that stage
// trains (no rung is judged at the last: the point ends there anyway).
struct Watch {
    fs::path csv;
    std::string column;
    int64_t epochs = 0;
};

std::optional<Watch> watchOf(const SweepRunOptions& o, const SweepPoint& point, const fs::path& dir) {
    std::vector<std::string> overrides = o.overrides;
    for (const auto& [key, value] : point) overrides.push_back(key + "=" + value);
    static std::mutex compiling;  // one compilation at a time: the parser's caches are shared
    std::unique_lock lock(compiling);
    auto c = compileFile(o.file.string(), CompileOptions{overrides});
    lock.unlock();
    if (!c->ok()) return std::nullopt;  // the run says why
    const Section* train = c->pipeline.measuring(o.metric);
    const Value* schedule = train ? train->field("schedule") : nullptr;
    if (!schedule || schedule->kind != Value::Kind::Call) return std::nullopt;
    int64_t epochs = 0;
    for (const char* part : {"epochs", "freeze_epochs"})
        if (const Value* v = schedule->arg(part); v && v->kind == Value::Kind::Int) epochs += v->integer;
    return Watch{dir / train->name / "metrics.csv", o.metric, epochs};
}

// The complete rows of a CSV file being written (a row ends with its newline).
std::vector<std::vector<std::string>> completeRows(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::vector<std::string>> rows;
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
        rows.push_back(csvCells(text.substr(start, end - start)));
    return rows;
}

// Epochs trained by every stage of a run: the rows of their metrics.csv.
int64_t epochsTrained(const fs::path& dir) {
    int64_t epochs = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (fs::is_regular_file(entry.path() / "metrics.csv"))
            epochs += std::max<int64_t>(0, int64_t(completeRows(entry.path() / "metrics.csv").size()) - 1);
    return epochs;
}

// A point the sweep never started.
PointResult notRun(size_t index, size_t count) {
    PointResult r;
    r.run = pointName(index, count);
    r.status = "not run";
    r.error = "the sweep was stopped before it started";
    return r;
}

// Point `index`: as the directory holds it, or chosen now and recorded
// (under a lock, so that points starting at once see each other).
PointResult choose(size_t index, const Strategy& strategy, const SweepRunOptions& o, bool& fresh) {
    std::string name = pointName(index, strategy.count);
    fs::path dir = o.sweepDir / name;
    FileLock lock(o.sweepDir / "points.lock");
    if (auto held = readPointFile(dir)) {
        fresh = false;
        return *held;
    }
    fresh = true;
    SweepHistory before;
    if (strategy.adaptive) before = readHistory(o.sweepDir, index, strategy.count, o.metric);
    PointResult r;
    r.run = name;
    r.point = strategy.propose(index, before);
    r.status = "running";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw RecordError("cannot create `" + dir.string() + "`: " + ec.message());
    writePointFile(dir, index, r);
    return r;
}

}  // namespace

std::string pointName(size_t i, size_t count) {
    std::string number = std::to_string(i + 1);
    size_t digits = std::to_string(count).size();
    return "p" + std::string(digits > number.size() ? digits - number.size() : 0, '0') + number;
}

SweepHistory readHistory(const fs::path& sweepDir, size_t index, size_t count, const std::string& metric) {
    SweepHistory h;
    bool higher = higherIsBetter(metric);
    for (size_t j = 0; j < index && j < count; ++j) {
        auto r = readPointFile(sweepDir / pointName(j, count));
        if (!r) continue;
        h.started.push_back(r->point);
        if (r->status != "finished") continue;
        double value = std::nan("");
        for (const auto& [name, v] : r->metrics)
            if (name == metric) value = higher ? -v : v;
        h.finished.push_back({r->point, value});
    }
    return h;
}

std::vector<PointResult> readPointResults(const fs::path& sweepDir, size_t count) {
    std::vector<PointResult> results(count);
    for (size_t i = 0; i < count; ++i)
        results[i] = readPointFile(sweepDir / pointName(i, count)).value_or(notRun(i, count));
    return results;
}

PointResult runOnePoint(size_t index, const Strategy& strategy, const SweepRunOptions& o) {
    Signals signals;
    bool fresh = true;
    PointResult r = choose(index, strategy, o, fresh);
    if (r.status == "finished" || r.status == "stopped" || r.status == "failed") return r;  // done before
    fs::path dir = o.sweepDir / r.run;
    bool resume = !fresh && isRunDirectory(dir);
    std::optional<Watch> watch = strategy.rungs ? watchOf(o, r.point, dir) : std::nullopt;
    const bool higher = higherIsBetter(o.metric);

    auto began = std::chrono::steady_clock::now();
    int passedInterrupts = interrupts, passedWarnings = warnings;
    pid_t pid = start(dir, r.point, resume, o);
    int status = 0;
    bool stopped = false;
    // A resumed point was judged at the rungs it passed before.
    size_t rowsSeen = watch && resume ? completeRows(watch->csv).size() : 0;
    if (pid < 0) {
        r.status = "failed";
        r.error = std::string("cannot start a process: ") + std::strerror(errno);
        writePointFile(dir, index, r);
        return r;
    }
    for (;;) {
        // Pass each Ctrl-C on once: the first asks the point to stop at a
        // checkpoint, the second stops it. SIGUSR1 likewise.
        for (; passedInterrupts < interrupts; ++passedInterrupts) kill(pid, SIGINT);
        for (; passedWarnings < warnings; ++passedWarnings) kill(pid, SIGUSR1);
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid || (done < 0 && errno != EINTR)) break;
        if (watch && !stopped) {
            auto rows = completeRows(watch->csv);
            int column = -1;
            if (!rows.empty())
                for (size_t c = 0; c < rows[0].size(); ++c)
                    if (rows[0][c] == watch->column) column = int(c);
            // Each epoch once: the rows after the header are epochs 1, 2, ...
            for (size_t row = std::max<size_t>(rowsSeen, 1); column >= 0 && row < rows.size() && !stopped; ++row) {
                rowsSeen = row + 1;
                int64_t epochs = int64_t(row);
                int rung = strategy.rungs->rungAt(epochs);
                if (rung == 0 || epochs >= watch->epochs || size_t(column) >= rows[row].size()) continue;
                double value = std::strtod(rows[row][size_t(column)].c_str(), nullptr);
                RungDecision d = reportAtRung(o.sweepDir, *strategy.rungs, rung, epochs, r.run, value, higher);
                if (d.keep) continue;
                stopped = true;
                r.error = stopReason(*strategy.rungs, rung, epochs, o.metric, value, d);
                kill(pid, SIGINT);  // it writes a checkpoint at its next step and ends
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    r.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.exitCode = code;
    // 130: stopped by SIGINT; 75: by SIGUSR1 (cluster::kRequeueStatus), to be requeued.
    bool interrupted = code == 130 || code == 75 || (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
    if (code == 0) {
        r.status = "finished";
        r.error.clear();
    } else if (stopped && interrupted) {
        r.status = "stopped";
    } else if (interrupted) {
        r.status = "interrupted";
        r.error = code == 75 ? "stopped by SIGUSR1 before the time limit; it goes on from its checkpoint when run again"
                             : "continue it with `pipe run --resume " + dir.string() + "`";
    } else {
        r.status = "failed";
        r.error = failureOf(dir / "output.txt", code);
    }
    r.metrics = r.status == "failed" ? decltype(r.metrics){} : finalMetrics(dir, o.metric);
    r.epochs = epochsTrained(dir);
    writePointFile(dir, index, r);
    return r;
}

void writeSweepToml(const fs::path& sweepDir, const SweepSummary& s) {
    std::ostringstream out;
    out << "# what this " << s.kind << " is, for `pipe plot` and whoever reads it\n"
        << "kind = " << tomlString(s.kind)
        << "\nfile = " << tomlString(fs::absolute(s.file).lexically_normal().string())
        << "\nmetric = " << tomlString(s.metric)
        << "\nhigher_is_better = " << (higherIsBetter(s.metric) ? "true" : "false")
        << "\nstrategy = " << tomlString(s.strategy) << "\npoints = " << s.points << "\n";
    if (s.epochs)
        out << "# what it spent: epochs trained over every point, their seconds, and the wall time\n"
            << "epochs = " << *s.epochs << "\n";
    if (s.seconds) out << "seconds = " << tomlFloat(*s.seconds) << "\n";
    if (s.wall) out << "wall = " << tomlFloat(*s.wall) << "\n";
    if (!s.axes.empty()) out << "\n# the swept settings: each its values, or the range they are drawn from\n";
    for (const auto& axis : s.axes) {
        out << "[[axes]]\nkey = " << tomlString(axis.key) << "\n";
        if (axis.range)
            out << "range = " << tomlString(axis.range->str()) << "\nlog = " << (axis.range->log ? "true" : "false")
                << "\n";
        out << "values = [";
        for (size_t i = 0; i < axis.values.size(); ++i) out << (i ? ", " : "") << tomlString(axis.values[i]);
        out << "]\n";
    }
    std::ofstream(sweepDir / "sweep.toml") << out.str();
}

std::string saveSweepTable(const fs::path& sweepDir, const std::vector<PointResult>& results,
                           const std::string& metric) {
    auto order = rankPoints(results, metric);
    std::string table = renderSweepTable(results, order, metric);
    std::ofstream(sweepDir / "sweep.txt") << table;
    std::ofstream(sweepDir / "sweep.csv") << sweepCsv(results, order);
    return table;
}

int threadsPerJob(int jobs) {
    int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    return std::max(1, cores / std::max(1, jobs));
}

std::vector<PointResult> runPoints(const Strategy& strategy, const SweepRunOptions& o, bool& interrupted,
                                   FILE* progress) {
    Signals signals;
    std::vector<PointResult> results(strategy.count);
    for (size_t i = 0; i < results.size(); ++i) {
        results[i] = notRun(i, strategy.count);
        if (!strategy.adaptive) results[i].point = strategy.propose(i, {});  // known before it runs
    }
    std::mutex mutex;  // guards next, done, results and progress
    size_t next = 0, done = 0;
    auto work = [&]() {
        for (;;) {
            size_t index;
            {
                std::lock_guard lock(mutex);
                if (interrupts > 0 || warnings > 0 || next >= strategy.count) return;
                index = next++;
            }
            PointResult r;
            try {
                r = runOnePoint(index, strategy, o);
            } catch (const std::exception& e) {
                r.run = pointName(index, strategy.count);
                r.status = "failed";
                r.error = e.what();
            }
            std::lock_guard lock(mutex);
            results[index] = r;
            ++done;
            if (!progress) continue;
            std::string line = "[" + std::to_string(done) + "/" + std::to_string(strategy.count) + "] " + r.run + " ";
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
    };
    std::vector<std::thread> workers;
    for (int j = 1; j < std::max(1, o.jobs); ++j) workers.emplace_back(work);
    work();
    for (auto& w : workers) w.join();
    interrupted = interrupts > 0 || warnings > 0;
    return results;
}

}  // namespace pipelang::record
