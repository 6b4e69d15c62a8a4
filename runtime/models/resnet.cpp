// ResNet (He et al. 2015) exactly as torchvision builds it (v1.5: the stride of
// a bottleneck on its 3×3 conv), with the same module names, so a state dict
// moves between the two by name: conv1, bn1, layer1.0.conv1, ...,
// layer2.0.downsample.0, ...; the head adds `fc`.
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

class BottleneckImpl : public nn::Module {
public:
    static constexpr int64_t kExpansion = 4;
    BottleneckImpl(int64_t in, int64_t planes, int64_t stride) {
        int64_t out = planes * kExpansion;
        conv1_ = register_module("conv1", conv(in, planes, 1, 1));
        bn1_ = register_module("bn1", BatchNorm2d(planes));
        conv2_ = register_module("conv2", conv(planes, planes, 3, stride));
        bn2_ = register_module("bn2", BatchNorm2d(planes));
        conv3_ = register_module("conv3", conv(planes, out, 1, 1));
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
    ResNet(int64_t depth, bool smallStem, int64_t inChannels) : inChannels_(inChannels), smallStem_(smallStem) {
        std::vector<int64_t> blocks;
        bool bottleneck = depth >= 50;
        switch (depth) {
        case 18: blocks = {2, 2, 2, 2}; break;
        case 34: blocks = {3, 4, 6, 3}; break;
        case 50: blocks = {3, 4, 6, 3}; break;
        default: throw RuntimeError("resnet depth " + std::to_string(depth) + " is not one of 18, 34 or 50");
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
                    layer->push_back(Bottleneck(in, planes, stride));
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
        if (x.dim() != 4 || x.size(1) != inChannels_)
            throw RuntimeError("resnet expects a batch of " + std::to_string(inChannels_) + "-channel images, {B, " +
                               std::to_string(inChannels_) + ", H, W}, but got " + shapeText(x.sizes()));
        torch::Tensor out = torch::relu(bn1_->forward(conv1_->forward(x)));
        if (!smallStem_) out = torch::max_pool2d(out, 3, 2, 1);
        for (auto& layer : layers_) out = layer->forward(out);
        return out;
    }
    int64_t features() const override { return features_; }
    bool spatial() const override { return true; }
    std::string headPrefix() const override { return ""; }
    std::string firstConv() const override { return "conv1.weight"; }
    std::string builtinName() const override { return "resnet"; }

private:
    int64_t inChannels_;
    bool smallStem_;
    int64_t features_ = 0;
    nn::Conv2d conv1_{nullptr};
    BatchNorm2d bn1_{nullptr};
    std::vector<nn::Sequential> layers_;
};

}  // namespace

static std::shared_ptr<Backbone> makeResnet(const Value& call, const DataInfo& info) {
    int64_t inChannels = intArg(call, "in_channels");
    const Value* written = call.arg("in_channels");
    if (info.input == "image" && info.itemShape.size() == 3 && info.itemShape[0] != inChannels) {
        // Left at its default, the channel count follows the data (greyscale
        // Fashion-MNIST needs no `in_channels = 1`); written, it must agree.
        if (written->origin == Origin::Default)
            inChannels = info.itemShape[0];
        else
            throw RuntimeError("resnet has `in_channels = " + std::to_string(inChannels) + "` but the images have " +
                               std::to_string(info.itemShape[0]) + (info.itemShape[0] == 1 ? " channel" : " channels"));
    }
    return std::make_shared<ResNet>(intArg(call, "depth"), stringArg(call, "stem") == "small", inChannels);
}
const BackboneMakers::Add kResnet{"resnet", makeResnet};

}  // namespace pipelang::runtime::models
