#include "cluster/slurm.h"

#include <cctype>
#include <cstdlib>
#include <sstream>

#include "record/plot.h"  // findProgram, runProgram

namespace pipelang::cluster {

namespace fs = std::filesystem;

namespace {

std::string trimmed(const std::string& text) {
    size_t first = text.find_first_not_of(" \t\r\n"), last = text.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

// A Slurm command's output as one sentence: its lines joined, `sbatch: error: ` kept.
std::string oneLine(const std::string& output) {
    std::string joined;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
        line = trimmed(line);
        if (line.empty()) continue;
        joined += (joined.empty() ? "" : "; ") + line;
    }
    return joined.empty() ? "(it said nothing)" : joined;
}

const char* environment(const char* name) {
    const char* value = std::getenv(name);
    return value && *value ? value : nullptr;
}

int wholeNumber(const char* name, const char* text) {
    char* end = nullptr;
    long value = std::strtol(text, &end, 10);
    if (*end != '\0' || value < 0)
        throw SlurmError(std::string("the environment variable ") + name + "=`" + text +
                         "` is not a whole number; is this a task that srun started?");
    return int(value);
}

// Runs a Slurm client program found on the PATH; nothing when there is none.
std::optional<std::string> ask(const std::string& program, const std::vector<std::string>& args, int& status) {
    auto found = record::findProgram(program);
    if (!found) return std::nullopt;
    std::string output;
    status = record::runProgram(*found, args, output);
    return output;
}

}  // namespace

std::string shellQuote(const std::string& word) {
    bool plain = !word.empty();
    for (char c : word)
        plain = plain &&
                (std::isalnum(static_cast<unsigned char>(c)) || std::string("@%+=:,./_-").find(c) != std::string::npos);
    if (plain) return word;
    std::string quoted = "'";
    for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

std::string renderBatchScript(const BatchScript& s) {
    std::ostringstream out;
    out << "#!/bin/bash\n";
    std::istringstream comment(s.comment);
    for (std::string line; std::getline(comment, line);) out << "# " << line << "\n";
    auto option = [&](const std::string& name, const std::string& value) {
        out << "#SBATCH --" << name << "=" << value << "\n";
    };
    option("job-name", s.jobName);
    option("chdir", s.workDir.string());
    option("output", s.output.string());
    option("open-mode", "append");  // a requeued job adds to the same log
    if (!s.options.partition.empty()) option("partition", s.options.partition);
    if (!s.options.account.empty()) option("account", s.options.account);
    if (!s.options.time.empty()) option("time", s.options.time);
    option("nodes", std::to_string(s.options.nodes));
    option("ntasks-per-node", std::to_string(s.options.tasksPerNode));
    if (s.options.gpusPerNode > 0) option("gpus-per-node", std::to_string(s.options.gpusPerNode));
    if (s.options.cpusPerTask > 0) option("cpus-per-task", std::to_string(s.options.cpusPerTask));
    if (s.arrayTasks > 0)
        option("array", "0-" + std::to_string(s.arrayTasks - 1) +
                            (s.options.maxParallel > 0 ? "%" + std::to_string(s.options.maxParallel) : ""));
    // The warning goes to the tasks srun started (not this shell): they
    // write a checkpoint and stop, and the script requeues the job.
    option("signal", "USR1@" + std::to_string(s.options.signalSeconds));
    out << "#SBATCH --requeue\n";
    std::string text = out.str() + "\nset -u\n";
    for (const auto& command : s.commands) text += command + "\n";
    return text;
}

bool haveSbatch() {
    return record::findProgram("sbatch").has_value();
}

std::string submit(const fs::path& script) {
    int status = 0;
    auto output = ask("sbatch", {"--parsable", script.string()}, status);
    if (!output)
        throw SlurmError(
            "there is no `sbatch` on the PATH: --slurm submits to a Slurm cluster, so run it on one "
            "of the cluster's login nodes (or load its Slurm module first)");
    if (status != 0) throw SlurmError("Slurm refused the job: " + oneLine(*output));
    // `--parsable` prints `id` or `id;cluster` on the last line; warnings may come before it.
    std::string last;
    std::istringstream lines(*output);
    for (std::string line; std::getline(lines, line);)
        if (!trimmed(line).empty()) last = trimmed(line);
    std::string id = last.substr(0, last.find(';'));
    bool number = !id.empty();
    for (char c : id) number = number && std::isdigit(static_cast<unsigned char>(c));
    if (!number) throw SlurmError("sbatch answered without a job id: " + oneLine(*output));
    return id;
}

std::string firstHost(const std::string& nodeList) {
    // The first entry at bracket depth 0, then each bracket's first number.
    std::string entry;
    int depth = 0;
    for (char c : nodeList) {
        if (c == ',' && depth == 0) break;
        if (c == '[') ++depth;
        if (c == ']') --depth;
        entry += c;
    }
    if (depth != 0) throw SlurmError("the host list `" + nodeList + "` has a bracket that is not closed");
    std::string host;
    for (size_t i = 0; i < entry.size(); ++i) {
        if (entry[i] != '[') {
            host += entry[i];
            continue;
        }
        size_t close = entry.find(']', i);
        std::string ranges = entry.substr(i + 1, close - i - 1);
        host += ranges.substr(0, ranges.find_first_of(",-"));
        i = close;
    }
    return trimmed(host);
}

std::optional<SlurmTask> slurmTaskFromEnvironment() {
    // Only srun sets the step's task count: a batch script's shell and an
    // salloc shell are not tasks of a data-parallel world.
    const char* tasks = environment("SLURM_STEP_NUM_TASKS");
    const char* rank = environment("SLURM_PROCID");
    if (!tasks || !rank) return std::nullopt;
    SlurmTask task;
    task.size = wholeNumber("SLURM_STEP_NUM_TASKS", tasks);
    task.rank = wholeNumber("SLURM_PROCID", rank);
    if (const char* local = environment("SLURM_LOCALID")) task.localRank = wholeNumber("SLURM_LOCALID", local);
    const char* nodes = environment("SLURM_STEP_NODELIST");
    if (!nodes) nodes = environment("SLURM_JOB_NODELIST");
    task.masterAddr = nodes ? firstHost(nodes) : "127.0.0.1";
    // A port every task derives alike from the job's id (a requeued job keeps
    // its id, and its earlier tasks are gone by then); MASTER_PORT wins.
    const char* job = environment("SLURM_JOB_ID");
    task.masterPort = 15000 + (job ? wholeNumber("SLURM_JOB_ID", job) % 20000 : 0);
    if (const char* port = environment("MASTER_PORT")) task.masterPort = wholeNumber("MASTER_PORT", port);
    if (const char* addr = environment("MASTER_ADDR")) task.masterAddr = addr;
    return task;
}

int cpusPerTask() {
    const char* cpus = environment("SLURM_CPUS_PER_TASK");
    if (!cpus) return 0;
    char* end = nullptr;
    long value = std::strtol(cpus, &end, 10);
    return *end == '\0' && value > 0 && value < 100000 ? int(value) : 0;
}

std::optional<JobState> jobState(const std::string& jobId) {
    int status = 0;
    auto queued = ask("squeue", {"--noheader", "--jobs", jobId, "--format", "%T|%M|%R"}, status);
    if (!queued) throw SlurmError("there is no `squeue` on the PATH: ask on one of the cluster's login nodes");
    // Once a job has left the queue squeue answers nothing (or an error that it is not known).
    std::string first = trimmed(queued->substr(0, queued->find('\n')));
    if (status == 0 && !first.empty()) {
        std::vector<std::string> cells;
        std::istringstream parts(first);
        for (std::string cell; std::getline(parts, cell, '|');) cells.push_back(cell);
        JobState s{cells.empty() ? first : cells[0], "", "squeue"};
        if (cells.size() >= 3)
            s.detail = cells[0] == "RUNNING" ? "on " + cells[2] + " for " + cells[1] : "waiting: " + cells[2];
        return s;
    }
    auto accounted = ask(
        "sacct", {"--noheader", "--parsable2", "--allocations", "--jobs", jobId, "--format", "State,Elapsed,ExitCode"},
        status);
    if (accounted && status == 0) {
        std::string line = trimmed(accounted->substr(0, accounted->find('\n')));
        if (!line.empty()) {
            std::vector<std::string> cells;
            std::istringstream parts(line);
            for (std::string cell; std::getline(parts, cell, '|');) cells.push_back(cell);
            JobState s{cells[0], "", "sacct"};
            if (cells.size() >= 3) s.detail = "ran " + cells[1] + ", exit code " + cells[2];
            return s;
        }
    }
    auto shown = ask("scontrol", {"show", "job", jobId}, status);
    if (shown && status == 0) {
        auto field = [&](const std::string& name) {
            size_t at = shown->find(name + "=");
            if (at == std::string::npos) return std::string();
            at += name.size() + 1;
            return shown->substr(at, shown->find_first_of(" \n", at) - at);
        };
        JobState s{field("JobState"), "", "scontrol"};
        if (!s.state.empty()) {
            s.detail = "ran " + field("RunTime") + ", exit code " + field("ExitCode");
            return s;
        }
    }
    return std::nullopt;
}

}  // namespace pipelang::cluster
