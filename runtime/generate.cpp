#include "runtime/generate.h"

#include "runtime/sampling.h"

#include <ATen/CPUGeneratorImpl.h>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "interpreter/compile.h"
#include "interpreter/graph.h"
#include "record/run.h"
#include "runtime/data/text_data.h"
#include "runtime/data/tokenizer.h"
#include "runtime/error.h"
#include "runtime/execute.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

std::vector<int64_t> sampleTokens(Network& network, std::vector<int64_t> tokens, const Sampling& s,
                                  torch::Generator& generator) {
    if (tokens.empty()) throw RuntimeError("internal error: sampling needs at least one token to start from");
    torch::NoGradGuard noGrad;
    network.eval();
    auto device = network.parameters().empty() ? torch::Device(torch::kCPU) : network.parameters().front().device();
    std::vector<int64_t> out;
    for (int64_t i = 0; i < s.length; ++i) {
        int64_t have = int64_t(tokens.size());
        int64_t take = s.context > 0 ? std::min(have, s.context) : have;
        std::vector<int64_t> window(tokens.end() - take, tokens.end());
        if (s.fixedWindow && take < s.context) window.insert(window.begin(), size_t(s.context - take), s.padId);
        Batch batch;
        batch.x = torch::tensor(window, torch::kInt64).unsqueeze(0).to(device);
        torch::Tensor scores = network.forward(batch).to(torch::kCPU, torch::kFloat32);
        if (scores.dim() == 3) scores = scores.select(1, -1);
        scores = scores.squeeze(0);
        int64_t next;
        if (s.temperature <= 0) {
            next = scores.argmax().item<int64_t>();
        } else {
            torch::Tensor probs = (scores / s.temperature).softmax(0);
            next = torch::multinomial(probs, 1, /*replacement=*/false, generator).item<int64_t>();
        }
        if (s.stop && next == *s.stop) break;
        out.push_back(next);
        tokens.push_back(next);
    }
    return out;
}

namespace {

// What `save` of a chars or tokens data block wrote into the run (stats.json).
struct TokenVocabulary {
    DataInfo info;
    std::string block;                     // "chars" or "tokens"
    std::vector<std::string> tokens;       // chars: id → character
    std::shared_ptr<Tokenizer> tokenizer;  // tokens: the run's tokenizer
    int64_t bos = 2, eos = 3;
};

TokenVocabulary readVocabulary(const fs::path& dir) {
    fs::path path = dir / "stats.json";
    std::ifstream in(path);
    if (!in) throw RuntimeError("`" + path.string() + "` is missing: the run did not save its data's vocabulary");
    nlohmann::json stats;
    try {
        stats = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        throw RuntimeError("`" + path.string() + "` is not valid JSON: " + e.what());
    }
    TokenVocabulary v;
    v.block = stats.value("block", "");
    v.info.input = v.info.target = "tokens";
    v.info.vocab = stats.value("vocab", int64_t(0));
    v.info.context = stats.value("context", int64_t(0));
    v.info.padId = stats.value("pad_id", int64_t(0));
    v.info.outputs = v.info.vocab;
    v.bos = stats.value("bos_id", int64_t(2));
    v.eos = stats.value("eos_id", int64_t(3));
    if (stats.value("input", "") != "tokens" || v.info.vocab < 1)
        throw RuntimeError(
            "the data of this stage is not a language model's (`chars` or `tokens`); `pipe generate` "
            "samples from language models only");
    if (stats.contains("tokens")) {
        v.tokens = stats["tokens"].get<std::vector<std::string>>();
    } else if (stats.contains("tokenizer")) {
        v.tokenizer = Tokenizer::load(dir / stats["tokenizer"].get<std::string>());
    } else {
        throw RuntimeError("`" + path.string() + "` names neither characters nor a tokenizer to decode with");
    }
    return v;
}

// The prompt as character ids; a character the vocabulary lacks is named.
std::vector<int64_t> encodeChars(const std::string& prompt, const TokenVocabulary& v) {
    std::vector<int64_t> ids;
    for (size_t i = 0; i < prompt.size();) {
        // One UTF-8 code point at a time, as the chars block split the text.
        size_t n = 1;
        unsigned char c = static_cast<unsigned char>(prompt[i]);
        if (c >= 0xF0)
            n = 4;
        else if (c >= 0xE0)
            n = 3;
        else if (c >= 0xC0)
            n = 2;
        std::string ch = prompt.substr(i, n);
        auto it = std::find(v.tokens.begin(), v.tokens.end(), ch);
        if (it == v.tokens.end())
            throw RuntimeError("the prompt's character \"" + ch + "\" never occurs in the training text");
        ids.push_back(int64_t(it - v.tokens.begin()));
        i += n;
    }
    return ids;
}

}  // namespace

int generate(const GenerateOptions& o) {
    if (!record::isRunDirectory(o.run))
        throw RuntimeError("`" + (o.run / "source.pipe").string() +
                           "` is missing: is this a run directory written by `pipe run`?");
    auto c = record::compileRun(o.run);
    if (!c->ok()) {
        std::fputs(render(c->diags).c_str(), stderr);
        throw RuntimeError("the run's recorded pipeline no longer checks (an imported file may have changed)");
    }
    Graph graph = buildGraph(c->pipeline);
    // By default the last stage that trained on `chars` or `tokens` windows
    // (a classifier fine-tuned after it reads `text`).
    auto languageModel = [&](const Section& train) {
        std::ifstream in(o.run / train.field("data")->text / "stats.json");
        if (!in) return false;
        auto stats = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
        return stats.is_object() && stats.value("input", "") == "tokens";
    };
    const Section* train = nullptr;
    for (const auto& stage : graph.stages)
        if (stage.kind == StageKind::Train && (o.stage.empty() ? languageModel(*stage.section) : stage.name == o.stage))
            train = stage.section;
    if (!train)
        throw RuntimeError(o.stage.empty() ? "the run has no language model stage"
                                           : "the run has no train stage `" + o.stage + "`");
    const Section* data = c->pipeline.find("data", train->field("data")->text);
    const Section* model = c->pipeline.find("model", train->field("model")->text);
    fs::path baseDir = record::sourcePath(o.run).parent_path();
    TokenVocabulary v = readVocabulary(o.run / data->name);

    // The run's weights replace any pretrained ones, which need not be here any more.
    Value backbone = backboneCall(c->pipeline, *model);
    if (Value* pretrained = backbone.arg("weights")) *pretrained = Value{};
    auto network = buildNetwork(backbone, *model->field("head"), v.info, baseDir);
    loadWeights(*network, o.run / train->name / "weights.safetensors");

    Sampling s;
    s.context = v.info.context;
    s.padId = v.tokenizer ? v.info.padId : v.bos;
    s.fixedWindow = network->fixedWindow();
    s.stop = v.eos;
    s.length = o.length;
    s.temperature = o.temperature;
    // As the block made its windows: a chars window starts with `context`
    // bos tokens, a tokens stream with one bos before each text.
    std::vector<int64_t> start(v.tokenizer ? 1 : size_t(std::max<int64_t>(1, v.info.context)), v.bos);
    std::vector<int64_t> prompt = v.tokenizer ? v.tokenizer->encode(o.prompt) : encodeChars(o.prompt, v);
    start.insert(start.end(), prompt.begin(), prompt.end());

    auto generator = at::make_generator<at::CPUGeneratorImpl>(o.seed);
    for (int64_t i = 0; i < o.n; ++i) {
        std::vector<int64_t> sampled = sampleTokens(*network, start, s, generator);
        std::string text;
        if (v.tokenizer) {
            // Decoded with the prompt, so that pieces join as they were split.
            std::vector<int64_t> ids = prompt;
            const TokenIds special = v.tokenizer->specials();
            for (int64_t id : sampled)
                if (id >= 0 && id < v.tokenizer->size() && id != special.pad && id != special.bos &&
                    id != special.eos && id != special.cls)
                    ids.push_back(id);
            text = v.tokenizer->decode(ids);
        } else {
            text = o.prompt;
            for (int64_t id : sampled)
                if (id >= 0 && size_t(id) < v.tokens.size() && id != v.bos && id != v.eos) text += v.tokens[size_t(id)];
        }
        std::printf("%s\n", text.c_str());
    }
    return 0;
}

}  // namespace pipelang::runtime
