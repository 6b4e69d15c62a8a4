#include "runtime/execute.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include "interpreter/compile.h"
#include "interpreter/graph.h"
#include "interpreter/plan.h"
#include "record/run.h"
#include "runtime/data/dataset.h"
#include "runtime/data/text_data.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/models/network.h"
#include "runtime/models/tfidf.h"
#include "runtime/record.h"
#include "runtime/train/fit.h"
#include "runtime/train/interrupt.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

fs::path makeRunDirectory(const fs::path& runsDir, const std::string& file) {
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    std::string base = fs::path(file).stem().string() + "-" + stamp;
    fs::path dir = runsDir / base;
    // Two runs in the same second get -2, -3...
    for (int n = 2; fs::exists(dir); ++n) dir = runsDir / (base + "-" + std::to_string(n));
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw RuntimeError("cannot create the run directory `" + dir.string() + "`: " + ec.message());
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

torch::Device chooseDevice(const std::string& wanted) {
    if (wanted == "cuda") {
        if (!torch::cuda::is_available())
            throw RuntimeError("`device = \"cuda\"` was asked for, but this LibTorch sees no CUDA GPU");
        return torch::Device(torch::kCUDA);
    }
    if (wanted == "auto" && torch::cuda::is_available()) return torch::Device(torch::kCUDA);
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

}  // namespace

const Value& backboneCall(const Pipeline& pipeline, const Section& model) {
    // `backbone = pre.backbone` is the same kind of backbone as the stage
    // `pre` trained (its weights are copied in once it is built).
    const Value* backbone = model.field("backbone");
    for (int hops = 0; backbone->kind == Value::Kind::Ref && hops < 64; ++hops) {
        const Section& from = sectionOf(pipeline, "train", backbone);
        backbone = sectionOf(pipeline, "model", from.field("model")).field("backbone");
    }
    return *backbone;
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
        if (options.threads == 0 && fs::exists(options.resume / "record.toml")) {
            // The recorded thread count: LibTorch's reductions can round differently with another.
            std::ifstream record(options.resume / "record.toml");
            for (std::string line; std::getline(record, line);)
                if (line.rfind("threads = ", 0) == 0) options.threads = std::stoi(line.substr(10));
        }
    } else {
        c = compileFile(options.file, CompileOptions{options.overrides});
    }
    if (!c->ok()) {
        std::fputs(render(c->diags).c_str(), stderr);
        return 2;
    }
    std::fputs(render(c->diags).c_str(), stderr);  // warnings
    const Pipeline& pipeline = c->pipeline;
    Graph graph = buildGraph(pipeline);
    uint64_t seed = uint64_t(pipeline.seed.value_or(0));
    int threads = options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(threads);

    bool resuming = !options.resume.empty();
    fs::path runDir = resuming ? options.resume : makeRunDirectory(options.runsDir, options.file);
    if (options.madeRunDir) *options.madeRunDir = runDir;
    if (!resuming) {
        std::ofstream(runDir / "plan.txt") << renderPlan(pipeline);
        std::ofstream(runDir / "graph.txt") << renderText(graph);
        fs::copy_file(options.file, runDir / "source.pipe", fs::copy_options::overwrite_existing);
        std::ofstream(runDir / "source-path.txt") << fs::absolute(options.file).lexically_normal().string() << "\n";
        std::ofstream overrides(runDir / "overrides.txt");
        for (const auto& o : options.overrides) overrides << o << "\n";
    }
    log::openRunLog(runDir / "log.txt");
    installInterruptHandler();
    log::info(std::string(resuming ? "resume " : "run ") + runDir.string() + "  (seed " + std::to_string(seed) + ", " +
              std::to_string(threads) + " threads)");
    RunRecord record(runDir, pipeline, options.file, options.commandLine, seed, threads);
    record.write("running");
    try {
        runStages(pipeline, graph, options, runDir, seed, record);
    } catch (const std::exception& e) {
        record.write("failed", e.what());
        throw;
    }
    record.write("finished");
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
            record.setDevice(device.str());
            FitResult result;
            bool resuming = !options.resume.empty();
            if (resuming && fs::exists(dir / "weights.safetensors") && !fs::exists(dir / "checkpoint.pt")) {
                log::info("stage " + stage.name + " finished before the interruption: its weights are loaded");
                loadWeights(*network, dir / "weights.safetensors");
            } else {
                result = fit(*network, d, dataSection, section, device, dir, progress, resuming);
            }
            network->to(torch::kCPU);
            saveWeights(*network, dir / "weights.safetensors");
            network->to(device);
            fs::remove(dir / "checkpoint.pt");  // the stage is done; its weights are the state now
            StageRecord done{stage.name, sha256File(dir / "weights.safetensors"), int64_t(result.epochs.size()), {}};
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
            network.to(torch::kCPU);
            saveWeights(network, to);
            network.to(device);
            log::info("export " + train.name + " → " + to.string());
            break;
        }
        }
    }
}

}  // namespace

}  // namespace pipelang::runtime
