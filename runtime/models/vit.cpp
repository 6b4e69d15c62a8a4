// The Vision Transformer b_16 (Dosovitskiy et al. 2021) as torchvision 0.14
// builds it, with its module names: `class_token`, `conv_proj` (16×16
// patches), `encoder.pos_embedding`, `encoder.layers.encoder_layer_N`
// (`ln_1`, `self_attention`, `ln_2`, `mlp.0`, `mlp.3`), `encoder.ln`; the
// head's linear layer is `heads.head`. Any image size whose sides are
// multiples of the patch works: pretrained position embeddings made for
// another grid are interpolated as torchvision's interpolate_embeddings does.
#include <cmath>

#include "runtime/error.h"
#include "runtime/models/blocks.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace vit {
namespace {

// nn.MultiheadAttention's parameters (`in_proj_weight`, `in_proj_bias`,
// `out_proj`) and arithmetic, self-attention only.
class SelfAttentionImpl : public torch::nn::Module {
public:
    SelfAttentionImpl(int64_t dim, int64_t heads, double dropout) : heads_(heads), dropout_(dropout) {
        inWeight_ = register_parameter("in_proj_weight", torch::empty({3 * dim, dim}));
        inBias_ = register_parameter("in_proj_bias", torch::zeros({3 * dim}));
        out_ = register_module("out_proj", torch::nn::Linear(dim, dim));
        torch::nn::init::xavier_uniform_(inWeight_);
        torch::nn::init::zeros_(out_->bias);
    }
    torch::Tensor forward(const torch::Tensor& x) {
        int64_t b = x.size(0), t = x.size(1), dim = x.size(2), d = dim / heads_;
        auto qkv =
            torch::nn::functional::linear(x, inWeight_, inBias_).view({b, t, 3, heads_, d}).permute({2, 0, 3, 1, 4});
        torch::Tensor q = qkv[0] * (1.0 / std::sqrt(double(d))), k = qkv[1], v = qkv[2];
        torch::Tensor attention = torch::softmax(torch::matmul(q, k.transpose(-2, -1)), -1);
        if (dropout_ > 0) attention = torch::dropout(attention, dropout_, is_training());
        torch::Tensor y = torch::matmul(attention, v).transpose(1, 2).reshape({b, t, dim});
        return out_->forward(y);
    }

private:
    int64_t heads_;
    double dropout_;
    torch::Tensor inWeight_, inBias_;
    torch::nn::Linear out_{nullptr};
};
TORCH_MODULE(SelfAttention);

class EncoderBlockImpl : public torch::nn::Module {
public:
    EncoderBlockImpl(int64_t dim, int64_t heads, int64_t mlp, double dropout, double attentionDropout)
        : dropout_(dropout) {
        ln1_ = register_module("ln_1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
        attention_ = register_module("self_attention", SelfAttention(dim, heads, attentionDropout));
        ln2_ = register_module("ln_2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
        up_ = torch::nn::Linear(dim, mlp);
        down_ = torch::nn::Linear(mlp, dim);
        register_module("mlp", named({{"0", up_.ptr()}, {"3", down_.ptr()}}));  // 1, 2, 4: GELU and dropouts
        for (auto* l : {up_.get(), down_.get()}) {
            torch::nn::init::xavier_uniform_(l->weight);
            torch::nn::init::normal_(l->bias, 0, 1e-6);
        }
    }
    torch::Tensor forward(const torch::Tensor& input) {
        torch::Tensor x = torch::dropout(attention_->forward(ln1_->forward(input)), dropout_, is_training()) + input;
        torch::Tensor y = torch::dropout(torch::gelu(up_->forward(ln2_->forward(x))), dropout_, is_training());
        return x + torch::dropout(down_->forward(y), dropout_, is_training());
    }

private:
    double dropout_;
    torch::nn::LayerNorm ln1_{nullptr}, ln2_{nullptr};
    SelfAttention attention_{nullptr};
    torch::nn::Linear up_{nullptr}, down_{nullptr};
};
TORCH_MODULE(EncoderBlock);

// `pos_embedding` {1, 1 + h·w, dim}: the class token's, then a row-major
// grid of h×w patches' — interpolated to another grid with bicubic
// interpolation, corners aligned, as torchvision does.
torch::Tensor resizeGrid(const torch::Tensor& positions, int64_t fromH, int64_t fromW, int64_t toH, int64_t toW) {
    int64_t dim = positions.size(2);
    torch::Tensor grid = positions.slice(1, 1).permute({0, 2, 1}).reshape({1, dim, fromH, fromW});
    torch::Tensor resized = torch::nn::functional::interpolate(grid, torch::nn::functional::InterpolateFuncOptions()
                                                                         .size(std::vector<int64_t>{toH, toW})
                                                                         .mode(torch::kBicubic)
                                                                         .align_corners(true));
    return torch::cat({positions.slice(1, 0, 1), resized.reshape({1, dim, toH * toW}).permute({0, 2, 1})}, 1);
}

class VisionTransformer : public Backbone {
public:
    VisionTransformer(int64_t inChannels, int64_t height, int64_t width, double dropout, double attentionDropout)
        : inChannels_(inChannels), gridH_(height / kPatch), gridW_(width / kPatch), dropout_(dropout) {
        classToken_ = register_parameter("class_token", torch::zeros({1, 1, kDim}));
        convProj_ = register_module(
            "conv_proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(inChannels, kDim, kPatch).stride(kPatch)));
        auto encoder = std::make_shared<torch::nn::Module>();
        positions_ =
            encoder->register_parameter("pos_embedding", torch::empty({1, 1 + gridH_ * gridW_, kDim}).normal_(0, 0.02));
        std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> layers;
        for (int64_t i = 0; i < kLayers; ++i) {
            blocks_.push_back(EncoderBlock(kDim, kHeads, kMlp, dropout, attentionDropout));
            layers.emplace_back("encoder_layer_" + std::to_string(i), blocks_.back().ptr());
        }
        encoder->register_module("layers", named(layers));
        ln_ = encoder->register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({kDim}).eps(1e-6)));
        register_module("encoder", encoder);
        double fanIn = double(inChannels * kPatch * kPatch);
        truncNormal(convProj_->weight, 0.0, std::sqrt(1.0 / fanIn));
        torch::nn::init::zeros_(convProj_->bias);
    }

    torch::Tensor forward(const Batch& batch) override {
        const torch::Tensor& x = batch.x;
        expectImages(batch, "vit", inChannels_);
        if (x.size(2) / kPatch != gridH_ || x.size(3) / kPatch != gridW_)
            throw RuntimeError("vit was built for " + std::to_string(gridH_ * kPatch) + "×" +
                               std::to_string(gridW_ * kPatch) + " images but got " + shapeText(x.sizes()));
        int64_t n = x.size(0);
        torch::Tensor patches = convProj_->forward(x).flatten(2).transpose(1, 2);  // {B, h·w, dim}
        torch::Tensor y = torch::cat({classToken_.expand({n, -1, -1}), patches}, 1) + positions_;
        y = torch::dropout(y, dropout_, is_training());
        for (auto& block : blocks_) y = block->forward(y);
        return ln_->forward(y).select(1, 0);
    }
    int64_t features() const override { return kDim; }
    bool spatial() const override { return false; }
    std::string headPrefix() const override { return ""; }
    std::string firstConv() const override { return "conv_proj.weight"; }
    std::string builtinName() const override { return "vit"; }
    std::vector<std::pair<std::string, std::string>> stateNames() const override { return {{"fc.", "heads.head."}}; }
    Fitted fitWeight(const std::string& name, const torch::Tensor& value, const torch::Tensor& target) const override {
        if (name != "encoder.pos_embedding" || value.dim() != 3 || value.size(0) != 1 || value.size(2) != kDim)
            return {};
        int64_t side = int64_t(std::lround(std::sqrt(double(value.size(1) - 1))));
        if (side < 1 || side * side + 1 != value.size(1)) return {};
        torch::NoGradGuard noGrad;
        torch::Tensor resized = resizeGrid(value.to(target.dtype()), side, side, gridH_, gridW_);
        return {resized, "`" + name + "` was made for a grid of " + std::to_string(side) + "×" + std::to_string(side) +
                             " patches; interpolated to " + std::to_string(gridH_) + "×" + std::to_string(gridW_)};
    }

private:
    static constexpr int64_t kPatch = 16, kDim = 768, kLayers = 12, kHeads = 12, kMlp = 3072;
    int64_t inChannels_, gridH_, gridW_;
    double dropout_;
    torch::Tensor classToken_, positions_;
    torch::nn::Conv2d convProj_{nullptr};
    std::vector<EncoderBlock> blocks_;
    torch::nn::LayerNorm ln_{nullptr};
};

}  // namespace
}  // namespace vit

static std::shared_ptr<Backbone> makeVit(const Value& call, const DataInfo& info) {
    std::string variant = stringArg(call, "variant");
    if (variant != "b_16") throw RuntimeError("vit has no variant \"" + variant + "\"; it has b_16");
    int64_t channels = imageChannels(call, info, "vit");
    if (info.itemShape.size() != 3 || info.itemShape[1] < 16 || info.itemShape[2] < 16)
        throw RuntimeError(
            "vit cuts images into 16×16 patches, so it needs images of at least 16×16 pixels; "
            "resize them (e.g. `resize(224)`)");
    return std::make_shared<vit::VisionTransformer>(channels, info.itemShape[1], info.itemShape[2],
                                                    numberArg(call, "dropout"), numberArg(call, "attention_dropout"));
}
const BackboneMakers::Add kVit{"vit", makeVit};

}  // namespace pipelang::runtime::models
