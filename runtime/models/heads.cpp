// Heads: pool the backbone's features, optional hidden layers, then one
// linear layer `fc` sized from the target block (torchvision's name, so a
// ResNet with a plain classifier is exactly torchvision's model).
#include "runtime/error.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace {

class LinearHead : public Head {
public:
    LinearHead(const std::string& pool, int64_t in, const std::vector<int64_t>& hidden, double dropout,
               int64_t outputs, bool squeeze)
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

    torch::Tensor forward(const torch::Tensor& features) override {
        torch::Tensor x = features;
        if (x.dim() == 4) x = pool_ == "max" ? x.amax({2, 3}) : x.mean({2, 3});
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
std::string poolFor(const std::string& pool, const Backbone& backbone, const std::string& backboneName) {
    if (backbone.spatial() && (pool == "cls" || pool == "last"))
        throw RuntimeError("`pool = \"" + pool + "\"` is for sequences of tokens, but `" + backboneName +
                           "` gives image features; use \"mean\" or \"max\"");
    return pool == "auto" ? "mean" : pool;
}

int64_t outputsOf(const DataInfo& info, const char* head) {
    if (info.outputs < 1)
        throw RuntimeError(std::string("the `") + head + "` head needs at least one output, but the data has " +
                           std::to_string(info.outputs));
    return info.outputs;
}

}  // namespace

std::shared_ptr<Head> makeClassifier(const Value& call, const DataInfo& info, const Backbone& backbone) {
    std::string pool = poolFor(stringArg(call, "pool"), backbone, backbone.builtinName());
    return std::make_shared<LinearHead>(pool, backbone.features(), intListArg(call, "hidden"), floatArg(call, "dropout"),
                                        outputsOf(info, "classifier"), /*squeeze=*/false);
}

std::shared_ptr<Head> makeRegressor(const Value& call, const DataInfo& info, const Backbone& backbone) {
    int64_t outputs = outputsOf(info, "regressor");
    return std::make_shared<LinearHead>("mean", backbone.features(), intListArg(call, "hidden"), floatArg(call, "dropout"),
                                        outputs, /*squeeze=*/outputs == 1);
}

// `linear`: one linear layer on the features, logistic regression on `tfidf`.
std::shared_ptr<Head> makeLinear(const Value&, const DataInfo& info, const Backbone& backbone) {
    return std::make_shared<LinearHead>("mean", backbone.features(), std::vector<int64_t>{}, 0.0,
                                        outputsOf(info, "linear"), /*squeeze=*/false);
}

}  // namespace pipelang::runtime::models
