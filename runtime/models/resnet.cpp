// ResNet (He et al. 2015) exactly as torchvision builds it (v1.5: the stride of
// a bottleneck on its 3×3 conv), with the same module names, so a state dict
// moves between the two by name: conv1, bn1, layer1.0.conv1, ...,
// layer2.0.downsample.0, ...; the head adds `fc`.
#include <cstdio>

#include "runtime/error.h"
#include "runtime/models/batch_norm.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace {

namespace nn = torch::nn;

nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
    return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

nn::Sequential downsample(int64_t in, int64_t out, int64_t stride) {
    return nn::Sequential(conv(in, out, 1, stride), BatchNorm2d(out));
}

class BasicBlockImpl : public nn::Module {
public:
    static constexpr int64_t kExpansion = 1;
    BasicBlockImpl(int64_t in, int64_t planes, int64_t stride) {
        conv1_ = register_module("conv1", conv(in, planes, 3, stride));
        bn1_ = register_module("bn1", BatchNorm2d(planes));
        conv2_ = register_module("conv2", conv(planes, planes, 3, 1));
        bn2_ = register_module("bn2", BatchNorm2d(planes));
        if (stride != 1 || in != planes) downsample_ = register_module("downsample", downsample(in, planes, stride));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        torch::Tensor out = torch::relu(bn1_->forward(conv1_->forward(x)));
        out = bn2_->forward(conv2_->forward(out));
        return torch::relu(out + (downsample_ ? downsample_->forward(x) : x));
    }

private:
    nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
    BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
    nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(BasicBlock);

// ResNeXt's grouped 3×3 convolutions and Wide ResNet's wider ones change
// only the bottleneck's inner width, as in torchvision:
// planes × (width_per_group / 64) × groups.
class BottleneckImpl : public nn::Module {
public:
    static constexpr int64_t kExpansion = 4;
    BottleneckImpl(int64_t in, int64_t planes, int64_t stride, int64_t groups, int64_t widthPerGroup) {
        int64_t out = planes * kExpansion;
        int64_t width = planes * widthPerGroup / 64 * groups;
        conv1_ = register_module("conv1", conv(in, width, 1, 1));
        bn1_ = register_module("bn1", BatchNorm2d(width));
        conv2_ = register_module(
            "conv2",
            nn::Conv2d(nn::Conv2dOptions(width, width, 3).stride(stride).padding(1).groups(groups).bias(false)));
        bn2_ = register_module("bn2", BatchNorm2d(width));
        conv3_ = register_module("conv3", conv(width, out, 1, 1));
        bn3_ = register_module("bn3", BatchNorm2d(out));
        if (stride != 1 || in != out) downsample_ = register_module("downsample", downsample(in, out, stride));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        torch::Tensor out = torch::relu(bn1_->forward(conv1_->forward(x)));
        out = torch::relu(bn2_->forward(conv2_->forward(out)));
        out = bn3_->forward(conv3_->forward(out));
        return torch::relu(out + (downsample_ ? downsample_->forward(x) : x));
    }

private:
    nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
    BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
    nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Bottleneck);

class ResNet : public Backbone {
public:
    ResNet(const std::string& name, int64_t depth, bool smallStem, int64_t inChannels, int64_t groups = 1,
           int64_t widthPerGroup = 64)
        : name_(name), inChannels_(inChannels), smallStem_(smallStem) {
        std::vector<int64_t> blocks;
        bool bottleneck = depth >= 50;
        switch (depth) {
        case 18: blocks = {2, 2, 2, 2}; break;
        case 34: blocks = {3, 4, 6, 3}; break;
        case 50: blocks = {3, 4, 6, 3}; break;
        case 101: blocks = {3, 4, 23, 3}; break;
        case 152: blocks = {3, 8, 36, 3}; break;
        default: throw RuntimeError(name + " depth " + std::to_string(depth) + " is not one of 18, 34, 50, 101 or 152");
        }
        // The stem: 7×7 stride 2 and a max-pool for photos; a 3×3 stride 1 for 28–32 px images.
        conv1_ = register_module("conv1", smallStem ? conv(inChannels, 64, 3, 1) : conv(inChannels, 64, 7, 2));
        bn1_ = register_module("bn1", BatchNorm2d(64));
        int64_t in = 64;
        const int64_t expansion = bottleneck ? BottleneckImpl::kExpansion : BasicBlockImpl::kExpansion;
        for (int i = 0; i < 4; ++i) {
            int64_t planes = int64_t{64} << i;
            nn::Sequential layer;
            for (int64_t b = 0; b < blocks[i]; ++b) {
                int64_t stride = (i > 0 && b == 0) ? 2 : 1;
                if (bottleneck)
                    layer->push_back(Bottleneck(in, planes, stride, groups, widthPerGroup));
                else
                    layer->push_back(BasicBlock(in, planes, stride));
                in = planes * expansion;
            }
            layers_.push_back(register_module("layer" + std::to_string(i + 1), layer));
        }
        features_ = in;
        // torchvision's initialisation.
        for (auto& m : modules(/*include_self=*/false)) {
            if (auto* c = m->as<nn::Conv2d>())
                nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
            else if (auto* bn = m->as<BatchNorm2d>()) {
                nn::init::ones_(bn->weight);
                nn::init::zeros_(bn->bias);
            }
        }
    }

    torch::Tensor forward(const Batch& batch) override {
        const torch::Tensor& x = batch.x;
        expectImages(batch, name_, inChannels_);
        torch::Tensor out = torch::relu(bn1_->forward(conv1_->forward(x)));
        if (!smallStem_) out = torch::max_pool2d(out, 3, 2, 1);
        for (auto& layer : layers_) out = layer->forward(out);
        return out;
    }
    int64_t features() const override { return features_; }
    bool spatial() const override { return true; }
    std::string headPrefix() const override { return ""; }
    std::string firstConv() const override { return "conv1.weight"; }
    std::string builtinName() const override { return name_; }

private:
    std::string name_;
    int64_t inChannels_;
    bool smallStem_;
    int64_t features_ = 0;
    nn::Conv2d conv1_{nullptr};
    BatchNorm2d bn1_{nullptr};
    std::vector<nn::Sequential> layers_;
};

}  // namespace

static std::shared_ptr<Backbone> makeResnet(const Value& call, const DataInfo& info) {
    return std::make_shared<ResNet>("resnet", intArg(call, "depth"), stringArg(call, "stem") == "small",
                                    imageChannels(call, info, "resnet"));
}
const BackboneMakers::Add kResnet{"resnet", makeResnet};

// torchvision's resnext50_32x4d, resnext101_32x8d and resnext101_64x4d:
// depth, groups and width per group in the name.
static std::shared_ptr<Backbone> makeResnext(const Value& call, const DataInfo& info) {
    std::string variant = stringArg(call, "variant");
    int64_t depth = 0, groups = 0, width = 0;
    char x = 0, d = 0;
    if (std::sscanf(variant.c_str(), "%ld_%ld%c%ld%c", &depth, &groups, &x, &width, &d) != 5 || x != 'x' || d != 'd')
        throw RuntimeError("resnext has no variant \"" + variant + "\"; it has 50_32x4d, 101_32x8d and 101_64x4d");
    return std::make_shared<ResNet>("resnext", depth, stringArg(call, "stem") == "small",
                                    imageChannels(call, info, "resnext"), groups, width);
}
const BackboneMakers::Add kResnext{"resnext", makeResnext};

// torchvision's wide_resnet50_2 and wide_resnet101_2: bottlenecks twice as wide.
static std::shared_ptr<Backbone> makeWideResnet(const Value& call, const DataInfo& info) {
    std::string variant = stringArg(call, "variant");
    if (variant != "50_2" && variant != "101_2")
        throw RuntimeError("wide_resnet has no variant \"" + variant + "\"; it has 50_2 and 101_2");
    return std::make_shared<ResNet>("wide_resnet", std::stol(variant), stringArg(call, "stem") == "small",
                                    imageChannels(call, info, "wide_resnet"), 1, 128);
}
const BackboneMakers::Add kWideResnet{"wide_resnet", makeWideResnet};

}  // namespace pipelang::runtime::models
