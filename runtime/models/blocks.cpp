#include "runtime/models/blocks.h"

#include <cmath>

namespace pipelang::runtime::models {

torch::Tensor activate(const torch::Tensor& x, Activation activation) {
    switch (activation) {
    case Activation::None: return x;
    case Activation::ReLU: return torch::relu(x);
    case Activation::SiLU: return torch::silu(x);
    case Activation::Hardswish: return torch::hardswish(x);
    case Activation::GELU: return torch::gelu(x);
    }
    return x;
}

ConvNormActImpl::ConvNormActImpl(int64_t in, int64_t out, Options o) : activation_(o.activation) {
    conv_ = register_module("0", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, o.kernel)
                                                       .stride(o.stride)
                                                       .padding((o.kernel - 1) / 2)
                                                       .groups(o.groups)
                                                       .bias(false)));
    norm_ = register_module("1", BatchNorm2d(out, o.eps, o.momentum));
}

torch::Tensor ConvNormActImpl::forward(const torch::Tensor& x) {
    return activate(norm_->forward(conv_->forward(x)), activation_);
}

SqueezeExcitationImpl::SqueezeExcitationImpl(int64_t channels, int64_t squeezed, Activation inner, bool hardGate)
    : inner_(inner), hardGate_(hardGate) {
    fc1_ = register_module("fc1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, squeezed, 1)));
    fc2_ = register_module("fc2", torch::nn::Conv2d(torch::nn::Conv2dOptions(squeezed, channels, 1)));
}

torch::Tensor SqueezeExcitationImpl::forward(const torch::Tensor& x) {
    torch::Tensor scale = fc2_->forward(activate(fc1_->forward(x.mean({2, 3}, /*keepdim=*/true)), inner_));
    return x * (hardGate_ ? torch::hardsigmoid(scale) : torch::sigmoid(scale));
}

LayerNorm2dImpl::LayerNorm2dImpl(int64_t channels, double eps) : eps_(eps) {
    weight = register_parameter("weight", torch::ones({channels}));
    bias = register_parameter("bias", torch::zeros({channels}));
}

torch::Tensor LayerNorm2dImpl::forward(const torch::Tensor& x) {
    return torch::layer_norm(x.permute({0, 2, 3, 1}), {weight.size(0)}, weight, bias, eps_).permute({0, 3, 1, 2});
}

torch::Tensor stochasticDepth(const torch::Tensor& x, double p, bool training) {
    if (!training || p == 0.0) return x;
    double survival = 1.0 - p;
    std::vector<int64_t> shape(size_t(x.dim()), 1);
    shape[0] = x.size(0);
    torch::Tensor keep = torch::empty(shape, x.options()).bernoulli_(survival);
    if (survival > 0.0) keep.div_(survival);
    return x * keep;
}

std::shared_ptr<torch::nn::Module> numbered(const std::vector<std::shared_ptr<torch::nn::Module>>& children) {
    auto holder = std::make_shared<torch::nn::Module>();
    for (size_t i = 0; i < children.size(); ++i)
        if (children[i]) holder->register_module(std::to_string(i), children[i]);
    return holder;
}

std::shared_ptr<torch::nn::Module> named(
    const std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>& children) {
    auto holder = std::make_shared<torch::nn::Module>();
    for (const auto& [name, child] : children) holder->register_module(name, child);
    return holder;
}

int64_t makeDivisible(double v, int64_t divisor) {
    int64_t rounded = std::max(divisor, int64_t(v + double(divisor) / 2) / divisor * divisor);
    if (double(rounded) < 0.9 * v) rounded += divisor;
    return rounded;
}

void truncNormal(torch::Tensor& tensor, double mean, double std) {
    torch::NoGradGuard noGrad;
    auto cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
    double a = -2.0, b = 2.0;  // PyTorch's defaults are absolute bounds; at std 0.02 they cut nothing
    double lo = cdf((a - mean) / std), hi = cdf((b - mean) / std);
    tensor.uniform_(2 * lo - 1, 2 * hi - 1).erfinv_().mul_(std * std::sqrt(2.0)).add_(mean).clamp_(a, b);
}

void initConvolutions(torch::nn::Module& module) {
    for (auto& m : module.modules(/*include_self=*/false)) {
        if (auto* c = m->as<torch::nn::Conv2d>()) {
            torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
            if (c->bias.defined()) torch::nn::init::zeros_(c->bias);
        } else if (auto* bn = m->as<BatchNorm2d>()) {
            torch::nn::init::ones_(bn->weight);
            torch::nn::init::zeros_(bn->bias);
        }
    }
}

}  // namespace pipelang::runtime::models
