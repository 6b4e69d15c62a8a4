#include "cli/slurm.h"

#include <cstdio>
#include <ctime>
#include <fstream>

#include "cli/common.h"
#include "cluster/slurm.h"
#include "interpreter/compile.h"
#include "record/project.h"
#include "record/run.h"
#include "record/sweep.h"
#include "record/sweep_run.h"

namespace pipelang::cli {

namespace fs = std::filesystem;

namespace {

// The command line's flags over pipe.toml's [slurm] over Slurm's own defaults.
cluster::SlurmOptions slurmOptions(const RunFlags& flags, const record::Project& project) {
    const auto& toml = project.slurm;
    cluster::SlurmOptions o;
    o.partition = !flags.partition.empty() ? flags.partition : toml.partition.value_or("");
    o.time = !flags.time.empty() ? flags.time : toml.time.value_or("");
    o.account = !flags.account.empty() ? flags.account : toml.account.value_or("");
    o.nodes = flags.slurmNodes > 0 ? flags.slurmNodes : toml.nodes.value_or(1);
    o.tasksPerNode = flags.tasksPerNode > 0 ? flags.tasksPerNode : toml.tasksPerNode.value_or(1);
    o.gpusPerNode = flags.gpusPerNode > 0 ? flags.gpusPerNode : toml.gpusPerNode.value_or(0);
    o.cpusPerTask = flags.cpusPerTask > 0 ? flags.cpusPerTask : toml.cpusPerTask.value_or(0);
    o.maxParallel = flags.maxParallel > 0 ? flags.maxParallel : toml.maxParallel.value_or(0);
    o.signalSeconds = toml.signalSeconds.value_or(o.signalSeconds);
    return o;
}

std::string now() {
    std::time_t t = std::time(nullptr);
    char stamp[40];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&t));
    return stamp;
}

// This `pipe`, so that the job runs the build that submitted it.
fs::path thisExecutable() {
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path("pipe") : self;
}

std::string quoted(const std::vector<std::string>& words) {
    std::string line;
    for (const auto& w : words) line += (line.empty() ? "" : " ") + cluster::shellQuote(w);
    return line;
}

// The run's own flags, for the job's `pipe run`.
std::vector<std::string> runFlags(const RunFlags& flags) {
    std::vector<std::string> words;
    for (const auto& o : flags.overrides) words.insert(words.end(), {"--set", o});
    if (!flags.device.empty()) words.insert(words.end(), {"--device", flags.device});
    if (flags.threads > 0) words.insert(words.end(), {"--threads", std::to_string(flags.threads)});
    return words;
}

// The lines after a run's srun, the same for a single run and an array's
// task: on kRequeueStatus the job requeues itself (`what` stopped, `goes` back in the queue).
void requeueOnSignal(std::vector<std::string>& lines, const std::string& what, const std::string& goes) {
    std::string code = std::to_string(cluster::kRequeueStatus);
    lines.insert(lines.end(),
                 {"status=$?",
                  "# " + code + ": Slurm's warning signal (USR1) stopped the " + what + " at a checkpoint; the " +
                      goes + " goes back in the queue.",
                  "if [ \"$status\" -eq " + code + " ]; then",
                  "    echo \"pipe: stopped for Slurm's signal with a checkpoint; requeueing job $SLURM_JOB_ID to "
                  "resume\" >&2",
                  "    scontrol requeue \"$SLURM_JOB_ID\" && exit 0", "fi"});
}

// What a requeued job does is decided in the script, where the user sees it:
// the run's folder exists from the submission on, and once the run has
// started in it (source.pipe) the job resumes it from its checkpoint.
std::vector<std::string> singleRunCommands(const fs::path& pipe, const fs::path& file, const fs::path& runDir,
                                           const RunFlags& flags) {
    std::vector<std::string> start = {"srun",      pipe.string(), "run", fs::absolute(file).lexically_normal().string(),
                                      "--run-dir", "$run"};
    auto rest = runFlags(flags);
    start.insert(start.end(), rest.begin(), rest.end());
    std::string startLine = quoted(start);
    // `$run` is the shell's, not a word to quote.
    startLine.replace(startLine.find("'$run'"), 6, "\"$run\"");
    std::vector<std::string> lines = {
        "run=" + cluster::shellQuote(runDir.string()),
        "if [ -e \"$run/source.pipe\" ]; then",
        "    # Requeued (or submitted again): go on from the run's checkpoint.",
        "    srun " + cluster::shellQuote(pipe.string()) + " run --resume \"$run\"",
        "else",
        "    " + startLine,
        "fi",
    };
    requeueOnSignal(lines, "run", "job");
    lines.push_back("exit \"$status\"");
    return lines;
}

// A sweep's array: task k runs point k into the sweep's directory (a point
// that ended is not run again, one with a checkpoint goes on from it), then
// `pipe status` writes the table of the points ended so far: the last task's
// is the whole sweep's.
std::vector<std::string> arrayCommands(const fs::path& pipe, const fs::path& file, const fs::path& sweepDir,
                                       const RunFlags& flags) {
    std::vector<std::string> point = {
        "srun",          pipe.string(),          "run",         fs::absolute(file).lexically_normal().string(),
        "--sweep-point", "$SLURM_ARRAY_TASK_ID", "--sweep-dir", "$sweep"};
    auto rest = runFlags(flags);
    point.insert(point.end(), rest.begin(), rest.end());
    std::string pointLine = quoted(point);
    pointLine.replace(pointLine.find("'$SLURM_ARRAY_TASK_ID'"), 22, "\"$SLURM_ARRAY_TASK_ID\"");
    pointLine.replace(pointLine.find("'$sweep'"), 8, "\"$sweep\"");
    std::vector<std::string> lines = {
        "sweep=" + cluster::shellQuote(sweepDir.string()),
        pointLine,
    };
    requeueOnSignal(lines, "point", "task");
    lines.insert(lines.end(), {
                                  "# The table of the points ended so far (sweep.csv, sweep.txt), one task at a time; "
                                  "the last task's is whole.",
                                  "flock \"$sweep/table.lock\" " + cluster::shellQuote(pipe.string()) +
                                      " status \"$sweep\" >/dev/null",
                                  "exit \"$status\"",
                              });
    return lines;
}

}  // namespace

int submitToSlurm(const RunFlags& flags) {
    const char* me = "pipe run";
    if (flags.processes > 1 || flags.nodes > 1) {
        std::fprintf(stderr,
                     "%s: --nproc and --nnodes start workers on this machine; under --slurm, srun starts them: "
                     "use --tasks-per-node and --nodes\n",
                     me);
        return kBadInput;
    }
    fs::path file = flags.file;
    fs::path runDir;  // the run's, or the sweep's
    std::unique_ptr<Compilation> compiled;
    if (!flags.resume.empty()) {
        runDir = fs::absolute(flags.resume).lexically_normal();
        if (!record::isRunDirectory(runDir)) {
            std::fprintf(stderr, "%s: `%s` is not a run directory (it has no source.pipe)\n", me, flags.resume.c_str());
            return kBadInput;
        }
        file = record::sourcePath(runDir);
    } else {
        compiled = compileFile(flags.file, CompileOptions{flags.overrides});
        printDiagnostics(compiled->diags);
        if (!compiled->ok()) return kBadInput;
    }
    bool sweep = compiled && record::hasSweep(compiled->pipeline);
    record::Project project;
    try {
        project = record::projectFor(file);
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "%s: error: %s\n", me, e.what());
        return kBadInput;
    }
    if (!cluster::haveSbatch()) {
        std::fprintf(stderr,
                     "%s: there is no `sbatch` on the PATH: --slurm submits to a Slurm cluster, so run it on one of "
                     "the cluster's login nodes (or load its Slurm module first)\n",
                     me);
        return kFailed;
    }
    bool made = runDir.empty();
    record::Strategy strategy;
    try {
        if (made) {
            fs::path runs = !flags.runs.empty() ? fs::path(flags.runs) : project.runs ? *project.runs : "runs";
            runDir = fs::absolute(sweep ? record::makeRunDirectory(runs, file, "sweep")
                                        : record::makeRunDirectory(runs, file))
                         .lexically_normal();
        }
        if (sweep) {
            record::SweepPlan plan = record::sweepPlan(compiled->pipeline);
            strategy = record::strategyOf(plan);
            record::SweepSummary summary{"sweep", file, plan.metric, plan.describe(), strategy.count};
            summary.axes = plan.axes;  // for `pipe plot`: the order of a list's values, a log axis
            record::writeSweepToml(runDir, summary);
        }
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "%s: error: %s\n", me, e.what());
        return kFailed;
    }
    cluster::BatchScript script;
    script.jobName = file.stem().string();
    script.comment = "Written by `pipe run " + file.filename().string() + " --slurm` on " + now() +
                     (sweep ? ".\nThe sweep: " + runDir.string() + ", " + std::to_string(strategy.count) +
                                  " points, one an array task\nSubmit it again with `sbatch " +
                                  (runDir / "slurm.sbatch").string() + "`: it runs the points that have not ended."
                            : ".\nThe run: " + runDir.string() + "\nSubmit it again with `sbatch " +
                                  (runDir / "slurm.sbatch").string() + "`: it resumes the run.");
    script.workDir = fs::current_path();
    script.options = slurmOptions(flags, project);
    if (sweep) {
        script.output = runDir / "slurm-%A_%a.out";
        script.arrayTasks = int(strategy.count);
        script.commands = arrayCommands(thisExecutable(), file, runDir, flags);
    } else {
        script.output = runDir / "slurm-%j.out";
        script.commands = singleRunCommands(thisExecutable(), file, runDir, flags);
    }
    fs::path scriptFile = runDir / "slurm.sbatch";
    std::string jobId;
    try {
        if (!replaceFile(scriptFile.string(), cluster::renderBatchScript(script)))
            throw cluster::SlurmError("cannot write " + scriptFile.string());
        jobId = cluster::submit(scriptFile);
    } catch (const cluster::SlurmError& e) {
        std::error_code ec;
        if (made) fs::remove_all(runDir, ec);  // nothing submitted, nothing left
        std::fprintf(stderr, "%s: %s\n", me, e.what());
        return kFailed;
    }
    // One [[job]] per submission: `--resume RUN --slurm` adds one.
    std::ofstream jobs(runDir / "slurm.toml", std::ios::app);
    if (made) jobs << "# the Slurm jobs of this run, for `pipe status`\n";
    jobs << "[[job]]\nid = \"" << jobId << "\"\nsubmitted = \"" << now() << "\"\nscript = \"slurm.sbatch\"\n";
    std::string log = sweep ? "slurm-" + jobId + "_K.out for point K" : "slurm-" + jobId + ".out";
    std::printf("submitted Slurm job %s for %s%s\n  script %s, log %s\n  follow it with `pipe status %s`\n",
                jobId.c_str(), runDir.c_str(),
                sweep ? (" (an array of " + std::to_string(strategy.count) + " points)").c_str() : "",
                scriptFile.c_str(), (runDir / log).c_str(), runDir.c_str());
    return kOk;
}

}  // namespace pipelang::cli
