// ConvNeXt tiny and small (Liu et al. 2022) as torchvision 0.14 builds
// them, with its module names: features.0 the 4×4 patchify stem,
// features.1/3/5/7 the stages of CNBlocks (`layer_scale`, `block.0` the 7×7
// depthwise conv, `block.2` the layer norm, `block.3`/`block.5` the
// pointwise layers), features.2/4/6 the downsampling layers. torchvision's
// classifier is LayerNorm2d, Flatten, Linear: the norm is the backbone's
// (`classifier.0`, here `norm`), the linear layer the head's (`classifier.2`).
#include "runtime/error.h"
#include "runtime/models/blocks.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace convnext {
namespace {

class CNBlockImpl : public torch::nn::Module {
public:
    CNBlockImpl(int64_t dim, double layerScale, double dropPath) : dropPath_(dropPath) {
        layerScale_ = register_parameter("layer_scale", torch::full({dim, 1, 1}, layerScale));
        depthwise_ = torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, dim, 7).padding(3).groups(dim));
        norm_ = torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6));
        up_ = torch::nn::Linear(dim, 4 * dim);
        down_ = torch::nn::Linear(4 * dim, dim);
        // block.1 and block.6 are torchvision's permutes, block.4 its GELU.
        register_module("block",
                        named({{"0", depthwise_.ptr()}, {"2", norm_.ptr()}, {"3", up_.ptr()}, {"5", down_.ptr()}}));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        torch::Tensor y = depthwise_->forward(x).permute({0, 2, 3, 1});
        y = down_->forward(torch::gelu(up_->forward(norm_->forward(y)))).permute({0, 3, 1, 2});
        return stochasticDepth(layerScale_ * y, dropPath_, is_training()) + x;
    }

private:
    double dropPath_;
    torch::Tensor layerScale_;
    torch::nn::Conv2d depthwise_{nullptr};
    torch::nn::LayerNorm norm_{nullptr};
    torch::nn::Linear up_{nullptr}, down_{nullptr};
};
TORCH_MODULE(CNBlock);

class ConvNeXt : public Backbone {
public:
    ConvNeXt(const std::vector<int64_t>& depths, int64_t inChannels, double stochasticDepth, double layerScale)
        : inChannels_(inChannels) {
        const int64_t widths[] = {96, 192, 384, 768};
        std::vector<std::shared_ptr<torch::nn::Module>> features;
        auto stemConv = torch::nn::Conv2d(torch::nn::Conv2dOptions(inChannels, widths[0], 4).stride(4));
        auto stemNorm = LayerNorm2d(widths[0]);
        features.push_back(numbered({stemConv.ptr(), stemNorm.ptr()}));
        steps_.push_back(
            [stemConv, stemNorm](const torch::Tensor& x) mutable { return stemNorm->forward(stemConv->forward(x)); });
        int64_t total = 0;
        for (int64_t d : depths) total += d;
        int64_t id = 0;
        for (size_t s = 0; s < depths.size(); ++s) {
            std::vector<std::shared_ptr<torch::nn::Module>> blocks;
            for (int64_t b = 0; b < depths[s]; ++b, ++id) {
                auto block = CNBlock(widths[s], layerScale, stochasticDepth * double(id) / (double(total) - 1.0));
                blocks.push_back(block.ptr());
                steps_.push_back([block](const torch::Tensor& x) mutable { return block->forward(x); });
            }
            features.push_back(numbered(blocks));
            if (s + 1 < depths.size()) {
                auto norm = LayerNorm2d(widths[s]);
                auto down = torch::nn::Conv2d(torch::nn::Conv2dOptions(widths[s], widths[s + 1], 2).stride(2));
                features.push_back(numbered({norm.ptr(), down.ptr()}));
                steps_.push_back(
                    [norm, down](const torch::Tensor& x) mutable { return down->forward(norm->forward(x)); });
            }
        }
        register_module("features", numbered(features));
        norm_ = register_module("norm", LayerNorm2d(widths[3]));
        features_ = widths[3];
        for (auto& m : modules(/*include_self=*/false)) {
            if (auto* c = m->as<torch::nn::Conv2d>()) {
                truncNormal(c->weight, 0.0, 0.02);
                torch::nn::init::zeros_(c->bias);
            } else if (auto* l = m->as<torch::nn::Linear>()) {
                truncNormal(l->weight, 0.0, 0.02);
                torch::nn::init::zeros_(l->bias);
            }
        }
    }

    torch::Tensor forward(const Batch& batch) override {
        const torch::Tensor& x = batch.x;
        expectImages(batch, "convnext", inChannels_);
        if (x.size(2) < 32 || x.size(3) < 32)
            throw RuntimeError("convnext downsamples 32 times, so it needs images of at least 32×32 pixels, but got " +
                               std::to_string(x.size(2)) + "×" + std::to_string(x.size(3)) + "; resize them larger");
        torch::Tensor y = x;
        for (auto& step : steps_) y = step(y);
        return norm_->forward(y.mean({2, 3}, /*keepdim=*/true)).flatten(1);
    }
    int64_t features() const override { return features_; }
    bool spatial() const override { return false; }
    bool channelsLast() const override { return true; }
    std::string headPrefix() const override { return ""; }
    std::string firstConv() const override { return "features.0.0.weight"; }
    std::string builtinName() const override { return "convnext"; }
    std::vector<std::pair<std::string, std::string>> stateNames() const override {
        return {{"norm.", "classifier.0."}, {"fc.", "classifier.2."}};
    }

private:
    int64_t inChannels_;
    int64_t features_ = 0;
    std::vector<std::function<torch::Tensor(const torch::Tensor&)>> steps_;
    LayerNorm2d norm_{nullptr};
};

}  // namespace
}  // namespace convnext

static std::shared_ptr<Backbone> makeConvnext(const Value& call, const DataInfo& info) {
    std::string variant = stringArg(call, "variant");
    std::vector<int64_t> depths;
    double drop = 0;
    if (variant == "tiny") {
        depths = {3, 3, 9, 3};
        drop = 0.1;
    } else if (variant == "small") {
        depths = {3, 3, 27, 3};
        drop = 0.4;
    } else {
        throw RuntimeError("convnext has no variant \"" + variant + "\"; it has tiny and small");
    }
    if (argOf(&call, "stochastic_depth")) drop = numberArg(call, "stochastic_depth");
    return std::make_shared<convnext::ConvNeXt>(depths, imageChannels(call, info, "convnext"), drop,
                                                numberArg(call, "layer_scale"));
}
const BackboneMakers::Add kConvnext{"convnext", makeConvnext};

}  // namespace pipelang::runtime::models
