// EfficientNet b0–b3 (Tan & Le 2019) as torchvision 0.14 builds it, with its
// module names: features.0 the stem, features.1–7 the stages of MBConv
// blocks (`block`, `stochastic_depth`), features.8 the last 1×1 conv; the
// head's linear layer is `classifier.1`, after the dropout `classifier.0`.
#include <cmath>

#include "runtime/error.h"
#include "runtime/models/blocks.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace efficientnet {
namespace {

// One row of the paper's Table 1, before scaling.
struct Stage {
    int64_t expand, kernel, stride, in, out, layers;
};
constexpr Stage kStages[] = {{1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},   {6, 5, 2, 24, 40, 2},  {6, 3, 2, 40, 80, 3},
                             {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1}};

struct Variant {
    const char* name;
    double width, depth, dropout;
};
constexpr Variant kVariants[] = {
    {"b0", 1.0, 1.0, 0.2}, {"b1", 1.0, 1.1, 0.2}, {"b2", 1.1, 1.2, 0.3}, {"b3", 1.2, 1.4, 0.3}};

const Variant& variantNamed(const std::string& name) {
    for (const auto& v : kVariants)
        if (name == v.name) return v;
    throw RuntimeError("efficientnet has no variant \"" + name + "\"; it has b0, b1, b2 and b3");
}

class MBConvImpl : public torch::nn::Module {
public:
    MBConvImpl(int64_t in, int64_t out, int64_t expand, int64_t kernel, int64_t stride, double dropPath)
        : residual_(stride == 1 && in == out), dropPath_(dropPath) {
        int64_t expanded = makeDivisible(double(in * expand));
        std::vector<std::shared_ptr<torch::nn::Module>> layers;
        if (expanded != in)
            layers.push_back(
                expand_ =
                    ConvNormAct(in, expanded, ConvNormActImpl::Options{.kernel = 1, .activation = Activation::SiLU})
                        .ptr());
        layers.push_back(
            depthwise_ =
                ConvNormAct(expanded, expanded,
                            ConvNormActImpl::Options{
                                .kernel = kernel, .stride = stride, .groups = expanded, .activation = Activation::SiLU})
                    .ptr());
        layers.push_back(se_ =
                             SqueezeExcitation(expanded, std::max<int64_t>(1, in / 4), Activation::SiLU, false).ptr());
        layers.push_back(
            project_ = ConvNormAct(expanded, out, ConvNormActImpl::Options{.kernel = 1, .activation = Activation::None})
                           .ptr());
        register_module("block", numbered(layers));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        torch::Tensor y = expand_ ? expand_->forward(x) : x;
        y = project_->forward(se_->forward(depthwise_->forward(y)));
        if (!residual_) return y;
        return stochasticDepth(y, dropPath_, is_training()) + x;
    }

private:
    bool residual_;
    double dropPath_;
    std::shared_ptr<ConvNormActImpl> expand_, depthwise_, project_;
    std::shared_ptr<SqueezeExcitationImpl> se_;
};
TORCH_MODULE(MBConv);

class EfficientNet : public Backbone {
public:
    EfficientNet(const Variant& v, int64_t inChannels, double dropout, double stochasticDepth)
        : inChannels_(inChannels) {
        auto channels = [&](int64_t c) { return makeDivisible(double(c) * v.width); };
        auto depth = [&](int64_t n) { return int64_t(std::ceil(double(n) * v.depth)); };
        std::vector<std::shared_ptr<torch::nn::Module>> features;
        auto stem = ConvNormAct(inChannels, channels(kStages[0].in),
                                ConvNormActImpl::Options{.kernel = 3, .stride = 2, .activation = Activation::SiLU});
        features.push_back(stem.ptr());
        steps_.push_back([stem](const torch::Tensor& x) mutable { return stem->forward(x); });
        int64_t total = 0;
        for (const auto& s : kStages) total += depth(s.layers);
        int64_t id = 0;
        for (const auto& s : kStages) {
            std::vector<std::shared_ptr<torch::nn::Module>> blocks;
            for (int64_t b = 0; b < depth(s.layers); ++b, ++id) {
                int64_t in = b == 0 ? channels(s.in) : channels(s.out);
                auto block = MBConv(in, channels(s.out), s.expand, s.kernel, b == 0 ? s.stride : 1,
                                    stochasticDepth * double(id) / double(total));
                blocks.push_back(block.ptr());
                steps_.push_back([block](const torch::Tensor& x) mutable { return block->forward(x); });
            }
            features.push_back(numbered(blocks));
        }
        features_ = 4 * channels(kStages[6].out);
        auto last = ConvNormAct(channels(kStages[6].out), features_,
                                ConvNormActImpl::Options{.kernel = 1, .activation = Activation::SiLU});
        features.push_back(last.ptr());
        steps_.push_back([last](const torch::Tensor& x) mutable { return last->forward(x); });
        register_module("features", numbered(features));
        dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
        initConvolutions(*this);
    }

    torch::Tensor forward(const Batch& batch) override {
        const torch::Tensor& x = batch.x;
        expectImages(batch, "efficientnet", inChannels_);
        torch::Tensor y = x;
        for (auto& step : steps_) y = step(y);
        return dropout_->forward(y.mean({2, 3}));
    }
    int64_t features() const override { return features_; }
    bool spatial() const override { return false; }
    bool channelsLast() const override { return true; }
    std::string headPrefix() const override { return ""; }
    std::string firstConv() const override { return "features.0.0.weight"; }
    std::string builtinName() const override { return "efficientnet"; }
    std::vector<std::pair<std::string, std::string>> stateNames() const override { return {{"fc.", "classifier.1."}}; }

private:
    int64_t inChannels_;
    int64_t features_ = 0;
    std::vector<std::function<torch::Tensor(const torch::Tensor&)>> steps_;
    torch::nn::Dropout dropout_{nullptr};
};

}  // namespace
}  // namespace efficientnet

static std::shared_ptr<Backbone> makeEfficientnet(const Value& call, const DataInfo& info) {
    const auto& v = efficientnet::variantNamed(stringArg(call, "variant"));
    const Value* dropout = argOf(&call, "dropout");
    const Value* drop = argOf(&call, "stochastic_depth");
    return std::make_shared<efficientnet::EfficientNet>(v, imageChannels(call, info, "efficientnet"),
                                                        dropout ? numberArg(call, "dropout") : v.dropout,
                                                        drop ? numberArg(call, "stochastic_depth") : 0.2);
}
const BackboneMakers::Add kEfficientnet{"efficientnet", makeEfficientnet};

}  // namespace pipelang::runtime::models
