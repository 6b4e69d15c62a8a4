#include "runtime/look/lr_find.h"

#include "runtime/device.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "record/pictures.h"
#include "runtime/error.h"
#include "runtime/execute.h"
#include "runtime/look/experiment.h"
#include "runtime/models/network.h"
#include "runtime/train/loss.h"
#include "runtime/train/optimizer.h"
#include "runtime/train/schedule.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

namespace {

constexpr double kBeta = 0.98;     // fastai's AvgSmoothLoss
constexpr double kDiverged = 4.0;  // stop once smoothed > 4 × best
constexpr size_t kSkipEnd = 5;     // points left off the end, as fastai's plot and suggestions

std::string scientific(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2e", v);
    return buffer;
}

}  // namespace

size_t valleyIndex(const std::vector<double>& losses) {
    const int64_t n = int64_t(losses.size());
    if (n == 0) return 0;
    // lds[i]: the longest strictly decreasing subsequence ending at i. As in
    // fastai, the valley starts lds places before its end (one before its
    // first point, -1 at the very start).
    std::vector<int64_t> lds(size_t(n), 1);
    int64_t end = 0, start = 0;
    for (int64_t i = 1; i < n; ++i) {
        for (int64_t j = 0; j < i; ++j) {
            if (losses[size_t(i)] < losses[size_t(j)] && lds[size_t(i)] < lds[size_t(j)] + 1)
                lds[size_t(i)] = lds[size_t(j)] + 1;
            if (lds[size_t(end)] < lds[size_t(i)]) {
                end = i;
                start = end - lds[size_t(end)];
            }
        }
    }
    // Two thirds down the valley: start + int(span / 3) + int(span / 6).
    double sections = double(end - start) / 3.0;
    int64_t index = start + int64_t(sections) + int64_t(sections / 2);
    // Python would read index -1 as the last point; the valley's start is meant.
    return size_t(std::clamp<int64_t>(index, 0, n - 1));
}

std::vector<LrSuggestion> suggestRates(const std::vector<LrStep>& steps, int iters) {
    size_t first = size_t(std::max(iters, 0) / 10);
    if (steps.size() < first + kSkipEnd + 2) return {};
    std::vector<double> lrs, losses;
    for (size_t i = first; i + kSkipEnd < steps.size(); ++i) {
        if (!std::isfinite(steps[i].smoothed)) break;  // fastai cuts at the first nan
        lrs.push_back(steps[i].lr);
        losses.push_back(steps[i].smoothed);
    }
    if (lrs.size() < 2) return {};
    auto nearest = [&](double lr) {
        size_t best = 0;
        for (size_t i = 1; i < lrs.size(); ++i)
            if (std::fabs(lrs[i] - lr) < std::fabs(lrs[best] - lr)) best = i;
        return losses[best];
    };
    std::vector<LrSuggestion> out;
    size_t valley = valleyIndex(losses);
    out.push_back({"valley", lrs[valley], losses[valley]});
    size_t steepest = 0;
    double slope = INFINITY;
    for (size_t i = 0; i + 1 < lrs.size(); ++i) {
        double g = (losses[i + 1] - losses[i]) / (std::log(lrs[i + 1]) - std::log(lrs[i]));
        if (g < slope) slope = g, steepest = i;
    }
    out.push_back({"steep", lrs[steepest], losses[steepest]});
    size_t lowest = size_t(std::min_element(losses.begin(), losses.end()) - losses.begin());
    double tenth = lrs[lowest] / 10;
    out.push_back({"minimum/10", tenth, nearest(tenth)});
    return out;
}

int lrFind(const LrFindOptions& o) {
    if (!(o.start > 0) || !(o.end > o.start))
        throw RuntimeError("the range test needs 0 < --start < --end (got " + scientific(o.start) + " and " +
                           scientific(o.end) + ")");
    if (o.iters < 6) throw RuntimeError("--iters must be at least 6 (fastai's minimum); 100 is usual");
    Experiment e = openExperiment(o.file, o.overrides, o.stage);
    if (!e.train) throw RuntimeError("`" + o.file + "` has no train stage: the range test trains its model");
    const Section& train = *e.train;
    auto data = prepareLooked(e, *e.data);
    const DataInfo& info = data->info();
    torch::Device device = chooseDevice(o.device.empty() ? train.field("device")->text : o.device);
    torch::manual_seed(e.seed);
    auto network = buildNetwork(backboneCall(e.pipeline(), *e.model), *e.model->field("head"), info, e.baseDir);
    if (const Value* ref = e.model->field("backbone"); ref->kind == Value::Kind::Ref)
        std::fprintf(stderr,
                     "note: the backbone `%s` is trained by another stage; the range test starts it from fresh "
                     "weights\n",
                     ref->text.c_str());
    network->to(device);
    // As the schedule's first phase trains: a fine_tune begins with the
    // backbone frozen, as fastai's learner is when lr_find runs on it.
    const Value& optimizerValue = *train.field("optimizer");
    auto phases = planSchedule(*train.field("schedule"), peakRates(optimizerValue));
    network->freezeBackbone(!phases.empty() && phases.front().frozen);
    auto optimizer = makeOptimizer(optimizerValue, *network);
    LossFn loss = makeLoss(*train.field("loss"));
    const Value* clip = train.field("clip");

    auto loader = data->loader(Split::Train, sectionInt(*e.data, "batch_size"), sectionInt(*e.data, "workers"));
    std::vector<LrStep> steps;
    double average = 0, best = INFINITY;
    std::string stopped = "after " + std::to_string(o.iters) + " batches";
    network->train();
    int64_t epoch = 0;
    loader->start(epoch);
    for (int i = 0; i < o.iters; ++i) {
        auto batch = loader->next();
        if (!batch) {  // more batches than an epoch holds: the next epoch
            loader->start(++epoch);
            batch = loader->next();
            if (!batch) throw RuntimeError("data `" + e.data->name + "` has no training batches");
        }
        double lr = o.start * std::pow(o.end / o.start, double(i) / o.iters);
        setRates(*optimizer, lr, lr);
        Batch b = onDevice(std::move(*batch), device);
        clearGradients(*optimizer);
        torch::Tensor value = mixedLoss(loss, network->forward(b), b.y, b.yMix, b.lam);
        double v = value.item<double>();
        if (!std::isfinite(v)) {
            stopped = "at batch " + std::to_string(i + 1) + ": the loss became " + (std::isnan(v) ? "nan" : "inf");
            break;
        }
        value.backward();
        if (clip && !clip->isNone()) torch::nn::utils::clip_grad_norm_(network->parameters(), clip->number);
        optimizer->step();
        average = kBeta * average + (1 - kBeta) * v;
        double smoothed = average / (1 - std::pow(kBeta, i + 1));
        steps.push_back({lr, v, smoothed});
        best = std::min(best, smoothed);
        if (smoothed > kDiverged * best) {
            stopped = "at batch " + std::to_string(i + 1) + ": the smoothed loss passed 4 × its minimum";
            break;
        }
    }

    fs::path out = o.out.empty() ? fs::path("lr-find-" + fs::path(o.file).stem().string()) : o.out;
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) throw RuntimeError("cannot create `" + out.string() + "`: " + ec.message());
    {
        std::ofstream csv(out / "lr_find.csv");
        csv << "step,lr,loss,smoothed_loss\n";
        char row[128];
        for (size_t i = 0; i < steps.size(); ++i) {
            std::snprintf(row, sizeof row, "%zu,%.9g,%.9g,%.9g\n", i, steps[i].lr, steps[i].loss, steps[i].smoothed);
            csv << row;
        }
        if (!csv) throw RuntimeError("cannot write `" + (out / "lr_find.csv").string() + "`");
    }
    auto suggestions = suggestRates(steps, o.iters);
    std::printf("lr-find %s: %zu steps from %s, stopped %s\n", train.name.c_str(), steps.size(),
                scientific(o.start).c_str(), stopped.c_str());
    if (suggestions.empty()) {
        std::printf("too few steps to suggest a rate; start lower (--start) or raise --iters\n");
    } else {
        for (const auto& s : suggestions)
            std::printf("  %-11s %s%s\n", s.name.c_str(), scientific(s.lr).c_str(),
                        s.name == "valley" ? "  (suggested)" : "");
        std::printf("try: --set %s.optimizer.lr=%s\n", train.name.c_str(), scientific(suggestions.front().lr).c_str());
    }
    std::vector<std::pair<double, double>> curve;
    for (size_t i = 0; i + (steps.size() > kSkipEnd ? kSkipEnd : 0) < steps.size(); ++i)
        curve.push_back({steps[i].lr, steps[i].smoothed});
    std::vector<record::LrMark> marks;
    for (const auto& s : suggestions) marks.push_back({s.name, s.lr, s.loss});
    std::printf("%s\n", (out / "lr_find.csv").c_str());
    if (!curve.empty())
        for (const auto& picture :
             record::drawLrFind(curve, marks, "lr-find " + train.name + " (" + o.file + ")", out / "lr_find"))
            std::printf("%s\n", picture.c_str());
    return 0;
}

}  // namespace pipelang::runtime
