#include "runtime/stages.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include "runtime/data/dataset.h"
#include "runtime/data/text_data.h"
#include "runtime/device.h"
#include "runtime/distributed/collectives.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/models/network.h"
#include "runtime/models/tfidf.h"
#include "runtime/room.h"
#include "runtime/run_record.h"
#include "runtime/train/checkpoint.h"
#include "runtime/train/fit.h"
#include "runtime/train/tta.h"
#include "runtime/train/valid_predictions.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

namespace {

Split splitOf(const std::string& ref) {
    std::string name = ref.substr(ref.find('.') + 1);
    return name == "train" ? Split::Train : name == "test" ? Split::Test : Split::Valid;
}

// A stage's trained backbone seeds another model: same names, same shapes.
void copyBackbone(Network& from, Network& to) {
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

torch::Device deviceOf(Network& network) {
    return network.parameters().empty() ? torch::Device(torch::kCPU) : network.parameters().front().device();
}

// One run of the graph. What each stage hands on is kept under the stage's
// index, and a stage reads its inputs through its edges.
class StageRunner {
public:
    StageRunner(const Pipeline& pipeline, const Graph& graph, const RunOptions& options, const fs::path& runDir,
                uint64_t seed, RunRecord& record)
        : pipeline_(pipeline),
          graph_(graph),
          options_(options),
          runDir_(runDir),
          seed_(seed),
          record_(record),
          baseDir_(fs::path(options.file).parent_path()),
          data_(graph.stages.size()),
          tokenizers_(graph.stages.size()),
          networks_(graph.stages.size()) {}

    void run() {
        for (size_t i = 0; i < graph_.stages.size(); ++i) {
            const Stage& stage = graph_.stages[i];
            switch (stage.kind) {
            case StageKind::Load: load(i); break;
            case StageKind::Tokenizer: tokenizer(i); break;
            case StageKind::Prepare: prepare(i); break;
            case StageKind::Train: train(i); break;
            case StageKind::Evaluate: evaluate(i); break;
            case StageKind::Export: exportWeights(i); break;
            }
        }
    }

private:
    // The stage that hands `stage` its input of `kind` (and, when given,
    // that name), or none.
    const StageInput* findInput(size_t stage, StageKind kind, const std::string& name = "") const {
        for (const StageInput& in : graph_.stages[stage].inputs)
            if (graph_.stages[in.stage].kind == kind && (name.empty() || graph_.stages[in.stage].name == name))
                return &in;
        return nullptr;
    }
    size_t input(size_t stage, StageKind kind, const std::string& name = "") const {
        if (const StageInput* in = findInput(stage, kind, name)) return in->stage;
        throw RuntimeError("internal error: stage `" + graph_.stages[stage].title() + "` has no " +
                           stageKindName(kind) + " input in the execution graph");
    }
    const Section& sectionOf(size_t stage) const { return *graph_.stages[stage].section; }

    void load(size_t i) {
        const Stage& stage = graph_.stages[i];
        auto started = std::chrono::steady_clock::now();
        data_[i] = prepareData(*stage.section, baseDir_, seed_);
        const PreparedData& d = *data_[i];
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        char took[32];
        std::snprintf(took, sizeof took, "%.1f", seconds);
        log::info("load " + stage.name + ": " + std::to_string(d.size(Split::Train)) + " train, " +
                  std::to_string(d.size(Split::Valid)) + " valid, " + std::to_string(d.size(Split::Test)) +
                  " test items (" + took + " s)");
    }

    void tokenizer(size_t i) {
        const Stage& stage = graph_.stages[i];
        // A tokenizer that loads its model has no input; one that trains
        // learns from the data its edge brings.
        const StageInput* from = findInput(i, StageKind::Load);
        tokenizers_[i] = makeTokenizer(*stage.section, from ? data_[from->stage].get() : nullptr, baseDir_, seed_,
                                       runDir_ / stage.name);
    }

    void prepare(size_t i) {
        const Stage& stage = graph_.stages[i];
        data_[i] = data_[input(i, StageKind::Load)];
        auto* text = dynamic_cast<TextPreparation*>(data_[i].get());
        if (text && !text->tokenizerName().empty())
            text->tokenize(tokenizers_[input(i, StageKind::Tokenizer, text->tokenizerName())]);
        fs::path dir = runDir_ / stage.name;
        fs::create_directories(dir);
        data_[i]->save(dir);
    }

    void train(size_t i) {
        const Stage& stage = graph_.stages[i];
        const Section& section = *stage.section;
        const size_t dataStage = input(i, StageKind::Prepare);
        const Section& dataSection = sectionOf(dataStage);
        const PreparedData& d = *data_[dataStage];
        // Models are settings, not stages: the train block names its own.
        const Section* model = pipeline_.find("model", section.field("model")->text);
        if (!model) throw RuntimeError("internal error: a checked pipeline lost the model of `" + stage.name + "`");
        torch::Device device = chooseDevice(options_.device.empty() ? section.field("device")->text : options_.device);
        torch::manual_seed(seed_);
        auto network = buildNetwork(backboneCall(pipeline_, *model), *model->field("head"), d.info(), baseDir_);
        fitTextFeatures(*network, d);  // tf-idf statistics of the training split, if the model has any
        if (const StageInput* pre = findInput(i, StageKind::Train)) copyBackbone(*networks_[pre->stage], *network);
        network->to(device);
        log::info("");
        log::info("train " + stage.name + ": " + model->field("backbone")->str() + " on " + dataSection.name + ", " +
                  device.str());
        fs::path dir = runDir_ / stage.name;
        if (distributed::isMain()) {  // rank 0 alone writes the run
            fs::create_directories(dir);
            std::uintmax_t parameterBytes = 0;
            for (const auto& p : network->parameters()) parameterBytes += p.numel() * p.element_size();
            ensureRoom(dir, stageRoom(parameterBytes),
                       ("stage `" + stage.name + "`'s weights and checkpoints").c_str());
        }
        record_.setDevice(device.str());
        FitResult result;
        bool resuming = !options_.resume.empty();
        if (resuming && fs::exists(dir / "weights.safetensors") && !fs::exists(dir / "checkpoint.pt") &&
            !fs::exists(previousCheckpoint(dir / "checkpoint.pt"))) {
            log::info("stage " + stage.name + " finished before the interruption: its weights are loaded");
            loadWeights(*network, dir / "weights.safetensors");
        } else {
            result = fit(*network, d, dataSection, section, device, dir, progress_, resuming);
        }
        StageRecord done{stage.name, "", int64_t(result.epochs.size()), {}};
        if (distributed::isMain()) {
            network->to(torch::kCPU);
            saveWeights(*network, dir / "weights.safetensors");
            network->to(device);
            fs::remove(dir / "checkpoint.pt");  // the stage is done; its weights are the state now
            fs::remove(previousCheckpoint(dir / "checkpoint.pt"));
            done.weightsSha256 = sha256File(dir / "weights.safetensors");
            writeValidPredictions(*network, d, dataSection, device, runDir_ / dataSection.name / "items.csv",
                                  dir / "valid_predictions.csv");
        }
        // A rank that resumes reads rank 0's files: they are complete first.
        distributed::barrier();
        if (!result.epochs.empty()) {
            const EpochResult& last = result.epochs.back();
            done.metrics = {{"train_loss", last.trainLoss}, {"valid_loss", last.validLoss}};
            for (const auto& m : last.metrics) done.metrics.push_back(m);
        }
        record_.addStage(done);
        if (d.size(Split::Valid) > 0 && !d.baselines(Split::Valid).empty()) {
            // The kept weights scored on the validation windows, beside the naive forecasts of the same windows.
            Evaluation ev =
                runtime::evaluate(*network, d, dataSection, Split::Valid, section, *section.field("metrics"), device);
            reportBaselines(stage.name, d, Split::Valid, *section.field("metrics"), ev);
        }
        networks_[i] = network;
    }

    void evaluate(size_t i) {
        const Section& section = sectionOf(i);
        const size_t trainStage = input(i, StageKind::Train), dataStage = input(i, StageKind::Prepare);
        const Section& train = sectionOf(trainStage);
        Network& network = *networks_[trainStage];
        // `tta N`: fastai's test-time augmentation over N augmented copies.
        const Value* tta = section.field("tta");
        const int64_t passes = tta && tta->kind == Value::Kind::Int ? tta->integer : 0;
        Evaluation ev = passes > 0 ? runtime::evaluateWithTta(network, *data_[dataStage], sectionOf(dataStage),
                                                              splitOf(section.field("on")->text), train,
                                                              *section.field("with"), deviceOf(network), passes)
                                   : runtime::evaluate(network, *data_[dataStage], sectionOf(dataStage),
                                                       splitOf(section.field("on")->text), train,
                                                       *section.field("with"), deviceOf(network));
        std::string line = "evaluate " + section.name +
                           (passes > 0 ? " (tta " + std::to_string(passes) + ")" : std::string()) + ": " +
                           std::to_string(ev.items) + " items, loss " + formatNumber(ev.loss);
        for (const auto& [name, value] : ev.metrics) line += ", " + name + " " + formatNumber(value);
        log::info("");
        log::info(line);
        if (!ev.confusion.empty()) log::info(ev.confusion.substr(0, ev.confusion.find_last_not_of('\n') + 1));
        if (distributed::isMain())
            std::ofstream(runDir_ / ("evaluate-" + train.name + ".txt")) << line << "\n" << ev.confusion;
        StageRecord scored{section.name, "", 0, {{"loss", ev.loss}}};
        for (const auto& m : ev.metrics) scored.metrics.push_back(m);
        record_.addStage(scored);
        reportBaselines(section.name, *data_[dataStage], splitOf(section.field("on")->text), *section.field("with"),
                        ev);
    }

    // A series' naive forecasts beside the model's scores on the same
    // windows, printed and recorded as the stage `NAME_baselines`.
    void reportBaselines(const std::string& name, const PreparedData& d, Split split, const Value& metrics,
                         const Evaluation& model) {
        BaselineComparison c = compareWithBaselines(d, split, metrics, model.metrics);
        if (c.lines.empty()) return;
        log::info("");
        log::info(std::string(splitName(split)) + ": the model beside naive forecasts of the same " +
                  std::to_string(model.items) + " windows");
        for (const auto& line : c.lines) log::info(line);
        if (distributed::isMain()) {
            std::ofstream out(runDir_ / (name + "-baselines.txt"));
            for (const auto& line : c.lines) out << line << "\n";
        }
        record_.addStage({name + "_baselines", "", 0, c.scores});
    }

    void exportWeights(size_t i) {
        const size_t trainStage = input(i, StageKind::Train);
        fs::path to = sectionOf(i).field("to")->text;
        if (to.is_relative()) to = runDir_ / to;  // outputs stay in the run unless a path says otherwise
        Network& network = *networks_[trainStage];
        if (distributed::isMain()) {
            auto device = deviceOf(network);
            network.to(torch::kCPU);
            saveWeights(network, to);
            network.to(device);
        }
        log::info("export " + sectionOf(trainStage).name + " → " + to.string());
    }

    const Pipeline& pipeline_;
    const Graph& graph_;
    const RunOptions& options_;
    const fs::path runDir_;
    const uint64_t seed_;
    RunRecord& record_;
    const fs::path baseDir_;
    Progress progress_;
    // What each stage handed on, by stage index: a prepare stage shares its
    // load stage's data; a train stage's network seeds the stages after it.
    std::vector<std::shared_ptr<PreparedData>> data_;
    std::vector<std::shared_ptr<const Tokenizer>> tokenizers_;
    std::vector<std::shared_ptr<Network>> networks_;
};

}  // namespace

void runStages(const Pipeline& pipeline, const Graph& graph, const RunOptions& options, const fs::path& runDir,
               uint64_t seed, RunRecord& record) {
    StageRunner(pipeline, graph, options, runDir, seed, record).run();
}

}  // namespace pipelang::runtime
