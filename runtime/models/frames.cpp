// `frames`: a video backbone made of an image backbone run on every frame of
// a clip {B, T, C, H, W} as one batch of B·T images, its maps averaged to a
// vector per frame, then pooled over time: by the mean or the maximum, by an
// LSTM's last step, or by attention (a learned score per frame, softmax over
// time, the weighted sum, each frame's place in time learned) — the late-fusion baselines of Karpathy et al.
// 2014 and Yue-Hei Ng et al. 2015.
// Names: the image backbone's own at the top of the state dict (as if it
// stood alone, so torchvision's files load into it), then `pool.*`.
#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace {

namespace nn = torch::nn;

// Attention over time: a learned place-in-time vector added to each frame's
// features (without it a weighted sum could not tell the frames' order), a
// score per frame, softmax over time, the weighted sum.
class TimeAttentionImpl : public nn::Module {
public:
    TimeAttentionImpl(int64_t frames, int64_t features) {
        position_ = register_parameter("position", torch::randn({frames, features}) * 0.02);
        score_ = register_module("score", nn::Linear(features, 1));
    }
    torch::Tensor forward(const torch::Tensor& f) {
        torch::Tensor placed = f + position_;
        return (torch::softmax(score_->forward(placed), 1) * placed).sum(1);
    }

private:
    torch::Tensor position_;
    nn::Linear score_{nullptr};
};
TORCH_MODULE(TimeAttention);

class FramesBackbone : public Backbone {
public:
    FramesBackbone(const Value& call, const DataInfo& info) : pool_(stringArg(call, "pool")) {
        if (info.itemShape.size() != 4)
            throw RuntimeError("frames expects clips of frames, {T, C, H, W} per item, but the data gives " +
                               shapeText(info.itemShape) + "; use a `video(...)` block.");
        const Value* inner = call.arg("backbone");
        if (!inner || inner->kind != Value::Kind::Call)
            throw RuntimeError("frames needs an image backbone, e.g. `frames(cnn(channels = [32, 64]))`");
        frames_ = info.itemShape[0];
        DataInfo frameInfo = info;
        frameInfo.input = "image";
        frameInfo.itemShape = {info.itemShape[1], info.itemShape[2], info.itemShape[3]};
        frame_ = makerOf<BackboneMakers>(*inner)(*inner, frameInfo);
        register_module("backbone", frame_);
        features_ = frame_->features();
        if (pool_ == "lstm") {
            lstm_ = register_module("pool", nn::LSTM(nn::LSTMOptions(features_, features_).batch_first(true)));
        } else if (pool_ == "attention") {
            attention_ = register_module("pool", TimeAttention(info.itemShape[0], features_));
        }
    }

    torch::Tensor forward(const Batch& batch) override {
        const torch::Tensor& x = batch.x;
        if (x.dim() != 5)
            throw RuntimeError("frames expects a batch of clips, {B, T, C, H, W}, but got " + shapeText(x.sizes()));
        const int64_t b = x.size(0), t = x.size(1);
        Batch images;
        images.x = x.reshape({b * t, x.size(2), x.size(3), x.size(4)});
        if (frame_->channelsLast()) images.x = images.x.contiguous(torch::MemoryFormat::ChannelsLast);
        torch::Tensor f = frame_->forward(images);
        if (f.dim() == 4) f = f.mean({2, 3});  // a frame's maps to one vector, as torchvision's avgpool
        f = f.reshape({b, t, -1});
        if (pool_ == "max") return f.amax(1);
        if (pool_ == "lstm") return std::get<0>(lstm_->forward(f)).select(1, t - 1);
        if (pool_ == "attention") {
            if (t != frames_)
                throw RuntimeError("frames(pool = \"attention\") was made for clips of " + std::to_string(frames_) +
                                   " frames, but got " + std::to_string(t));
            return attention_->forward(f);
        }
        return f.mean(1);
    }
    int64_t features() const override { return features_; }
    bool spatial() const override { return false; }
    bool channelsLast() const override { return frame_->channelsLast(); }
    std::string builtinName() const override { return "frames"; }
    // The image backbone's head prefix, so that a ResNet's `fc` stays `fc`.
    std::string headPrefix() const override { return frame_->headPrefix(); }
    std::string firstConv() const override { return frame_->firstConv(); }
    bool ignoresWeight(const std::string& name) const override { return frame_->ignoresWeight(name); }
    std::string weightName(const std::string& name) const override { return frame_->weightName(name); }
    std::vector<std::pair<std::string, std::string>> stateNames() const override {
        std::vector<std::pair<std::string, std::string>> names;
        for (const auto& [ours, theirs] : frame_->stateNames()) names.emplace_back("backbone." + ours, theirs);
        for (const auto& pair : frame_->stateNames()) names.push_back(pair);  // the head's, beside the backbone
        names.emplace_back("backbone.", "");
        return names;
    }
    std::vector<torch::Tensor> learnsWhenFrozen() override {
        if (lstm_) return lstm_->parameters();
        if (attention_) return attention_->parameters();
        return {};
    }
    Fitted fitWeight(const std::string& name, const torch::Tensor& value, const torch::Tensor& target) const override {
        return frame_->fitWeight(name, value, target);
    }

private:
    std::string pool_;
    std::shared_ptr<Backbone> frame_;
    int64_t features_ = 0;
    int64_t frames_ = 0;
    nn::LSTM lstm_{nullptr};
    TimeAttention attention_{nullptr};
};

std::shared_ptr<Backbone> makeFrames(const Value& call, const DataInfo& info) {
    return std::make_shared<FramesBackbone>(call, info);
}

const BackboneMakers::Add kFrames{"frames", makeFrames};

}  // namespace

}  // namespace pipelang::runtime::models
