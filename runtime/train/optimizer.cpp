#include "runtime/train/optimizer.h"

#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

using OptimizerMaker = std::unique_ptr<torch::optim::Optimizer> (*)(const Value& call, Network& network);
using OptimizerMakers = stdlib::Implementations<stdlib::Family::Optimizer, OptimizerMaker>;

// Two parameter groups, backbone then head, each with options of its own so
// each can have its own rate.
template <typename Options>
std::vector<torch::optim::OptimizerParamGroup> groups(const Value& call, Network& network,
                                                      const std::function<Options(double lr)>& options) {
    PeakRates rates = peakRates(call);
    std::vector<torch::optim::OptimizerParamGroup> out;
    out.emplace_back(network.backboneParameters(), std::make_unique<Options>(options(rates.backbone)));
    out.emplace_back(network.headParameters(), std::make_unique<Options>(options(rates.head)));
    return out;
}

std::unique_ptr<torch::optim::Optimizer> makeSgd(const Value& o, Network& network) {
    double momentum = numberArg(o, "momentum"), decay = numberArg(o, "weight_decay");
    bool nesterov = boolArg(o, "nesterov");
    std::function<torch::optim::SGDOptions(double)> options = [=](double lr) {
        return torch::optim::SGDOptions(lr).momentum(momentum).nesterov(nesterov).weight_decay(decay);
    };
    return std::make_unique<torch::optim::SGD>(groups(o, network, options),
                                               torch::optim::SGDOptions(peakRates(o).head));
}
const OptimizerMakers::Add kSgd{"sgd", makeSgd};

// Adam and AdamW share their arguments; AdamW decays the weights apart from the gradient.
template <typename Adam, typename Options>
std::unique_ptr<torch::optim::Optimizer> makeAdam(const Value& o, Network& network) {
    auto betas = numbersArg(&o, "betas");
    if (betas.size() != 2) throw RuntimeError("`" + o.text + "`: `betas` takes two numbers");
    double eps = numberArg(o, "eps"), decay = numberArg(o, "weight_decay");
    std::function<Options(double)> options = [=](double lr) {
        return Options(lr).betas({betas[0], betas[1]}).eps(eps).weight_decay(decay);
    };
    return std::make_unique<Adam>(groups(o, network, options), Options(peakRates(o).head));
}
const OptimizerMakers::Add kAdam{"adam", makeAdam<torch::optim::Adam, torch::optim::AdamOptions>};
const OptimizerMakers::Add kAdamW{"adamw", makeAdam<torch::optim::AdamW, torch::optim::AdamWOptions>};

}  // namespace

PeakRates peakRates(const Value& optimizer) {
    const Value* lr = argOf(&optimizer, "lr");
    if (!lr) throw RuntimeError("internal error: `" + optimizer.text + "` has no learning rate");
    if (lr->kind == Value::Kind::Call && lr->items.size() == 2) return {lr->items[0].number, lr->items[1].number};
    return {lr->number, lr->number};
}

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const Value& o, Network& network) {
    return makerOf<OptimizerMakers>(o)(o, network);
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
