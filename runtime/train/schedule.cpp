#include "runtime/train/schedule.h"

#include <cmath>

#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

double argOr(const Value& call, const char* name, double fallback) {
    const Value* v = call.arg(name);
    return v && (v->kind == Value::Kind::Int || v->kind == Value::Kind::Float) ? v->number : fallback;
}

// From a to b along half a cosine, as t goes from 0 to 1.
double cosineBetween(double a, double b, double t) {
    return b + (a - b) * (1 + std::cos(M_PI * t)) / 2;
}

// A warmup below 1 is a share of the run; from 1 on it counts epochs.
double warmupShare(double warmup, int64_t epochs) {
    return warmup < 1 ? warmup : warmup / double(epochs);
}

}  // namespace

double oneCycle(double t, double pctStart, double div, double finalDiv) {
    if (t < pctStart) return cosineBetween(1 / div, 1, t / pctStart);
    return cosineBetween(1, 1 / finalDiv, (t - pctStart) / (1 - pctStart));
}

double warmupCosine(double t, double warmup) {
    if (t < warmup) return t / warmup;
    return cosineBetween(1, 0, (t - warmup) / (1 - warmup));
}

double warmupLinear(double t, double warmup) {
    if (t < warmup) return t / warmup;
    return (1 - t) / (1 - warmup);
}

std::vector<Phase> planSchedule(const Value& s, double backboneLr, double headLr) {
    const std::string& name = s.text;
    int64_t epochs = int64_t(argOr(s, "epochs", 1));
    Phase phase{epochs, false, backboneLr, headLr, {}};
    if (name == "constant") {
        phase.shape = [](double, int64_t) { return 1.0; };
    } else if (name == "step") {
        double every = argOr(s, "every", 1), gamma = argOr(s, "gamma", 0.1);
        phase.shape = [=](double, int64_t epoch) { return std::pow(gamma, std::floor(double(epoch) / every)); };
    } else if (name == "linear" || name == "cosine") {
        double warmup = warmupShare(argOr(s, "warmup", 0), epochs);
        bool cosine = name == "cosine";
        phase.shape = [=](double t, int64_t) { return cosine ? warmupCosine(t, warmup) : warmupLinear(t, warmup); };
    } else if (name == "one_cycle") {
        double pct = argOr(s, "pct_start", 0.25), div = argOr(s, "div", 25), finalDiv = argOr(s, "final_div", 1e5);
        phase.shape = [=](double t, int64_t) { return oneCycle(t, pct, div, finalDiv); };
    } else if (name == "fine_tune") {
        // fastai: one cycle with the backbone frozen (pct_start 0.99), then the
        // whole model at slice(base_lr / 2 / lr_mult, base_lr / 2).
        double base = argOr(s, "base_lr", headLr);
        double mult = argOr(s, "lr_mult", 100);
        int64_t frozenEpochs = int64_t(argOr(s, "freeze_epochs", 1));
        std::vector<Phase> phases;
        if (frozenEpochs > 0)
            phases.push_back(
                {frozenEpochs, true, base, base, [](double t, int64_t) { return oneCycle(t, 0.99, 25, 1e5); }});
        phases.push_back(
            {epochs, false, base / 2 / mult, base / 2, [](double t, int64_t) { return oneCycle(t, 0.3, 25, 1e5); }});
        return phases;
    } else {
        throw RuntimeError("schedule `" + name + "` is not supported by this runtime yet");
    }
    return {phase};
}

}  // namespace pipelang::runtime
