// Fully connected layers on the flattened input. Images are flattened; a
// table's categorical columns are embedded (sizes by fastai's rule of thumb)
// and joined with its continuous columns, as fastai's TabularModel.
// Names: embeds.0.weight, layers.0.linear.weight, ...
#include <cmath>

#include "runtime/error.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace {

namespace nn = torch::nn;

// fastai's emb_sz_rule: min(600, round(1.6 * n^0.56)).
int64_t embeddingSize(int64_t cardinality) {
    return std::min<int64_t>(600, std::llround(1.6 * std::pow(static_cast<double>(cardinality), 0.56)));
}

class Mlp : public Backbone {
public:
    Mlp(bool tabular, int64_t inputs, const std::vector<int64_t>& cardinalities, const std::vector<int64_t>& hidden,
        const std::string& activation, double dropout)
        : tabular_(tabular), inputs_(inputs) {
        int64_t in = inputs;
        if (!cardinalities.empty()) {
            embeds_ = register_module("embeds", nn::ModuleList());
            for (int64_t n : cardinalities) {
                int64_t size = embeddingSize(n);
                embeds_->push_back(nn::Embedding(n, size));
                in += size;
            }
        }
        if (in == 0) throw RuntimeError("mlp has no inputs: the data has no features");
        layers_ = register_module("layers", nn::Sequential());
        for (int64_t width : hidden) {
            layers_->push_back(Dense(in, width, activation, dropout));
            in = width;
        }
        width_ = in;
    }

    torch::Tensor forward(const Batch& batch) override {
        torch::Tensor x;
        if (!tabular_) {
            x = batch.x.flatten(1);
            if (x.size(1) != inputs_)
                throw RuntimeError("mlp expects images of " + std::to_string(inputs_) + " values, but got " +
                                   shapeText(batch.x.sizes()));
        } else {
            std::vector<torch::Tensor> parts;
            if (embeds_) {
                if (!batch.xCat.defined() || batch.xCat.dim() != 2 || batch.xCat.size(1) != int64_t(embeds_->size()))
                    throw RuntimeError("mlp expects " + std::to_string(embeds_->size()) +
                                       " categorical columns in each batch");
                for (size_t i = 0; i < embeds_->size(); ++i)
                    parts.push_back(embeds_->ptr(i)->as<nn::Embedding>()->forward(batch.xCat.select(1, int64_t(i))));
            }
            if (inputs_ > 0) {
                if (batch.x.dim() != 2 || batch.x.size(1) != inputs_)
                    throw RuntimeError("mlp expects " + std::to_string(inputs_) + " continuous columns, but got " +
                                       shapeText(batch.x.sizes()));
                parts.push_back(batch.x);
            }
            x = torch::cat(parts, 1);
        }
        return layers_->is_empty() ? x : layers_->forward(x);
    }
    int64_t features() const override { return width_; }
    bool spatial() const override { return false; }
    std::string builtinName() const override { return "mlp"; }

private:
    bool tabular_;
    int64_t inputs_;
    int64_t width_ = 0;
    nn::ModuleList embeds_{nullptr};
    nn::Sequential layers_{nullptr};
};

}  // namespace

static std::shared_ptr<Backbone> makeMlp(const Value& call, const DataInfo& info) {
    bool tabular = info.input == "tabular";
    int64_t inputs = 0;
    if (tabular) {
        inputs = info.continuous;
    } else {
        if (info.itemShape.empty())
            throw RuntimeError("mlp needs images of one size; add `resize(...)` to the item transforms");
        inputs = 1;
        for (int64_t d : info.itemShape) inputs *= d;
    }
    return std::make_shared<Mlp>(tabular, inputs, tabular ? info.cardinalities : std::vector<int64_t>{},
                                 intsArg(call, "hidden"), stringArg(call, "activation"), numberArg(call, "dropout"));
}
const BackboneMakers::Add kMlp{"mlp", makeMlp};

}  // namespace pipelang::runtime::models
