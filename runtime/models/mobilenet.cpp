// MobileNetV3 small and large (Howard et al. 2019) as torchvision 0.14
// builds them, with its module names: features.0 the stem, then one
// inverted-residual block per row of the paper's tables (`block`), then the
// last 1×1 conv. torchvision's classifier is Linear, Hardswish, Dropout,
// Linear: the first is the backbone's (`classifier.0`, here `pre_logits`),
// the last the head's (`classifier.3`).
#include "runtime/error.h"
#include "runtime/models/blocks.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace mobilenet {
namespace {

// in, kernel, expanded, out, squeeze-excitation, hard swish, stride
struct Row {
    int64_t in, kernel, expanded, out;
    bool se, hardswish;
    int64_t stride;
};
const std::vector<Row> kLarge = {
    {16, 3, 16, 16, false, false, 1},  {16, 3, 64, 24, false, false, 2},  {24, 3, 72, 24, false, false, 1},
    {24, 5, 72, 40, true, false, 2},   {40, 5, 120, 40, true, false, 1},  {40, 5, 120, 40, true, false, 1},
    {40, 3, 240, 80, false, true, 2},  {80, 3, 200, 80, false, true, 1},  {80, 3, 184, 80, false, true, 1},
    {80, 3, 184, 80, false, true, 1},  {80, 3, 480, 112, true, true, 1},  {112, 3, 672, 112, true, true, 1},
    {112, 5, 672, 160, true, true, 2}, {160, 5, 960, 160, true, true, 1}, {160, 5, 960, 160, true, true, 1}};
const std::vector<Row> kSmall = {
    {16, 3, 16, 16, true, false, 2}, {16, 3, 72, 24, false, false, 2}, {24, 3, 88, 24, false, false, 1},
    {24, 5, 96, 40, true, true, 2},  {40, 5, 240, 40, true, true, 1},  {40, 5, 240, 40, true, true, 1},
    {40, 5, 120, 48, true, true, 1}, {48, 5, 144, 48, true, true, 1},  {48, 5, 288, 96, true, true, 2},
    {96, 5, 576, 96, true, true, 1}, {96, 5, 576, 96, true, true, 1}};

// torchvision's MobileNetV3 normalises with eps 0.001 and momentum 0.01.
ConvNormActImpl::Options conv(int64_t kernel, int64_t stride, int64_t groups, Activation activation) {
    return {
        .kernel = kernel, .stride = stride, .groups = groups, .activation = activation, .eps = 1e-3, .momentum = 0.01};
}

class InvertedResidualImpl : public torch::nn::Module {
public:
    explicit InvertedResidualImpl(const Row& r) : residual_(r.stride == 1 && r.in == r.out) {
        Activation act = r.hardswish ? Activation::Hardswish : Activation::ReLU;
        std::vector<std::shared_ptr<torch::nn::Module>> layers;
        if (r.expanded != r.in) layers.push_back(expand_ = ConvNormAct(r.in, r.expanded, conv(1, 1, 1, act)).ptr());
        layers.push_back(depthwise_ =
                             ConvNormAct(r.expanded, r.expanded, conv(r.kernel, r.stride, r.expanded, act)).ptr());
        if (r.se)
            layers.push_back(
                se_ =
                    SqueezeExcitation(r.expanded, makeDivisible(double(r.expanded / 4)), Activation::ReLU, true).ptr());
        layers.push_back(project_ = ConvNormAct(r.expanded, r.out, conv(1, 1, 1, Activation::None)).ptr());
        register_module("block", numbered(layers));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        torch::Tensor y = depthwise_->forward(expand_ ? expand_->forward(x) : x);
        if (se_) y = se_->forward(y);
        y = project_->forward(y);
        return residual_ ? y + x : y;
    }

private:
    bool residual_;
    std::shared_ptr<ConvNormActImpl> expand_, depthwise_, project_;
    std::shared_ptr<SqueezeExcitationImpl> se_;
};
TORCH_MODULE(InvertedResidual);

class MobileNetV3 : public Backbone {
public:
    MobileNetV3(bool large, int64_t inChannels, double dropout) : inChannels_(inChannels) {
        const auto& rows = large ? kLarge : kSmall;
        std::vector<std::shared_ptr<torch::nn::Module>> features;
        auto stem = ConvNormAct(inChannels, rows.front().in, conv(3, 2, 1, Activation::Hardswish));
        features.push_back(stem.ptr());
        steps_.push_back([stem](const torch::Tensor& x) mutable { return stem->forward(x); });
        for (const auto& r : rows) {
            auto block = InvertedResidual(r);
            features.push_back(block.ptr());
            steps_.push_back([block](const torch::Tensor& x) mutable { return block->forward(x); });
        }
        int64_t lastConv = 6 * rows.back().out;
        auto last = ConvNormAct(rows.back().out, lastConv, conv(1, 1, 1, Activation::Hardswish));
        features.push_back(last.ptr());
        steps_.push_back([last](const torch::Tensor& x) mutable { return last->forward(x); });
        register_module("features", numbered(features));
        features_ = large ? 1280 : 1024;
        preLogits_ = register_module("pre_logits", torch::nn::Linear(lastConv, features_));
        dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
        initConvolutions(*this);
        torch::nn::init::normal_(preLogits_->weight, 0, 0.01);
        torch::nn::init::zeros_(preLogits_->bias);
    }

    torch::Tensor forward(const Batch& batch) override {
        const torch::Tensor& x = batch.x;
        expectImages(batch, "mobilenet", inChannels_);
        torch::Tensor y = x;
        for (auto& step : steps_) y = step(y);
        return dropout_->forward(torch::hardswish(preLogits_->forward(y.mean({2, 3}))));
    }
    int64_t features() const override { return features_; }
    bool spatial() const override { return false; }
    bool channelsLast() const override { return true; }
    std::string headPrefix() const override { return ""; }
    std::string firstConv() const override { return "features.0.0.weight"; }
    std::string builtinName() const override { return "mobilenet"; }
    std::vector<std::pair<std::string, std::string>> stateNames() const override {
        return {{"pre_logits.", "classifier.0."}, {"fc.", "classifier.3."}};
    }

private:
    int64_t inChannels_;
    int64_t features_ = 0;
    std::vector<std::function<torch::Tensor(const torch::Tensor&)>> steps_;
    torch::nn::Linear preLogits_{nullptr};
    torch::nn::Dropout dropout_{nullptr};
};

}  // namespace
}  // namespace mobilenet

static std::shared_ptr<Backbone> makeMobilenet(const Value& call, const DataInfo& info) {
    std::string variant = stringArg(call, "variant");
    if (variant != "v3_small" && variant != "v3_large")
        throw RuntimeError("mobilenet has no variant \"" + variant + "\"; it has v3_small and v3_large");
    return std::make_shared<mobilenet::MobileNetV3>(variant == "v3_large", imageChannels(call, info, "mobilenet"),
                                                    numberArg(call, "dropout"));
}
const BackboneMakers::Add kMobilenet{"mobilenet", makeMobilenet};

}  // namespace pipelang::runtime::models
