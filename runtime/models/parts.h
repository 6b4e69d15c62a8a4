// The parts a network is composed of, for the files of runtime/models only:
// a backbone turns a batch into features, a head turns features into
// predictions. Each registers its maker beside its code; network.cpp looks it up by name.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "interpreter/pipeline.h"
#include "runtime/data/dataset.h"
#include "runtime/values.h"
#include "stdlib/implementations.h"

namespace pipelang::runtime::models {

class Backbone : public torch::nn::Module {
public:
    // Features for a batch: {B, C, H, W} maps when spatial(); {B, T, C} for
    // each token of a sequence (lstm, transformer); else {B, C}.
    virtual torch::Tensor forward(const Batch& batch) = 0;
    virtual int64_t features() const = 0;
    virtual bool spatial() const = 0;
    // The built-in's name, for messages ("resnet").
    virtual std::string builtinName() const = 0;
    // Where the head's parameters go: "" puts them beside the backbone's, as
    // torchvision's ResNet has its `fc`; otherwise a module of this name.
    virtual std::string headPrefix() const { return "head"; }
    // The first convolution's weight, whose input channels are adapted when
    // pretrained weights were made for another channel count ("" if none).
    virtual std::string firstConv() const { return ""; }
    // The input embedding {vocab, dim} of a text backbone, which `next_token(tied = true)`
    // shares; undefined for others.
    virtual torch::Tensor tokenEmbedding() const { return {}; }
    // True when the backbone reads a window of exactly its context, padded
    // on the left when shorter (embedding_mlp); sequence models take any length.
    virtual bool fixedWindow() const { return false; }
    // Tensors of a pretrained file that loading passes over: parts of the
    // reference model this backbone has no use for (BERT's pooler).
    virtual bool ignoresWeight(const std::string&) const { return false; }
    // The name a pretrained file's tensor has here, when the reference model
    // names its parts otherwise (DistilBERT's `q_lin` is BERT's `query`).
    virtual std::string weightName(const std::string& fileName) const { return fileName; }
    // Where the network's state-dict names differ from its modules' names:
    // pairs of prefixes (module's, reference's), so that the head's `fc.`
    // is EfficientNet's `classifier.1.` in every file read and written.
    virtual std::vector<std::pair<std::string, std::string>> stateNames() const { return {}; }
    // Whether convolutions run on channels-last maps (as spatial backbones
    // do), for backbones that pool before the head.
    virtual bool channelsLast() const { return spatial(); }
    // A pretrained tensor of another shape made to fit `target` (ViT's
    // position embeddings for another image size) and a note saying how;
    // an undefined tensor when it cannot.
    // Parameters that learn even while the backbone is frozen: parts no
    // pretrained file holds (a video backbone's pooling over time).
    virtual std::vector<torch::Tensor> learnsWhenFrozen() { return {}; }
    struct Fitted {
        torch::Tensor value;
        std::string note;
    };
    virtual Fitted fitWeight(const std::string& /*name*/, const torch::Tensor& /*value*/,
                             const torch::Tensor& /*target*/) const {
        return {};
    }
};

class Head : public torch::nn::Module {
public:
    // `mask` (bool {B, T}, true at real tokens) comes with text batches, so
    // that pooling a sequence of features ignores padding; else undefined.
    virtual torch::Tensor forward(const torch::Tensor& features, const torch::Tensor& mask) = 0;
};

// One fully connected layer, its non-linearity and dropout: `linear.weight`.
class DenseImpl : public torch::nn::Module {
public:
    DenseImpl(int64_t in, int64_t out, const std::string& activation, double dropout);
    torch::Tensor forward(const torch::Tensor& x);

private:
    torch::nn::Linear linear_{nullptr};
    torch::nn::Dropout dropout_{nullptr};
    std::string activation_;
};
TORCH_MODULE(Dense);

// Makers, one per built-in, each registered beside its code
// (`const BackboneMakers::Add kResnet{"resnet", makeResnet};`); `call` is
// the resolved call from the .pipe file, every default filled in.
using BackboneMaker = std::shared_ptr<Backbone> (*)(const Value& call, const DataInfo& info);
using HeadMaker = std::shared_ptr<Head> (*)(const Value& call, const DataInfo& info, const Backbone& backbone);
using BackboneMakers = stdlib::Implementations<stdlib::Family::Backbone, BackboneMaker>;
using HeadMakers = stdlib::Implementations<stdlib::Family::Head, HeadMaker>;

// Text backbones: the data's vocabulary size, and a check that a batch
// holds token ids; both throw a RuntimeError naming `builtin`.
int64_t vocabOf(const DataInfo& info, const char* builtin);
void expectTokenIds(const Batch& batch, const char* builtin);
// Backbones over a series: a check that a batch holds its windows, float32
// {B, lookback, columns}; a RuntimeError naming `builtin` otherwise.
void expectSeriesWindows(const Batch& batch, const char* builtin, int64_t columns);

// Pools a sequence of features {B, T, C} into {B, C} by `pool` ("cls",
// "mean", "max", "last"), over the real tokens only when `mask` is defined.
torch::Tensor poolSequence(const std::string& pool, const torch::Tensor& x, const torch::Tensor& mask);

// Image backbones: a check that a batch holds {B, channels, H, W} images;
// a RuntimeError naming `builtin` otherwise.
void expectImages(const Batch& batch, const std::string& builtin, int64_t channels);

// The input channels of an image backbone: `in_channels` when written
// (then it must agree with the images), else the images' own.
int64_t imageChannels(const Value& call, const DataInfo& info, const char* builtin);

// "[1, 3, 7, 7]"
std::string shapeText(torch::IntArrayRef shape);

}  // namespace pipelang::runtime::models
