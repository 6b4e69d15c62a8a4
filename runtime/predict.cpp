#include "runtime/predict.h"

#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "interpreter/compile.h"
#include "interpreter/graph.h"
#include "record/run.h"
#include "runtime/data/dataset.h"
#include "runtime/error.h"
#include "runtime/execute.h"
#include "runtime/models/network.h"
#include "runtime/train/tta.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

int predict(const PredictOptions& o) {
    // The run's own copy of the source, compiled as if it stood where the
    // original did, so relative paths and imports mean what they meant.
    if (!record::isRunDirectory(o.run))
        throw RuntimeError("`" + (o.run / "source.pipe").string() +
                           "` is missing: is this a run directory written by `pipe run`?");
    auto c = record::compileRun(o.run);
    std::string original = record::sourcePath(o.run).string();
    if (!c->ok()) {
        std::fputs(render(c->diags).c_str(), stderr);
        throw RuntimeError("the run's recorded pipeline no longer checks (an imported file may have changed)");
    }
    Graph graph = buildGraph(c->pipeline);
    const Section* train = nullptr;
    for (const auto& stage : graph.stages)
        if (stage.kind == StageKind::Train && (o.stage.empty() || stage.name == o.stage)) train = stage.section;
    if (!train)
        throw RuntimeError(o.stage.empty() ? "the run has no train stage"
                                           : "the run has no train stage `" + o.stage + "`");
    const Section* data = c->pipeline.find("data", train->field("data")->text);
    const Section* model = c->pipeline.find("model", train->field("model")->text);
    fs::path baseDir = fs::path(original).parent_path();

    auto encoder = loadInputEncoder(*data, baseDir, o.run / data->name);
    const DataInfo& info = encoder->info();
    // The run's weights replace any pretrained ones, which need not be here any more.
    Value backbone = backboneCall(c->pipeline, *model);
    if (Value* pretrained = backbone.arg("weights")) *pretrained = Value{};
    auto network = buildNetwork(backbone, *model->field("head"), info, baseDir);
    loadWeights(*network, o.run / train->name / "weights.safetensors");
    network->eval();
    Inputs inputs = encoder->encode(o.inputs);
    torch::NoGradGuard noGrad;
    torch::Tensor out = network->forward(inputs.batch);
    if (o.tta > 0) {
        // fastai's Learner.tta: the augmented copies' mean prediction,
        // blended with the plain one; printed as the probabilities below.
        const uint64_t seed = uint64_t(c->pipeline.seed.value_or(0));
        torch::Tensor sum;
        for (int k = 0; k < o.tta; ++k) {
            std::optional<Inputs> copy = encoder->encodeAugmented(o.inputs, seed, k);
            if (!copy) throw RuntimeError("--tta needs image data: data `" + data->name + "` has no item transforms");
            torch::Tensor p = predictionsOf(network->forward(copy->batch), info.target);
            sum = k == 0 ? p : sum + p;
        }
        out = outputsOf(ttaBlend(sum / double(o.tta), predictionsOf(out, info.target)), info.target);
    }

    for (int64_t i = 0; i < out.size(0); ++i) {
        std::string line = inputs.names[size_t(i)] + ":";
        char cell[128];
        if (info.target == "number") {
            std::snprintf(cell, sizeof cell, " %.6g", out[i].reshape({-1})[0].item<double>());
            line += cell;
        } else if (info.target == "series") {
            // One line per step of the horizon, each target in its own units.
            const int64_t k = int64_t(info.seriesTargets.size());
            torch::Tensor steps = out[i].reshape({-1, k}).to(torch::kDouble);
            for (int64_t h = 0; h < steps.size(0); ++h) {
                std::snprintf(cell, sizeof cell, "\n  +%lld", (long long)(h + 1));
                line += cell;
                for (int64_t c = 0; c < k; ++c) {
                    double value = steps[h][c].item<double>() * info.seriesStd[size_t(c)] + info.seriesMean[size_t(c)];
                    std::snprintf(cell, sizeof cell, "%s %s %.6g", c ? "," : "", info.seriesTargets[size_t(c)].c_str(),
                                  value);
                    line += cell;
                }
            }
        } else {
            bool multi = info.target == "multi_category";
            auto prob = multi ? out[i].sigmoid() : out[i].softmax(0);
            int64_t k = std::min<int64_t>(o.top, prob.size(0));
            auto [values, indices] = prob.topk(k);
            for (int64_t j = 0; j < k; ++j) {
                int64_t index = indices[j].item<int64_t>();
                const std::string& label =
                    size_t(index) < info.classes.size() ? info.classes[size_t(index)] : std::to_string(index);
                std::snprintf(cell, sizeof cell, "%s %s %.3f", j ? "," : "", label.c_str(), values[j].item<double>());
                line += cell;
            }
        }
        std::printf("%s\n", line.c_str());
    }
    return 0;
}

}  // namespace pipelang::runtime
