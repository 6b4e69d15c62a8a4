#include "runtime/execute.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "cluster/slurm.h"
#include "interpreter/compile.h"
#include "interpreter/graph.h"
#include "interpreter/plan.h"
#include "record/run.h"
#include "runtime/distributed/launch.h"
#include "runtime/distributed/world.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/room.h"
#include "runtime/run_record.h"
#include "runtime/stages.h"
#include "runtime/threads.h"
#include "runtime/train/interrupt.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

fs::path makeRunDirectory(const fs::path& runsDir, const std::string& file) {
    try {
        return record::makeRunDirectory(runsDir, file);
    } catch (const record::RecordError& e) {
        throw RuntimeError(e.what());
    }
}

namespace {

const Section& sectionOf(const Pipeline& p, const char* kind, const Value* ref) {
    const Section* s =
        ref && ref->kind == Value::Kind::Ref ? p.find(kind, ref->text.substr(0, ref->text.find('.'))) : nullptr;
    if (!s) throw RuntimeError(std::string("internal error: a checked pipeline lost its ") + kind + " block");
    return *s;
}

// Puts pipe.toml's values into the pipeline where it leaves a choice open: a
// relative data path missing beside the file is taken from the first data
// root that has it, and a train block that does not choose its device gets
// pipe.toml's. Returns the settings it changed (`cars.source.path`), for the
// record to name their origin.
std::map<std::string, std::string> applyProject(Pipeline& pipeline, const record::Project& project,
                                                const fs::path& baseDir) {
    std::map<std::string, std::string> changed;
    for (auto& section : pipeline.sections) {
        if (section.kind == "data" && !project.dataRoots.empty()) {
            Value* source = section.field("source");
            if (!source || source->kind != Value::Kind::Call) continue;
            for (const char* arg : {"path", "folder"}) {
                Value* v = source->arg(arg);
                if (!v || v->kind != Value::Kind::String) continue;
                if (auto found = record::findUnderDataRoots(v->text, baseDir, project.dataRoots)) {
                    v->text = found->string();
                    changed[section.name + ".source." + arg] = "pipe.toml";
                }
            }
        }
        if (section.kind == "train" && project.device) {
            Value* device = section.field("device");
            if (device && device->origin == Origin::Default) {
                device->text = *project.device;
                changed[section.name + ".device"] = "pipe.toml";
            }
        }
    }
    return changed;
}

// A new run's directory: --run-dir, or a new one under the runs folder. Rank
// 0 makes it and writes the file, its overrides, plan and graph there; the
// other ranks of a data-parallel run learn its name and only read it.
fs::path startRunDirectory(const RunOptions& options, const Pipeline& pipeline, const Graph& graph) {
    const bool main = distributed::isMain();
    std::string made;
    if (main && !options.runDir.empty()) {
        // A sweep names its points' directories itself.
        std::error_code ec;
        if (record::isRunDirectory(options.runDir))
            throw RuntimeError("`" + options.runDir.string() + "` already holds a run; --run-dir takes a new folder");
        fs::create_directories(options.runDir, ec);
        if (ec)
            throw RuntimeError("cannot create the run directory `" + options.runDir.string() + "`: " + ec.message());
        made = options.runDir.string();
    } else if (main) {
        made = makeRunDirectory(options.runsDir, options.file).string();
    }
    fs::path runDir = distributed::shareFromMain(made, "run_dir");
    if (!main) return runDir;
    try {
        // Checked writes, then room for logs and records: a full disk
        // stops the run here, not after hours of training.
        std::ifstream source(options.file, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(source)), std::istreambuf_iterator<char>());
        writeFileAtomically(runDir / "source.pipe", text);
        writeFileAtomically(runDir / "source-path.txt", fs::absolute(options.file).lexically_normal().string() + "\n");
        std::string overrides;
        for (const auto& o : options.overrides) overrides += o + "\n";
        writeFileAtomically(runDir / "overrides.txt", overrides);
        // What model folders' config.json decided, so the run's file compiles
        // to the same model (for predict, a rerun) where a folder is gone.
        std::string modelConfig;
        for (const auto& section : pipeline.sections)
            for (const auto& [field, value] : section.fields)
                for (size_t i = 0; i < value.names.size(); ++i)
                    if (value.items[i].origin == Origin::ModelConfig)
                        modelConfig +=
                            section.name + "." + field + "." + value.names[i] + "=" + value.items[i].str() + "\n";
        if (!modelConfig.empty()) writeFileAtomically(runDir / "model-config.txt", modelConfig);
        writeFileAtomically(runDir / "plan.txt", renderPlan(pipeline));
        writeFileAtomically(runDir / "graph.txt", renderText(graph));
        ensureRoom(runDir, 16u << 20, "the run's logs and records");
    } catch (const RuntimeError&) {
        // Nothing was run: leave no empty run behind (a sweep's point
        // folder belongs to the sweep, which reports the error).
        std::error_code ignored;
        if (options.runDir.empty()) fs::remove_all(runDir, ignored);
        throw;
    }
    return runDir;
}

}  // namespace

Value backboneCall(const Pipeline& pipeline, const Section& model) {
    // `backbone = pre.backbone` is the same kind of backbone as the stage
    // `pre` trained (its weights are copied in once it is built).
    const Value* backbone = model.field("backbone");
    for (int hops = 0; backbone->kind == Value::Kind::Ref && hops < 64; ++hops) {
        const Section& from = sectionOf(pipeline, "train", backbone);
        backbone = sectionOf(pipeline, "model", from.field("model")).field("backbone");
    }
    Value call = *backbone;
    // Feature extraction for any backbone, a transferred one included: the
    // network keeps it fixed as it does a backbone written with `freeze`.
    if (const Value* freeze = model.field("freeze"); freeze && freeze->boolean) {
        if (Value* own = call.arg("freeze")) {
            *own = *freeze;
        } else {
            call.items.push_back(*freeze);
            call.names.push_back("freeze");
        }
    }
    return call;
}

int runPipeline(const RunOptions& given) {
    RunOptions options = given;
    std::unique_ptr<Compilation> c;
    if (!options.resume.empty()) {
        // The run's own copy of its file and overrides, as it was run.
        if (!record::isRunDirectory(options.resume))
            throw RuntimeError("`" + options.resume.string() +
                               "` is not a run directory (it has no source.pipe); --resume takes one that `pipe run` "
                               "made");
        options.file = record::sourcePath(options.resume).string();
        c = record::compileRun(options.resume);
        if (options.threads == 0) {
            options.threads = record::recordedThreads(options.resume / "record.toml");
            if (options.threads > 0) options.threadsOrigin = "record";
        }
        if (!options.project) options.project = record::projectFromRecord(options.resume / "record.toml");
    } else {
        c = compileFile(options.file, CompileOptions{options.overrides});
    }
    // Every rank of a data-parallel run compiles the file; rank 0 tells.
    if (!c->ok()) {
        if (distributed::isMain()) std::fputs(render(c->diags).c_str(), stderr);
        return 2;
    }
    if (distributed::isMain()) std::fputs(render(c->diags).c_str(), stderr);  // warnings
    record::Project project;
    try {
        project = options.project ? *options.project : record::projectFor(options.file);
    } catch (const record::RecordError& e) {
        std::fprintf(stderr, "pipe run: error: %s\n", e.what());
        return 2;
    }
    Pipeline& pipeline = c->pipeline;
    std::map<std::string, std::string> fromProject =
        applyProject(pipeline, project, fs::path(options.file).parent_path());
    Graph graph = buildGraph(pipeline);
    uint64_t seed = uint64_t(pipeline.seed.value_or(0));
    std::string threadsOrigin = options.threadsOrigin;
    if (options.threads <= 0 && project.threads) options.threads = *project.threads, threadsOrigin = "pipe.toml";
    // A task of a Slurm job with --cpus-per-task has those cores, not the node's.
    if (options.threads <= 0)
        if (int cpus = cluster::cpusPerTask(); cpus > 0) options.threads = cpus, threadsOrigin = "SLURM_CPUS_PER_TASK";
    if (options.threads <= 0) threadsOrigin = "default";
    int threads = options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    useThreads(threads);
    std::string runsOrigin = options.runsOrigin;
    if (options.runsDir.empty()) {
        runsOrigin = project.runs ? "pipe.toml" : "default";
        options.runsDir = project.runs ? *project.runs : fs::path("runs");
    }

    bool resuming = !options.resume.empty();
    const bool main = distributed::isMain();
    fs::path runDir = resuming ? options.resume : startRunDirectory(options, pipeline, graph);
    if (!resuming && !options.runDir.empty()) runsOrigin = "--run-dir";
    if (options.madeRunDir) *options.madeRunDir = runDir;
    if (const char* launcher = std::getenv(distributed::kRunDirFileVariable); launcher && main)
        std::ofstream(launcher) << runDir.string() << "\n";
    if (main) log::openRunLog(runDir / "log.txt");
    installInterruptHandler();
    std::string processes =
        distributed::size() > 1 ? ", " + std::to_string(distributed::size()) + " processes" : std::string();
    log::info(std::string(resuming ? "resume " : "run ") + runDir.string() + "  (seed " + std::to_string(seed) + ", " +
              std::to_string(threads) + " threads" + processes + ")");
    RunRecord record(runDir, pipeline, options.file, options.commandLine, seed, threads);
    std::vector<ProjectValue> projectValues = {
        {"runs", {fs::absolute(runDir).lexically_normal().parent_path().string()}, false, runsOrigin},
        {"threads", {std::to_string(threads)}, false, threadsOrigin},
        {"device",
         {options.device.empty() ? project.device.value_or("auto") : options.device},
         false,
         options.device.empty() ? (project.device ? "pipe.toml" : "default") : "--device"},
    };
    std::vector<std::string> roots;
    for (const auto& r : project.dataRoots) roots.push_back(r.string());
    if (!roots.empty()) projectValues.push_back({"data_roots", roots, true, "pipe.toml"});
    record.setProject(project.file.string(), projectValues);
    for (const auto& [setting, origin] : fromProject) record.setOrigin(setting, origin);
    if (main) record.write("running");
    try {
        runStages(pipeline, graph, options, runDir, seed, record);
    } catch (const std::exception& e) {
        if (main) record.write("failed", e.what());
        throw;
    }
    if (main) record.write("finished");
    log::info("");
    log::info("done: " + runDir.string());
    log::closeRunLog();
    return 0;
}

}  // namespace pipelang::runtime
