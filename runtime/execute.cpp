#include "runtime/execute.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <thread>

#include "interpreter/compile.h"
#include "interpreter/graph.h"
#include "interpreter/plan.h"
#include "record/run.h"
#include "runtime/data/dataset.h"
#include "runtime/data/text_data.h"
#include "runtime/distributed/launch.h"
#include "runtime/distributed/world.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/models/network.h"
#include "runtime/models/tfidf.h"
#include "runtime/record.h"
#include "runtime/room.h"
#include "runtime/threads.h"
#include "runtime/train/fit.h"
#include "runtime/train/interrupt.h"
#include "runtime/train/valid_predictions.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

fs::path makeRunDirectory(const fs::path& runsDir, const std::string& file) {
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    std::string base = fs::path(file).stem().string() + "-" + stamp;
    std::error_code ec;
    fs::create_directories(runsDir, ec);
    if (ec) throw RuntimeError("cannot create the run directory under `" + runsDir.string() + "`: " + ec.message());
    // Two runs in the same second get -2, -3...; create_directory claims a name
    // atomically, so runs started at once (a sweep's --jobs) never share one.
    fs::path dir = runsDir / base;
    for (int n = 2; !fs::create_directory(dir, ec); ++n) {
        if (ec) throw RuntimeError("cannot create the run directory `" + dir.string() + "`: " + ec.message());
        dir = runsDir / (base + "-" + std::to_string(n));
    }
    return dir;
}

namespace {

const Section& sectionOf(const Pipeline& p, const char* kind, const Value* ref) {
    const Section* s =
        ref && ref->kind == Value::Kind::Ref ? p.find(kind, ref->text.substr(0, ref->text.find('.'))) : nullptr;
    if (!s) throw RuntimeError(std::string("internal error: a checked pipeline lost its ") + kind + " block");
    return *s;
}

Split splitOf(const std::string& ref) {
    std::string name = ref.substr(ref.find('.') + 1);
    return name == "train" ? Split::Train : name == "test" ? Split::Test : Split::Valid;
}

// One GPU per process: a data-parallel worker takes the GPU of its local rank.
torch::Device cudaDevice() {
    auto gpus = int(torch::cuda::device_count());
    return torch::Device(torch::kCUDA, gpus > 0 ? int8_t(distributed::localRank() % gpus) : int8_t(0));
}

torch::Device chooseDevice(const std::string& wanted) {
    if (wanted == "cuda") {
        if (!torch::cuda::is_available())
            throw RuntimeError(
                "`device = \"cuda\"` was asked for, but this LibTorch sees no CUDA GPU (a CPU-only "
                "LibTorch, or no NVIDIA driver); use `--device cpu`, or build pipe against a CUDA "
                "LibTorch on a machine with a GPU");
        return cudaDevice();
    }
    if (wanted == "auto" && torch::cuda::is_available()) return cudaDevice();
    return torch::Device(torch::kCPU);
}

void copyBackbone(Network& from, Network& to) {
    // A stage's trained backbone seeds another model: same names, same shapes.
    torch::NoGradGuard noGrad;
    auto target = to.named_parameters();
    auto source = from.named_parameters();
    std::vector<torch::Tensor> backbone = to.backboneParameters();
    size_t copied = 0;
    for (const auto& item : target) {
        bool inBackbone = false;
        for (const auto& b : backbone) inBackbone = inBackbone || b.is_same(item.value());
        if (!inBackbone) continue;
        const auto* s = source.find(item.key());
        if (!s || s->sizes() != item.value().sizes())
            throw RuntimeError("cannot start from the trained backbone: `" + item.key() + "` does not match");
        item.value().copy_(*s);
        ++copied;
    }
    auto targetBuffers = to.named_buffers();
    auto sourceBuffers = from.named_buffers();
    for (const auto& item : targetBuffers)
        if (const auto* s = sourceBuffers.find(item.key()); s && s->sizes() == item.value().sizes())
            item.value().copy_(*s);
    if (copied == 0) throw RuntimeError("the trained backbone has no parameters in common with the new model");
}

void runStages(const Pipeline& pipeline, const Graph& graph, const RunOptions& options, const fs::path& runDir,
               uint64_t seed, RunRecord& record);

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
    if (options.threads <= 0) threadsOrigin = "default";
    int threads = options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    useThreads(threads);
    std::string runsOrigin = options.runsOrigin;
    if (options.runsDir.empty()) {
        runsOrigin = project.runs ? "pipe.toml" : "default";
        options.runsDir = project.runs ? *project.runs : fs::path("runs");
    }

    bool resuming = !options.resume.empty();
    // In a data-parallel run rank 0 makes the run directory and writes
    // everything in it; the other ranks learn its name and only read it (the
    // checkpoint to resume from).
    const bool main = distributed::isMain();
    fs::path runDir = options.resume;
    if (!resuming) {
        std::string made;
        if (main && !options.runDir.empty()) {
            // A sweep names its points' directories itself.
            std::error_code ec;
            if (record::isRunDirectory(options.runDir))
                throw RuntimeError("`" + options.runDir.string() +
                                   "` already holds a run; --run-dir takes a new folder");
            fs::create_directories(options.runDir, ec);
            if (ec)
                throw RuntimeError("cannot create the run directory `" + options.runDir.string() +
                                   "`: " + ec.message());
            made = options.runDir.string();
        } else if (main) {
            made = makeRunDirectory(options.runsDir, options.file).string();
        }
        runDir = distributed::shareFromMain(made, "run_dir");
        if (!options.runDir.empty()) runsOrigin = "--run-dir";
    }
    if (options.madeRunDir) *options.madeRunDir = runDir;
    if (const char* launcher = std::getenv(distributed::kRunDirFileVariable); launcher && main)
        std::ofstream(launcher) << runDir.string() << "\n";
    if (!resuming && main) {
        try {
            // Checked writes, then room for logs and records: a full disk
            // stops the run here, not after hours of training.
            std::ifstream source(options.file, std::ios::binary);
            std::string text((std::istreambuf_iterator<char>(source)), std::istreambuf_iterator<char>());
            writeFileAtomically(runDir / "source.pipe", text);
            writeFileAtomically(runDir / "source-path.txt",
                                fs::absolute(options.file).lexically_normal().string() + "\n");
            std::string overrides;
            for (const auto& o : options.overrides) overrides += o + "\n";
            writeFileAtomically(runDir / "overrides.txt", overrides);
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
    }
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

namespace {

void runStages(const Pipeline& pipeline, const Graph& graph, const RunOptions& options, const fs::path& runDir,
               uint64_t seed, RunRecord& record) {
    fs::path baseDir = fs::path(options.file).parent_path();

    std::map<std::string, std::unique_ptr<PreparedData>> data;
    std::map<std::string, std::shared_ptr<Network>> trained;
    std::map<std::string, std::shared_ptr<const Tokenizer>> tokenizers;
    Progress progress;
    for (const Stage& stage : graph.stages) {
        const Section& section = *stage.section;
        switch (stage.kind) {
        case StageKind::Load: {
            auto started = std::chrono::steady_clock::now();
            data[stage.name] = prepareData(section, baseDir, seed);
            const auto& d = *data[stage.name];
            double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            char took[32];
            std::snprintf(took, sizeof took, "%.1f", seconds);
            log::info("load " + stage.name + ": " + std::to_string(d.size(Split::Train)) + " train, " +
                      std::to_string(d.size(Split::Valid)) + " valid, " + std::to_string(d.size(Split::Test)) +
                      " test items (" + took + " s)");
            break;
        }
        case StageKind::Prepare: {
            fs::path dir = runDir / stage.name;
            fs::create_directories(dir);
            auto* text = dynamic_cast<TextPreparation*>(data.at(stage.name).get());
            if (text && !text->tokenizerName().empty()) text->tokenize(tokenizers.at(text->tokenizerName()));
            data.at(stage.name)->save(dir);
            break;
        }
        case StageKind::Tokenizer:
            tokenizers[stage.name] = makeTokenizer(section, data, baseDir, seed, runDir / stage.name);
            break;
        case StageKind::Train: {
            const Section& dataSection = sectionOf(pipeline, "data", section.field("data"));
            const Section& model = sectionOf(pipeline, "model", section.field("model"));
            const PreparedData& d = *data.at(dataSection.name);
            torch::Device device =
                chooseDevice(options.device.empty() ? section.field("device")->text : options.device);
            torch::manual_seed(seed);
            auto network = buildNetwork(backboneCall(pipeline, model), *model.field("head"), d.info(), baseDir);
            fitTextFeatures(*network, d);  // tf-idf statistics of the training split, if the model has any
            if (const Value* ref = model.field("backbone"); ref->kind == Value::Kind::Ref)
                copyBackbone(*trained.at(ref->text.substr(0, ref->text.find('.'))), *network);
            network->to(device);
            log::info("");
            log::info("train " + stage.name + ": " + model.field("backbone")->str() + " on " + dataSection.name + ", " +
                      device.str());
            fs::path dir = runDir / stage.name;
            if (distributed::isMain()) {  // rank 0 alone writes the run
                fs::create_directories(dir);
                std::uintmax_t parameterBytes = 0;
                for (const auto& p : network->parameters()) parameterBytes += p.numel() * p.element_size();
                ensureRoom(dir, stageRoom(parameterBytes),
                           ("stage `" + stage.name + "`'s weights and checkpoints").c_str());
            }
            record.setDevice(device.str());
            FitResult result;
            bool resuming = !options.resume.empty();
            if (resuming && fs::exists(dir / "weights.safetensors") && !fs::exists(dir / "checkpoint.pt")) {
                log::info("stage " + stage.name + " finished before the interruption: its weights are loaded");
                loadWeights(*network, dir / "weights.safetensors");
            } else {
                result = fit(*network, d, dataSection, section, device, dir, progress, resuming);
            }
            StageRecord done{stage.name, "", int64_t(result.epochs.size()), {}};
            if (distributed::isMain()) {
                network->to(torch::kCPU);
                saveWeights(*network, dir / "weights.safetensors");
                network->to(device);
                fs::remove(dir / "checkpoint.pt");  // the stage is done; its weights are the state now
                done.weightsSha256 = sha256File(dir / "weights.safetensors");
                writeValidPredictions(*network, d, dataSection, device, runDir / dataSection.name / "items.csv",
                                      dir / "valid_predictions.csv");
            }
            // A rank that resumes reads rank 0's files: they are complete first.
            distributed::barrier();
            if (!result.epochs.empty()) {
                const EpochResult& last = result.epochs.back();
                done.metrics = {{"train_loss", last.trainLoss}, {"valid_loss", last.validLoss}};
                for (const auto& m : last.metrics) done.metrics.push_back(m);
            }
            record.addStage(done);
            trained[stage.name] = network;
            break;
        }
        case StageKind::Evaluate: {
            const Section& train = sectionOf(pipeline, "train", section.field("stage"));
            const Value* on = section.field("on");
            const Section& dataSection = sectionOf(pipeline, "data", on);
            Network& network = *trained.at(train.name);
            torch::Device device =
                network.parameters().empty() ? torch::Device(torch::kCPU) : network.parameters().front().device();
            Evaluation ev = evaluate(network, *data.at(dataSection.name), dataSection, splitOf(on->text), train,
                                     *section.field("with"), device);
            std::string line = "\nevaluate " + section.name + ": " + std::to_string(ev.items) + " items, loss " +
                               formatNumber(ev.loss);
            for (const auto& [name, value] : ev.metrics) line += ", " + name + " " + formatNumber(value);
            log::info("");
            log::info(line.substr(1));
            if (!ev.confusion.empty()) log::info(ev.confusion.substr(0, ev.confusion.find_last_not_of('\n') + 1));
            if (distributed::isMain())
                std::ofstream(runDir / ("evaluate-" + train.name + ".txt")) << line.substr(1) << "\n" << ev.confusion;
            StageRecord scored{section.name, "", 0, {{"loss", ev.loss}}};
            for (const auto& m : ev.metrics) scored.metrics.push_back(m);
            record.addStage(scored);
            break;
        }
        case StageKind::Export: {
            const Section& train = sectionOf(pipeline, "train", section.field("stage"));
            fs::path to = section.field("to")->text;
            if (to.is_relative()) to = runDir / to;  // outputs stay in the run unless a path says otherwise
            Network& network = *trained.at(train.name);
            auto device =
                network.parameters().empty() ? torch::Device(torch::kCPU) : network.parameters().front().device();
            if (distributed::isMain()) {
                network.to(torch::kCPU);
                saveWeights(network, to);
                network.to(device);
            }
            log::info("export " + train.name + " → " + to.string());
            break;
        }
        }
    }
}

}  // namespace

}  // namespace pipelang::runtime
