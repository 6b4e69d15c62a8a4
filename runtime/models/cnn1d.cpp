// A 1-D convolutional net for waveforms {B, channels, samples}, as M5 (Dai
// et al. 2017, "Very deep convolutional neural networks for raw waveforms"):
// stage 0 is a wide strided convolution, the others a narrow one; each is
// followed by batch norm, ReLU and a max-pooling by 4, and the features are
// the last stage's channels averaged over time.
// Names: features.0.conv.weight, features.0.bn.running_mean, ...
#include "runtime/error.h"
#include "runtime/models/batch_norm.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace {

namespace nn = torch::nn;

class WaveStageImpl : public nn::Module {
public:
    WaveStageImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, double dropout) {
        conv_ = register_module(
            "conv",
            nn::Conv1d(
                nn::Conv1dOptions(in, out, kernel).stride(stride).padding(stride == 1 ? kernel / 2 : 0).bias(false)));
        nn::init::kaiming_normal_(conv_->weight, 0.0, torch::kFanIn, torch::kReLU);
        bn_ = register_module("bn", BatchNorm2d(out));
        if (dropout > 0) dropout_ = register_module("dropout", nn::Dropout(dropout));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        torch::Tensor y = bn_->forward(conv_->forward(x).unsqueeze(-1)).squeeze(-1);
        y = torch::max_pool1d(torch::relu(y), 4);
        return dropout_ ? dropout_->forward(y) : y;
    }

private:
    nn::Conv1d conv_{nullptr};
    BatchNorm2d bn_{nullptr};
    nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(WaveStage);

class Cnn1d : public Backbone {
public:
    Cnn1d(int64_t inChannels, const std::vector<int64_t>& channels, int64_t firstKernel, int64_t stride, int64_t kernel,
          double dropout)
        : inChannels_(inChannels) {
        features_ = register_module("features", nn::Sequential());
        int64_t in = inChannels;
        for (size_t i = 0; i < channels.size(); ++i) {
            features_->push_back(
                WaveStage(in, channels[i], i == 0 ? firstKernel : kernel, i == 0 ? stride : 1, dropout));
            in = channels[i];
        }
        width_ = in;
    }
    torch::Tensor forward(const Batch& batch) override {
        const torch::Tensor& x = batch.x;
        if (x.dim() != 3 || x.size(1) != inChannels_)
            throw RuntimeError("cnn1d expects a batch of " + std::to_string(inChannels_) + "-channel waveforms, {B, " +
                               std::to_string(inChannels_) + ", samples}, but got " + shapeText(x.sizes()));
        return features_->forward(x).mean(-1);
    }
    int64_t features() const override { return width_; }
    bool spatial() const override { return false; }
    std::string firstConv() const override { return "features.0.conv.weight"; }
    std::string builtinName() const override { return "cnn1d"; }

private:
    int64_t inChannels_;
    int64_t width_ = 0;
    nn::Sequential features_{nullptr};
};

// The length after each stage: the first convolution, then a pooling by 4 per stage.
int64_t waveLengthAfter(int64_t samples, int64_t stages, int64_t firstKernel, int64_t stride) {
    int64_t length = samples < firstKernel ? 0 : (samples - firstKernel) / stride + 1;
    for (int64_t i = 0; i < stages; ++i) length /= 4;
    return length;
}

}  // namespace

static std::shared_ptr<Backbone> makeCnn1d(const Value& call, const DataInfo& info) {
    if (info.itemShape.size() != 2)
        throw RuntimeError("cnn1d takes waveforms of shape {channels, samples}, but the data gives " +
                           shapeText(info.itemShape) +
                           "; for spectrograms use an image backbone (cnn, resnet), or drop the spectrogram "
                           "transform from `item`.");
    std::vector<int64_t> channels = intsArg(call, "channels");
    if (channels.empty()) throw RuntimeError("cnn1d needs at least one entry in `channels`");
    int64_t firstKernel = intArg(call, "first_kernel"), stride = intArg(call, "stride");
    if (waveLengthAfter(info.itemShape[1], int64_t(channels.size()), firstKernel, stride) < 1)
        throw RuntimeError("cnn1d: items of " + std::to_string(info.itemShape[1]) + " samples are too short for " +
                           std::to_string(channels.size()) + " stages (each pools by 4) after a first stride of " +
                           std::to_string(stride) +
                           "; use fewer `channels`, a smaller `stride`, or a longer `duration`.");
    return std::make_shared<Cnn1d>(info.itemShape[0], channels, firstKernel, stride, intArg(call, "kernel"),
                                   numberArg(call, "dropout"));
}
const BackboneMakers::Add kCnn1d{"cnn1d", makeCnn1d};

}  // namespace pipelang::runtime::models
