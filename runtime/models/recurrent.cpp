// Backbones over token ids that are not transformers: Bengio et al.'s 2003
// neural language model (`embedding_mlp`) and recurrent networks (`lstm`,
// `gru`). Names: embedding.weight, hidden.weight (embedding_mlp);
// embedding.weight, rnn.weight_ih_l0, ... (PyTorch's nn.LSTM / nn.GRU names).
#include "runtime/error.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace {

namespace nn = torch::nn;

// The last `context` embeddings of each window, joined, through one tanh
// layer: {B, hidden}, one prediction per window (the next token after it).
class EmbeddingMlp : public Backbone {
public:
    EmbeddingMlp(int64_t vocab, int64_t dim, int64_t hidden, int64_t context) : context_(context), hidden_(hidden) {
        embedding_ = register_module("embedding", nn::Embedding(vocab, dim));
        layer_ = register_module("hidden", nn::Linear(context * dim, hidden));
    }
    torch::Tensor forward(const Batch& batch) override {
        expectTokenIds(batch, "embedding_mlp");
        int64_t length = batch.x.size(1);
        if (length < context_)
            throw RuntimeError("`embedding_mlp` sees " + std::to_string(context_) + " tokens, but the windows have " +
                               std::to_string(length) + "; set `context` to at most the data's context");
        torch::Tensor ids = batch.x.narrow(1, length - context_, context_);
        return torch::tanh(layer_->forward(embedding_->forward(ids).flatten(1)));
    }
    int64_t features() const override { return hidden_; }
    bool spatial() const override { return false; }
    std::string builtinName() const override { return "embedding_mlp"; }
    bool fixedWindow() const override { return true; }
    torch::Tensor tokenEmbedding() const override { return embedding_->weight; }

private:
    int64_t context_, hidden_;
    nn::Embedding embedding_{nullptr};
    nn::Linear layer_{nullptr};
};

// An embedding then stacked LSTM or GRU layers: {B, T, dim × directions}.
// Text batches are packed by their masks, so padding never reaches the
// backward direction nor the states of real tokens. Over a series (`columns`
// > 0) the `embedding` is a linear map of each step's columns to `dim`.
template <typename Rnn, typename Options>
class Recurrent : public Backbone {
public:
    Recurrent(const char* name, int64_t vocab, int64_t columns, int64_t dim, int64_t layers, bool bidirectional,
              double dropout)
        : name_(name), features_(dim * (bidirectional ? 2 : 1)) {
        if (columns > 0)
            steps_ = register_module("embedding", nn::Linear(columns, dim));
        else
            embedding_ = register_module("embedding", nn::Embedding(vocab, dim));
        rnn_ = register_module("rnn", Rnn(Options(dim, dim)
                                              .num_layers(layers)
                                              .bidirectional(bidirectional)
                                              .batch_first(true)
                                              .dropout(layers > 1 ? dropout : 0.0)));
    }
    torch::Tensor forward(const Batch& batch) override {
        if (steps_) {
            expectSeriesWindows(batch, name_, steps_->weight.size(1));
            return std::get<0>(rnn_->forward(steps_->forward(batch.x)));
        }
        expectTokenIds(batch, name_);
        torch::Tensor x = embedding_->forward(batch.x);
        if (!batch.mask.defined()) return std::get<0>(rnn_->forward(x));
        torch::Tensor lengths = batch.mask.sum(1).to(torch::kCPU, torch::kInt64).clamp_min(1);
        auto packed = nn::utils::rnn::pack_padded_sequence(x, lengths, /*batch_first=*/true,
                                                           /*enforce_sorted=*/false);
        auto out = std::get<0>(rnn_->forward_with_packed_input(packed));
        return std::get<0>(nn::utils::rnn::pad_packed_sequence(out, /*batch_first=*/true, /*padding_value=*/0.0,
                                                               /*total_length=*/batch.x.size(1)));
    }
    int64_t features() const override { return features_; }
    bool spatial() const override { return false; }
    std::string builtinName() const override { return name_; }
    torch::Tensor tokenEmbedding() const override { return embedding_ ? embedding_->weight : torch::Tensor(); }

private:
    const char* name_;
    int64_t features_;
    nn::Embedding embedding_{nullptr};
    nn::Linear steps_{nullptr};
    Rnn rnn_{nullptr};
};

template <typename Rnn, typename Options>
std::shared_ptr<Backbone> makeRecurrent(const char* name, const Value& call, const DataInfo& info) {
    bool bidirectional = boolArg(call, "bidirectional");
    if (bidirectional && info.input == "tokens")
        throw RuntimeError(std::string("a bidirectional `") + name +
                           "` sees the tokens it must predict; a language model reads one way: set "
                           "`bidirectional = false`");
    if (info.input == "series")  // the window is all past: reading it both ways leaks nothing
        return std::make_shared<Recurrent<Rnn, Options>>(name, 0, info.itemShape.at(1), intArg(call, "dim"),
                                                         intArg(call, "layers"), bidirectional,
                                                         numberArg(call, "dropout"));
    return std::make_shared<Recurrent<Rnn, Options>>(name, vocabOf(info, name), 0, intArg(call, "dim"),
                                                     intArg(call, "layers"), bidirectional, numberArg(call, "dropout"));
}

}  // namespace

int64_t vocabOf(const DataInfo& info, const char* builtin) {
    if (info.vocab < 1)
        throw RuntimeError(std::string("`") + builtin + "` reads token ids, but the data has no vocabulary; use a " +
                           "`text`, `chars` or `tokens` block");
    return info.vocab;
}

void expectTokenIds(const Batch& batch, const char* builtin) {
    if (batch.x.dim() != 2 || batch.x.scalar_type() != torch::kInt64)
        throw RuntimeError(std::string("`") + builtin + "` reads int64 token ids {batch, length}, but got " +
                           shapeText(batch.x.sizes()) + " of " + std::string(c10::toString(batch.x.scalar_type())));
}

void expectSeriesWindows(const Batch& batch, const char* builtin, int64_t columns) {
    if (batch.x.dim() != 3 || batch.x.size(2) != columns || batch.x.scalar_type() != torch::kFloat32)
        throw RuntimeError(std::string("`") + builtin + "` reads a series' windows, float32 {batch, lookback, " +
                           std::to_string(columns) + "}, but got " + shapeText(batch.x.sizes()) + " of " +
                           std::string(c10::toString(batch.x.scalar_type())));
}

static std::shared_ptr<Backbone> makeEmbeddingMlp(const Value& call, const DataInfo& info) {
    int64_t context = info.context;
    if (const Value* c = call.arg("context"); c && c->kind == Value::Kind::Int) context = c->integer;
    if (context < 1)
        throw RuntimeError(
            "`embedding_mlp` needs to know how many tokens it sees: give `context = N`, or use a "
            "`chars(context = N)` or `tokens(context = N)` block");
    return std::make_shared<EmbeddingMlp>(vocabOf(info, "embedding_mlp"), intArg(call, "dim"), intArg(call, "hidden"),
                                          context);
}
const BackboneMakers::Add kEmbeddingMlp{"embedding_mlp", makeEmbeddingMlp};

static std::shared_ptr<Backbone> makeLstm(const Value& call, const DataInfo& info) {
    return makeRecurrent<nn::LSTM, nn::LSTMOptions>("lstm", call, info);
}
const BackboneMakers::Add kLstm{"lstm", makeLstm};

static std::shared_ptr<Backbone> makeGru(const Value& call, const DataInfo& info) {
    return makeRecurrent<nn::GRU, nn::GRUOptions>("gru", call, info);
}
const BackboneMakers::Add kGru{"gru", makeGru};

}  // namespace pipelang::runtime::models
