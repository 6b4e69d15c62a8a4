// Heads: pool the backbone's features, optional hidden layers, then one
// linear layer `fc` sized from the target block (torchvision's name, so a
// ResNet with a plain classifier is exactly torchvision's model); and a
// language model's `next_token`, a score for every token at every position.
#include <limits>

#include "runtime/error.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace {

class LinearHead : public Head {
public:
    LinearHead(const std::string& pool, int64_t in, const std::vector<int64_t>& hidden, double dropout, int64_t outputs,
               bool squeeze)
        : pool_(pool), squeeze_(squeeze) {
        if (!hidden.empty()) {
            hidden_ = register_module("hidden", torch::nn::Sequential());
            for (int64_t width : hidden) {
                hidden_->push_back(Dense(in, width, "relu", dropout));
                in = width;
            }
        }
        if (dropout > 0) dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
        fc_ = register_module("fc", torch::nn::Linear(in, outputs));
    }

    torch::Tensor forward(const torch::Tensor& features, const torch::Tensor& mask) override {
        torch::Tensor x = features;
        if (x.dim() == 4) x = pool_ == "max" ? x.amax({2, 3}) : x.mean({2, 3});
        if (x.dim() == 3) x = poolSequence(pool_, x, mask);
        if (hidden_) x = hidden_->forward(x);
        if (dropout_) x = dropout_->forward(x);
        x = fc_->forward(x);
        return squeeze_ ? x.squeeze(1) : x;
    }

private:
    std::string pool_;
    bool squeeze_;
    torch::nn::Sequential hidden_{nullptr};
    torch::nn::Dropout dropout_{nullptr};
    torch::nn::Linear fc_{nullptr};
};

// Image features are maps: `auto` and `mean` average them (as torchvision's
// avgpool), `max` takes the largest; `cls` and `last` are for sequences.
// Sequences pool by `mean` too unless told otherwise: it needs no special
// token and suits every backbone, one-way or both ways.
// `cls` reads the classification token where the tokenizer put it: first
// (BERT's [CLS], RoBERTa's <s>) or last (XLNet's).
std::string poolFor(const std::string& pool, const Backbone& backbone, const DataInfo& info) {
    if (backbone.spatial() && (pool == "cls" || pool == "last"))
        throw RuntimeError("`pool = \"" + pool + "\"` is for sequences of tokens, but `" + backbone.builtinName() +
                           "` gives image features; use \"mean\" or \"max\"");
    if (pool == "cls" && info.clsPosition == -1) return "last";
    return pool == "auto" ? "mean" : pool;
}

class NextTokenHead : public Head {
public:
    // Tied: the scores are the features times the input embedding, whose
    // tensor is shared (not copied, not registered twice: the optimizer
    // updates it once, as the backbone's); only the bias is the head's own.
    NextTokenHead(int64_t features, int64_t vocab, torch::Tensor tiedWeight) : tied_(std::move(tiedWeight)) {
        if (tied_.defined())
            bias_ = register_parameter("bias", torch::zeros({vocab}));
        else
            decoder_ = register_module("decoder", torch::nn::Linear(features, vocab));
    }
    torch::Tensor forward(const torch::Tensor& features, const torch::Tensor&) override {
        return tied_.defined() ? torch::nn::functional::linear(features, tied_, bias_) : decoder_->forward(features);
    }

private:
    torch::Tensor tied_, bias_;
    torch::nn::Linear decoder_{nullptr};
};

int64_t outputsOf(const DataInfo& info, const char* head) {
    if (info.outputs < 1)
        throw RuntimeError(std::string("the `") + head + "` head needs at least one output, but the data has " +
                           std::to_string(info.outputs));
    return info.outputs;
}

}  // namespace

torch::Tensor poolSequence(const std::string& pool, const torch::Tensor& x, const torch::Tensor& mask) {
    if (pool == "cls") return x.select(1, 0);
    if (!mask.defined()) {
        if (pool == "max") return x.amax(1);
        if (pool == "last") return x.select(1, -1);
        return x.mean(1);
    }
    torch::Tensor real = mask.unsqueeze(2);  // {B, T, 1}
    if (pool == "max") return x.masked_fill(real.logical_not(), -std::numeric_limits<float>::infinity()).amax(1);
    if (pool == "last") {
        torch::Tensor last = (mask.sum(1) - 1).clamp_min(0);  // padding follows the real tokens
        return x.gather(1, last.view({-1, 1, 1}).expand({x.size(0), 1, x.size(2)})).squeeze(1);
    }
    torch::Tensor weights = real.to(x.scalar_type());
    return (x * weights).sum(1) / weights.sum(1).clamp_min(1);
}

static std::shared_ptr<Head> makeNextToken(const Value& call, const DataInfo& info, const Backbone& backbone) {
    int64_t vocab = vocabOf(info, "next_token");
    torch::Tensor tied;
    if (boolArg(call, "tied")) {
        tied = backbone.tokenEmbedding();
        if (!tied.defined())
            throw RuntimeError("`next_token(tied = true)` shares the input embedding, but `" + backbone.builtinName() +
                               "` has none");
        if (tied.size(1) != backbone.features())
            throw RuntimeError("`next_token(tied = true)` needs features as wide as the embedding, but `" +
                               backbone.builtinName() + "` gives " + std::to_string(backbone.features()) +
                               " features for embeddings of " + std::to_string(tied.size(1)) +
                               "; make them equal or set `tied = false`");
    }
    return std::make_shared<NextTokenHead>(backbone.features(), vocab, tied);
}
const HeadMakers::Add kNextToken{"next_token", makeNextToken};

static std::shared_ptr<Head> makeClassifier(const Value& call, const DataInfo& info, const Backbone& backbone) {
    std::string pool = poolFor(stringArg(call, "pool"), backbone, info);
    return std::make_shared<LinearHead>(pool, backbone.features(), intsArg(call, "hidden"), numberArg(call, "dropout"),
                                        outputsOf(info, "classifier"), /*squeeze=*/false);
}
const HeadMakers::Add kClassifier{"classifier", makeClassifier};

// Over a series' window a sequence of features is read at its last step,
// which has seen the whole window; a forecast is always {B, horizon × targets}.
static std::shared_ptr<Head> makeRegressor(const Value& call, const DataInfo& info, const Backbone& backbone) {
    int64_t outputs = outputsOf(info, "regressor");
    const bool series = info.target == "series";
    return std::make_shared<LinearHead>(series ? "last" : "mean", backbone.features(), intsArg(call, "hidden"),
                                        numberArg(call, "dropout"), outputs, /*squeeze=*/outputs == 1 && !series);
}
const HeadMakers::Add kRegressor{"regressor", makeRegressor};

// `linear`: one linear layer on the features, logistic regression on `tfidf`.
static std::shared_ptr<Head> makeLinear(const Value&, const DataInfo& info, const Backbone& backbone) {
    return std::make_shared<LinearHead>("mean", backbone.features(), std::vector<int64_t>{}, 0.0,
                                        outputsOf(info, "linear"), /*squeeze=*/false);
}
const HeadMakers::Add kLinear{"linear", makeLinear};

}  // namespace pipelang::runtime::models
