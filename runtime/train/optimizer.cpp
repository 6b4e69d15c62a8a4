#include "runtime/train/optimizer.h"

#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

using OptimizerMaker = std::unique_ptr<torch::optim::Optimizer> (*)(const Value& call, Network& network);
using OptimizerMakers = stdlib::Implementations<stdlib::Family::Optimizer, OptimizerMaker>;

// A parameter group per layer group, each with options of its own so each
// can have its own rate.
template <typename Options>
std::vector<torch::optim::OptimizerParamGroup> groups(const Value& call, Network& network,
                                                      const std::function<Options(double lr)>& options) {
    RateRange peak = peakRates(call);
    std::vector<ParameterGroup> layers = network.layerGroups();
    std::vector<double> rates = evenMults(peak.lo, peak.hi, layers.size());
    std::vector<torch::optim::OptimizerParamGroup> out;
    for (size_t i = 0; i < layers.size(); ++i)
        out.emplace_back(std::move(layers[i].parameters), std::make_unique<Options>(options(rates[i])));
    return out;
}

std::unique_ptr<torch::optim::Optimizer> makeSgd(const Value& o, Network& network) {
    double momentum = numberArg(o, "momentum"), decay = numberArg(o, "weight_decay");
    bool nesterov = boolArg(o, "nesterov");
    std::function<torch::optim::SGDOptions(double)> options = [=](double lr) {
        return torch::optim::SGDOptions(lr).momentum(momentum).nesterov(nesterov).weight_decay(decay);
    };
    return std::make_unique<torch::optim::SGD>(groups(o, network, options), torch::optim::SGDOptions(peakRates(o).hi));
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
    return std::make_unique<Adam>(groups(o, network, options), Options(peakRates(o).hi));
}
const OptimizerMakers::Add kAdam{"adam", makeAdam<torch::optim::Adam, torch::optim::AdamOptions>};
const OptimizerMakers::Add kAdamW{"adamw", makeAdam<torch::optim::AdamW, torch::optim::AdamWOptions>};

}  // namespace

RateRange peakRates(const Value& optimizer) {
    if (!argOf(&optimizer, "lr")) throw RuntimeError("internal error: `" + optimizer.text + "` has no learning rate");
    return optimizerRates(optimizer);
}

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const Value& o, Network& network) {
    return makerOf<OptimizerMakers>(o)(o, network);
}

void setRates(torch::optim::Optimizer& optimizer, double lo, double hi) {
    auto& groups = optimizer.param_groups();
    std::vector<double> rates = evenMults(lo, hi, groups.size());
    for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(rates[i]);
}

void clearGradients(torch::optim::Optimizer& optimizer) {
    for (auto& group : optimizer.param_groups())
        for (auto& p : group.params()) p.mutable_grad().reset();
}

}  // namespace pipelang::runtime
