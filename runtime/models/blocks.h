// The pieces torchvision's newer families are built from, under the names
// torchvision gives them, so their state dicts move between the two by name:
// Conv2dNormActivation (`0` the convolution, `1` the norm), SqueezeExcitation
// (`fc1`, `fc2`), LayerNorm2d, stochastic depth. For the files of
// runtime/models only.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "runtime/models/batch_norm.h"

namespace pipelang::runtime::models {

enum class Activation { None, ReLU, SiLU, Hardswish, GELU };

torch::Tensor activate(const torch::Tensor& x, Activation activation);

// Conv2dNormActivation with a batch norm: a convolution without bias, `same`
// padding ((kernel - 1) / 2), then the norm and the activation.
class ConvNormActImpl : public torch::nn::Module {
public:
    struct Options {
        int64_t kernel = 3, stride = 1, groups = 1;
        Activation activation = Activation::ReLU;
        double eps = 1e-5, momentum = 0.1;
    };
    ConvNormActImpl(int64_t in, int64_t out, Options options);
    torch::Tensor forward(const torch::Tensor& x);

private:
    torch::nn::Conv2d conv_{nullptr};
    BatchNorm2d norm_{nullptr};
    Activation activation_;
};
TORCH_MODULE(ConvNormAct);

// Squeeze-and-excitation (Hu et al. 2018): channel weights from the
// average of each map, through two 1×1 convolutions; the gate is a sigmoid
// (EfficientNet) or a hard sigmoid (MobileNetV3).
class SqueezeExcitationImpl : public torch::nn::Module {
public:
    SqueezeExcitationImpl(int64_t channels, int64_t squeezed, Activation inner, bool hardGate);
    torch::Tensor forward(const torch::Tensor& x);

private:
    torch::nn::Conv2d fc1_{nullptr}, fc2_{nullptr};
    Activation inner_;
    bool hardGate_;
};
TORCH_MODULE(SqueezeExcitation);

// A layer norm over the channels of {N, C, H, W} maps (ConvNeXt's LayerNorm2d).
class LayerNorm2dImpl : public torch::nn::Module {
public:
    explicit LayerNorm2dImpl(int64_t channels, double eps = 1e-6);
    torch::Tensor forward(const torch::Tensor& x);

    torch::Tensor weight, bias;

private:
    double eps_;
};
TORCH_MODULE(LayerNorm2d);

// Stochastic depth (Huang et al. 2016) in torchvision's "row" mode: in
// training, each item's residual branch is dropped with probability `p` and
// the kept ones scaled by 1 / (1 - p); the identity otherwise.
torch::Tensor stochasticDepth(const torch::Tensor& x, double p, bool training);

// A module holding `children` under the names nn.Sequential gives them
// ("0", "1", ...), for blocks whose forward calls them by their types.
std::shared_ptr<torch::nn::Module> numbered(const std::vector<std::shared_ptr<torch::nn::Module>>& children);
// The same, with the names given (ViT's `encoder_layer_0`, ...).
std::shared_ptr<torch::nn::Module> named(
    const std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>& children);

// torchvision's _make_divisible: `v` rounded to a multiple of `divisor`,
// never below 90% of it.
int64_t makeDivisible(double v, int64_t divisor = 8);

// nn.init.trunc_normal_ (LibTorch 1.13's C++ has none): normal values with
// mean 0 and deviation `std`, redrawn outside ±2, by PyTorch's method
// (inverse CDF of a uniform draw between the bounds' CDFs).
void truncNormal(torch::Tensor& tensor, double mean, double std);

// torchvision's initialisation of convolutional families: Kaiming-normal
// convolutions (fan out), zero biases, batch norms at one and zero.
void initConvolutions(torch::nn::Module& module);

}  // namespace pipelang::runtime::models
