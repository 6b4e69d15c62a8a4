#include "runtime/look/experiment.h"

#include <cstdio>
#include <cstdlib>
#include <map>

#include "interpreter/graph.h"
#include "record/run.h"
#include "runtime/data/text_data.h"
#include "runtime/data/tokenizer.h"
#include "runtime/error.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

namespace {

Experiment pick(std::unique_ptr<Compilation> c, const fs::path& file, const std::string& stage) {
    if (!c->ok()) {
        std::fputs(render(c->diags).c_str(), stderr);
        throw RuntimeError("`" + file.string() + "` does not check; fix the errors above");
    }
    std::fputs(render(c->diags).c_str(), stderr);  // warnings
    Experiment e;
    e.compilation = std::move(c);
    e.baseDir = file.parent_path();
    e.seed = uint64_t(e.pipeline().seed.value_or(0));
    std::vector<std::string> names;
    Graph graph = buildGraph(e.pipeline());
    for (const auto& s : graph.stages) {
        if (s.kind != StageKind::Train) continue;
        names.push_back(s.name);
        if (stage.empty() || s.name == stage) e.train = s.section;
    }
    if (!stage.empty() && !e.train) {
        std::string known;
        for (const auto& n : names) known += (known.empty() ? "" : ", ") + ("`" + n + "`");
        throw RuntimeError("there is no train stage `" + stage + "` in `" + file.string() + "`" +
                           (known.empty() ? std::string(" (it has none)") : "; its train stages: " + known));
    }
    if (e.train) {
        e.data = e.pipeline().find("data", e.train->field("data")->text);
        e.model = e.pipeline().find("model", e.train->field("model")->text);
    }
    return e;
}

}  // namespace

Experiment openExperiment(const std::string& file, const std::vector<std::string>& overrides,
                          const std::string& stage) {
    if (!fs::is_regular_file(file)) throw RuntimeError("`" + file + "` does not exist or is not a file");
    return pick(compileFile(file, CompileOptions{overrides}), file, stage);
}

Experiment openRun(const fs::path& run, const std::string& stage) {
    if (!record::isRunDirectory(run))
        throw RuntimeError("`" + run.string() +
                           "` is not a run directory (it has no source.pipe); give one that `pipe run` made");
    return pick(record::compileRun(run), record::sourcePath(run), stage);
}

const Section& dataSection(const Experiment& e, const std::string& name) {
    std::vector<const Section*> all;
    for (const auto& s : e.pipeline().sections)
        if (s.kind == "data") all.push_back(&s);
    if (!name.empty()) {
        for (const Section* s : all)
            if (s->name == name) return *s;
        std::string known;
        for (const Section* s : all) known += (known.empty() ? "" : ", ") + ("`" + s->name + "`");
        throw RuntimeError("there is no data block `" + name + "`; the file has " +
                           (known.empty() ? std::string("none") : known));
    }
    if (e.data) return *e.data;
    if (all.size() == 1) return *all.front();
    throw RuntimeError(all.empty() ? "the file has no data block to show"
                                   : "the file has several data blocks and no train stage; name one with --data");
}

std::unique_ptr<PreparedData> prepareLooked(const Experiment& e, const Section& data, const fs::path& run) {
    auto prepared = prepareData(data, e.baseDir, e.seed);
    auto* text = dynamic_cast<TextPreparation*>(prepared.get());
    if (!text || text->tokenizerName().empty()) return prepared;
    const std::string name = text->tokenizerName();
    if (fs::path saved = run.empty() ? fs::path() : Tokenizer::savedIn(run / name); !saved.empty()) {
        text->tokenize(Tokenizer::load(saved));
        return prepared;
    }
    const Section* section = e.pipeline().find("tokenizer", name);
    if (!section) throw RuntimeError("data `" + data.name + "` names tokenizer `" + name + "`, which the file lacks");
    // The tokenizer learns from the training text of the data block its
    // `from` names, which may be another one than `data`.
    std::unique_ptr<PreparedData> other;
    const Value* from = section->field("from");
    std::string source = from && !from->isNone() ? from->text.substr(0, from->text.find('.')) : "";
    if (!source.empty() && source != data.name) {
        const Section* otherSection = e.pipeline().find("data", source);
        if (!otherSection)
            throw RuntimeError("tokenizer `" + name + "` learns from data `" + source + "`, which the file lacks");
        other = prepareData(*otherSection, e.baseDir, e.seed);
    }
    // The tokenizer is wanted in memory only: its folder goes, whatever happens.
    struct Scratch {
        char path[27] = "/tmp/pipe-tokenizer-XXXXXX";
        ~Scratch() {
            std::error_code ignored;
            fs::remove_all(path, ignored);
        }
    } scratch;
    if (!mkdtemp(scratch.path)) throw RuntimeError("cannot make a temporary folder for the tokenizer in /tmp");
    std::shared_ptr<const Tokenizer> tokenizer =
        makeTokenizer(*section, other ? other.get() : prepared.get(), e.baseDir, e.seed, scratch.path);
    text->tokenize(tokenizer);
    return prepared;
}

Batch onDevice(Batch batch, const torch::Device& device) {
    if (device.is_cpu()) return batch;
    batch.x = batch.x.to(device);
    if (batch.xCat.defined()) batch.xCat = batch.xCat.to(device);
    if (batch.mask.defined()) batch.mask = batch.mask.to(device);
    if (batch.y.defined()) batch.y = batch.y.to(device);
    if (batch.yMix.defined()) batch.yMix = batch.yMix.to(device);
    if (batch.lam.defined()) batch.lam = batch.lam.to(device);
    return batch;
}

int64_t sectionInt(const Section& section, const char* field) {
    return fieldOf(section, field).integer;
}

}  // namespace pipelang::runtime
