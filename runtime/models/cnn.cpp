// A plain convolutional net: one stage per entry of `channels`, each a
// stride-2 convolution (halving the image), batch norm and ReLU, as fastai's
// simple_cnn, then `convs - 1` more that keep the size.
// Names: features.0.conv.weight, features.0.bn.running_mean, ...
#include "runtime/error.h"
#include "runtime/models/batch_norm.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace {

namespace nn = torch::nn;

class ConvStageImpl : public nn::Module {
public:
    // Convolution `k` of the stage is `conv`, `conv2`, `conv3`, ... with its
    // batch norm `bn`, `bn2`, ...: a one-convolution stage keeps the names
    // fastai's simple_cnn gives.
    ConvStageImpl(int64_t in, int64_t out, int64_t kernel, int64_t convs, bool batchNorm, double dropout) {
        for (int64_t k = 0; k < convs; ++k) {
            std::string suffix = k == 0 ? "" : std::to_string(k + 1);
            auto conv = register_module("conv" + suffix, nn::Conv2d(nn::Conv2dOptions(k == 0 ? in : out, out, kernel)
                                                                        .stride(k == 0 ? 2 : 1)
                                                                        .padding(kernel / 2)
                                                                        .bias(!batchNorm)));
            nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanIn, torch::kReLU);
            if (conv->bias.defined()) nn::init::zeros_(conv->bias);
            convs_.push_back(conv);
            if (batchNorm) norms_.push_back(register_module("bn" + suffix, BatchNorm2d(out)));
        }
        if (dropout > 0) dropout_ = register_module("dropout", nn::Dropout(dropout));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        torch::Tensor y = x;
        for (size_t k = 0; k < convs_.size(); ++k) {
            y = convs_[k]->forward(y);
            if (!norms_.empty()) y = norms_[k]->forward(y);
            y = torch::relu(y);
        }
        return dropout_ ? dropout_->forward(y) : y;
    }

private:
    std::vector<nn::Conv2d> convs_;
    std::vector<BatchNorm2d> norms_;
    nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(ConvStage);

class Cnn : public Backbone {
public:
    Cnn(int64_t inChannels, const std::vector<int64_t>& channels, int64_t kernel, int64_t convs, bool batchNorm,
        double dropout)
        : inChannels_(inChannels) {
        features_ = register_module("features", nn::Sequential());
        int64_t in = inChannels;
        for (int64_t out : channels) {
            features_->push_back(ConvStage(in, out, kernel, convs, batchNorm, dropout));
            in = out;
        }
        width_ = in;
    }
    torch::Tensor forward(const Batch& batch) override {
        const torch::Tensor& x = batch.x;
        expectImages(batch, "cnn", inChannels_);
        return features_->forward(x);
    }
    int64_t features() const override { return width_; }
    bool spatial() const override { return true; }
    std::string firstConv() const override { return "features.0.conv.weight"; }
    std::string builtinName() const override { return "cnn"; }

private:
    int64_t inChannels_;
    int64_t width_ = 0;
    nn::Sequential features_{nullptr};
};

// A series' window as a sequence of steps: the same stages with 1-D
// convolutions over time (a step's columns are its channels), each halving
// the steps; the last stage's maps, flattened, are the features, so that the
// head knows which step each came from.
class SeriesStageImpl : public nn::Module {
public:
    SeriesStageImpl(int64_t in, int64_t out, int64_t kernel, int64_t convs, bool batchNorm, double dropout) {
        for (int64_t k = 0; k < convs; ++k) {
            std::string suffix = k == 0 ? "" : std::to_string(k + 1);
            auto conv = register_module("conv" + suffix, nn::Conv1d(nn::Conv1dOptions(k == 0 ? in : out, out, kernel)
                                                                        .stride(k == 0 ? 2 : 1)
                                                                        .padding(kernel / 2)
                                                                        .bias(!batchNorm)));
            nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanIn, torch::kReLU);
            if (conv->bias.defined()) nn::init::zeros_(conv->bias);
            convs_.push_back(conv);
            if (batchNorm) norms_.push_back(register_module("bn" + suffix, nn::BatchNorm1d(out)));
        }
        if (dropout > 0) dropout_ = register_module("dropout", nn::Dropout(dropout));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        torch::Tensor y = x;
        for (size_t k = 0; k < convs_.size(); ++k) {
            y = convs_[k]->forward(y);
            if (!norms_.empty()) y = norms_[k]->forward(y);
            y = torch::relu(y);
        }
        return dropout_ ? dropout_->forward(y) : y;
    }

private:
    std::vector<nn::Conv1d> convs_;
    std::vector<nn::BatchNorm1d> norms_;
    nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(SeriesStage);

class SeriesCnn : public Backbone {
public:
    SeriesCnn(int64_t lookback, int64_t columns, const std::vector<int64_t>& channels, int64_t kernel, int64_t convs,
              bool batchNorm, double dropout)
        : columns_(columns) {
        features_ = register_module("features", nn::Sequential());
        int64_t in = columns, steps = lookback;
        for (int64_t out : channels) {
            features_->push_back(SeriesStage(in, out, kernel, convs, batchNorm, dropout));
            in = out;
            steps = (steps + 2 * (kernel / 2) - kernel) / 2 + 1;  // the stride-2 convolution's output length
            if (steps < 1)
                throw RuntimeError("cnn: a window of " + std::to_string(lookback) + " steps is too short for " +
                                   std::to_string(channels.size()) + " stages of kernel " + std::to_string(kernel) +
                                   "; use fewer `channels` or a longer `lookback`");
        }
        width_ = in * steps;
    }
    torch::Tensor forward(const Batch& batch) override {
        expectSeriesWindows(batch, "cnn", columns_);
        return features_->forward(batch.x.transpose(1, 2)).flatten(1);
    }
    int64_t features() const override { return width_; }
    bool spatial() const override { return false; }
    std::string builtinName() const override { return "cnn"; }

private:
    int64_t columns_;
    int64_t width_ = 0;
    nn::Sequential features_{nullptr};
};

}  // namespace

static std::shared_ptr<Backbone> makeCnn(const Value& call, const DataInfo& info) {
    if (info.input == "series") {
        std::vector<int64_t> channels = intsArg(call, "channels");
        if (channels.empty()) throw RuntimeError("cnn needs at least one entry in `channels`");
        return std::make_shared<SeriesCnn>(info.itemShape.at(0), info.itemShape.at(1), channels, intArg(call, "kernel"),
                                           intArg(call, "convs"), boolArg(call, "batch_norm"),
                                           numberArg(call, "dropout"));
    }
    if (info.itemShape.size() != 3)
        throw RuntimeError("cnn needs images of shape {channels, height, width}, but the data gives " +
                           shapeText(info.itemShape));
    std::vector<int64_t> channels = intsArg(call, "channels");
    if (channels.empty()) throw RuntimeError("cnn needs at least one entry in `channels`");
    return std::make_shared<Cnn>(info.itemShape[0], channels, intArg(call, "kernel"), intArg(call, "convs"),
                                 boolArg(call, "batch_norm"), numberArg(call, "dropout"));
}
const BackboneMakers::Add kCnn{"cnn", makeCnn};

}  // namespace pipelang::runtime::models
