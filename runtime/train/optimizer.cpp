#include "runtime/train/optimizer.h"

#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

double number(const Value& call, const char* name, double fallback) {
    const Value* v = call.arg(name);
    return v && (v->kind == Value::Kind::Int || v->kind == Value::Kind::Float) ? v->number : fallback;
}

std::pair<double, double> betas(const Value& call) {
    const Value* v = call.arg("betas");
    if (!v || v->kind != Value::Kind::List || v->items.size() != 2) return {0.9, 0.999};
    return {v->items[0].number, v->items[1].number};
}

}  // namespace

PeakRates peakRates(const Value& optimizer) {
    const Value* lr = optimizer.arg("lr");
    if (lr && lr->kind == Value::Kind::Call && lr->items.size() == 2) return {lr->items[0].number, lr->items[1].number};
    double rate = lr ? lr->number : 1e-3;
    return {rate, rate};
}

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const Value& o, Network& network) {
    PeakRates rates = peakRates(o);
    double decay = number(o, "weight_decay", 0);
    const std::string& name = o.text;
    // Every group carries its own options, so each can have its own rate.
    auto groups = [&](auto makeOptions) {
        std::vector<torch::optim::OptimizerParamGroup> out;
        out.emplace_back(network.backboneParameters(), makeOptions(rates.backbone));
        out.emplace_back(network.headParameters(), makeOptions(rates.head));
        return out;
    };
    if (name == "sgd") {
        double momentum = number(o, "momentum", 0.9);
        const Value* nesterov = o.arg("nesterov");
        bool useNesterov = nesterov && nesterov->boolean;
        auto make = [&](double lr) {
            return std::make_unique<torch::optim::SGDOptions>(
                torch::optim::SGDOptions(lr).momentum(momentum).nesterov(useNesterov).weight_decay(decay));
        };
        return std::make_unique<torch::optim::SGD>(groups(make), torch::optim::SGDOptions(rates.head));
    }
    auto [b1, b2] = betas(o);
    double eps = number(o, "eps", 1e-8);
    if (name == "adam") {
        auto make = [&](double lr) {
            return std::make_unique<torch::optim::AdamOptions>(
                torch::optim::AdamOptions(lr).betas({b1, b2}).eps(eps).weight_decay(decay));
        };
        return std::make_unique<torch::optim::Adam>(groups(make), torch::optim::AdamOptions(rates.head));
    }
    if (name == "adamw") {
        auto make = [&](double lr) {
            return std::make_unique<torch::optim::AdamWOptions>(
                torch::optim::AdamWOptions(lr).betas({b1, b2}).eps(eps).weight_decay(decay));
        };
        return std::make_unique<torch::optim::AdamW>(groups(make), torch::optim::AdamWOptions(rates.head));
    }
    throw RuntimeError("optimizer `" + name + "` is not supported by this runtime yet");
}

void setRates(torch::optim::Optimizer& optimizer, double backbone, double head) {
    auto& groups = optimizer.param_groups();
    for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(i == 0 ? backbone : head);
}

void clearGradients(torch::optim::Optimizer& optimizer) {
    for (auto& group : optimizer.param_groups())
        for (auto& p : group.params()) p.mutable_grad().reset();
}

}  // namespace pipelang::runtime
