// A transformer encoder over token embeddings, with Hugging Face BERT's
// module layout, so a BertModel's state dict saved as safetensors loads by
// name: embeddings.{word,position,token_type}_embeddings, embeddings.LayerNorm,
// encoder.layer.N.attention.self.{query,key,value},
// encoder.layer.N.attention.output.{dense,LayerNorm},
// encoder.layer.N.intermediate.dense, encoder.layer.N.output.{dense,LayerNorm}.
// `norm = "post"` is BERT's arithmetic; `pre` normalises before each
// sub-layer (the same LayerNorms) and adds encoder.LayerNorm at the end.
// `causal = true` lets each position attend to itself and earlier ones only.
// `arch` follows BERT's relatives: RoBERTa's arithmetic differs in its
// position ids, segments and layer norm eps; DistilBERT's only in its names
// (mapped onto these when its weights load) and having no segments.
#include <cmath>
#include <regex>

#include "runtime/error.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime::models {

namespace {

namespace nn = torch::nn;

constexpr int64_t kPositions = 512;  // BERT's max_position_embeddings

// What `arch` changes. RoBERTa counts positions from padding_idx + 1 = 2
// (transformers' create_position_ids_from_input_ids) and has one segment.
struct Arch {
    std::string name;
    int64_t segments = 2;
    int64_t firstPosition = 0;
    double layerNormEps = 1e-12;
};

Arch archNamed(const std::string& name) {
    if (name == "roberta") return {name, 1, 2, 1e-5};
    if (name == "distilbert") return {name, 0, 0, 1e-12};
    return {"bert", 2, 0, 1e-12};
}

nn::LayerNorm layerNorm(int64_t dim, double eps) {
    return nn::LayerNorm(nn::LayerNormOptions({dim}).eps(eps));
}

// LibTorch 1.13's CPU autocast leaves layer_norm alone, which then refuses a
// bfloat16 input with float32 weights: normalise in float32, as autocast
// does on GPUs.
torch::Tensor normalise(nn::LayerNorm& norm, const torch::Tensor& x) {
    return norm->forward(x.scalar_type() == torch::kFloat32 ? x : x.to(torch::kFloat32));
}

// A module that only groups others, so that names nest as in BERT.
struct Group : nn::Module {};

struct SelfAttention : nn::Module {
    SelfAttention(int64_t dim) {
        query = register_module("query", nn::Linear(dim, dim));
        key = register_module("key", nn::Linear(dim, dim));
        value = register_module("value", nn::Linear(dim, dim));
    }
    nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
};

struct DenseNorm : nn::Module {  // attention.output and output: dense, LayerNorm
    DenseNorm(int64_t in, int64_t out, double eps) {
        dense = register_module("dense", nn::Linear(in, out));
        LayerNorm = register_module("LayerNorm", layerNorm(out, eps));
    }
    nn::Linear dense{nullptr};
    nn::LayerNorm LayerNorm{nullptr};
};

class Block : public nn::Module {
public:
    Block(int64_t dim, int64_t heads, int64_t ffn, double dropout, bool preNorm, double eps)
        : heads_(heads), preNorm_(preNorm) {
        auto attention = register_module("attention", std::make_shared<Group>());
        self_ = attention->register_module("self", std::make_shared<SelfAttention>(dim));
        attentionOut_ = attention->register_module("output", std::make_shared<DenseNorm>(dim, dim, eps));
        auto intermediate = register_module("intermediate", std::make_shared<Group>());
        intermediate_ = intermediate->register_module("dense", nn::Linear(dim, ffn));
        output_ = register_module("output", std::make_shared<DenseNorm>(ffn, dim, eps));
        dropout_ = register_module("dropout", nn::Dropout(dropout));
    }

    // x {B, T, C}; `blocked` bool {B or 1, 1 or T, T}: true where a query may
    // not look at a key (padding, the future); undefined when all may.
    torch::Tensor forward(torch::Tensor x, const torch::Tensor& blocked) {
        auto attend = [&](const torch::Tensor& in) {
            return dropout_->forward(attentionOut_->dense->forward(attention(in, blocked)));
        };
        auto feedForward = [&](const torch::Tensor& in) {
            return dropout_->forward(output_->dense->forward(torch::gelu(intermediate_->forward(in))));
        };
        if (preNorm_) {
            x = x + attend(normalise(attentionOut_->LayerNorm, x));
            return x + feedForward(normalise(output_->LayerNorm, x));
        }
        x = normalise(attentionOut_->LayerNorm, x + attend(x));
        return normalise(output_->LayerNorm, x + feedForward(x));
    }

private:
    torch::Tensor attention(const torch::Tensor& x, const torch::Tensor& blocked) {
        int64_t b = x.size(0), t = x.size(1), c = x.size(2), d = c / heads_;
        auto split = [&](const torch::Tensor& y) { return y.view({b, t, heads_, d}).transpose(1, 2); };
        torch::Tensor q = split(self_->query->forward(x));
        torch::Tensor k = split(self_->key->forward(x));
        torch::Tensor v = split(self_->value->forward(x));
        // Scores and softmax in float32, also under bf16 autocast: the masked
        // entries' large negative value and the normalisation need the range.
        torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)).to(torch::kFloat32) / std::sqrt(double(d));
        if (blocked.defined()) scores = scores.masked_fill(blocked.unsqueeze(1), -1e9);
        torch::Tensor probs = dropout_->forward(scores.softmax(-1)).to(v.scalar_type());
        return torch::matmul(probs, v).transpose(1, 2).reshape({b, t, c});
    }

    int64_t heads_;
    bool preNorm_;
    std::shared_ptr<SelfAttention> self_;
    std::shared_ptr<DenseNorm> attentionOut_, output_;
    nn::Linear intermediate_{nullptr};
    nn::Dropout dropout_{nullptr};
};

// Vaswani et al.'s sinusoidal position encodings {length, dim}.
torch::Tensor sinusoids(int64_t length, int64_t dim, const torch::TensorOptions& options) {
    torch::Tensor position = torch::arange(length, options).unsqueeze(1);
    torch::Tensor rate = torch::exp(torch::arange(0, dim, 2, options) * (-std::log(10000.0) / double(dim)));
    torch::Tensor table = torch::zeros({length, dim}, options);
    table.slice(1, 0, dim, 2) = torch::sin(position * rate);
    table.slice(1, 1, dim, 2) = torch::cos(position * rate).narrow(1, 0, dim / 2);
    return table;
}

class Transformer : public Backbone {
public:
    // Over a series (`columns` > 0) each step's columns are mapped to `dim`
    // by `embeddings.value_embeddings`, in place of the token embedding.
    Transformer(Arch arch, int64_t vocab, int64_t columns, int64_t layers, int64_t dim, int64_t heads, int64_t ffn,
                double dropout, bool preNorm, bool learnedPositions, bool causal, int64_t positions)
        : arch_(std::move(arch)), dim_(dim), positions_(positions), causal_(causal), preNorm_(preNorm) {
        auto embeddings = register_module("embeddings", std::make_shared<Group>());
        if (columns > 0)
            values_ = embeddings->register_module("value_embeddings", nn::Linear(columns, dim));
        else
            words_ = embeddings->register_module("word_embeddings", nn::Embedding(vocab, dim));
        if (learnedPositions)
            positionTable_ = embeddings->register_module("position_embeddings", nn::Embedding(positions, dim));
        // BERT's segment embeddings: one segment here (type 0), kept so that
        // BERT checkpoints load whole.
        if (arch_.segments > 0)
            types_ = embeddings->register_module("token_type_embeddings", nn::Embedding(arch_.segments, dim));
        embeddingNorm_ = embeddings->register_module("LayerNorm", layerNorm(dim, arch_.layerNormEps));
        dropout_ = register_module("dropout", nn::Dropout(dropout));
        auto encoder = register_module("encoder", std::make_shared<Group>());
        layers_ = encoder->register_module("layer", nn::ModuleList());
        for (int64_t i = 0; i < layers; ++i)
            layers_->push_back(std::make_shared<Block>(dim, heads, ffn, dropout, preNorm, arch_.layerNormEps));
        if (preNorm) finalNorm_ = encoder->register_module("LayerNorm", layerNorm(dim, arch_.layerNormEps));
        // BERT's initialisation: N(0, 0.02) weights, zero biases.
        torch::NoGradGuard noGrad;
        for (auto& p : named_parameters()) {
            if (p.key().find("LayerNorm") != std::string::npos) continue;
            if (p.key().ends_with(".bias"))
                p.value().zero_();
            else
                p.value().normal_(0, 0.02);
        }
    }

    torch::Tensor forward(const Batch& batch) override {
        if (values_)
            expectSeriesWindows(batch, "transformer", values_->weight.size(1));
        else
            expectTokenIds(batch, "transformer");
        int64_t t = batch.x.size(1);
        if (t > positions_ - arch_.firstPosition)
            throw RuntimeError("`transformer` encodes at most " + std::to_string(positions_ - arch_.firstPosition) +
                               " positions, but a batch has " + std::to_string(t) + " tokens; shorten the texts");
        torch::Tensor x = values_ ? values_->forward(batch.x) : words_->forward(batch.x);
        if (types_) x = x + types_->weight[0];
        if (positionTable_)
            x = x + positionTable_->weight.narrow(0, arch_.firstPosition, t);
        else
            x = x + sinusoids(t, dim_, x.options().dtype(torch::kFloat32));
        x = dropout_->forward(normalise(embeddingNorm_, x));

        torch::Tensor blocked;  // {B or 1, T or 1, T}
        if (batch.mask.defined()) blocked = batch.mask.logical_not().unsqueeze(1);
        if (causal_) {
            torch::Tensor future =
                torch::ones({t, t}, torch::TensorOptions().dtype(torch::kBool).device(x.device())).triu(1).unsqueeze(0);
            blocked = blocked.defined() ? blocked.logical_or(future) : future;
        }
        for (const auto& layer : *layers_) x = layer->as<Block>()->forward(x, blocked);
        return finalNorm_ ? normalise(finalNorm_, x) : x;
    }
    int64_t features() const override { return dim_; }
    bool spatial() const override { return false; }
    std::string builtinName() const override { return "transformer"; }
    torch::Tensor tokenEmbedding() const override { return words_ ? words_->weight : torch::Tensor(); }
    // A BertModel's file also holds its pooler (a tanh layer over [CLS], a
    // head here) and, from transformers before 4.31, the constant position_ids.
    bool ignoresWeight(const std::string& name) const override {
        return name.starts_with("pooler.") || name == "embeddings.position_ids" || name == "embeddings.token_type_ids";
    }
    // DistilBERT's layers (`transformer.layer.N.attention.q_lin`, ...) are
    // BERT's under other names.
    std::string weightName(const std::string& name) const override {
        if (arch_.name != "distilbert") return name;
        static const std::regex layer(R"((^|\.)transformer\.layer\.(\d+)\.(.*)$)");
        static const std::vector<std::pair<std::string, std::string>> parts = {
            {"attention.q_lin.", "attention.self.query."},
            {"attention.k_lin.", "attention.self.key."},
            {"attention.v_lin.", "attention.self.value."},
            {"attention.out_lin.", "attention.output.dense."},
            {"sa_layer_norm.", "attention.output.LayerNorm."},
            {"ffn.lin1.", "intermediate.dense."},
            {"ffn.lin2.", "output.dense."},
            {"output_layer_norm.", "output.LayerNorm."},
        };
        std::smatch m;
        if (!std::regex_search(name, m, layer)) return name;
        std::string rest = m[3];
        for (const auto& [theirs, ours] : parts)
            if (rest.starts_with(theirs)) {
                rest = ours + rest.substr(theirs.size());
                break;
            }
        return name.substr(0, size_t(m.position(0))) + m[1].str() + "encoder.layer." + m[2].str() + "." + rest;
    }

private:
    Arch arch_;
    int64_t dim_, positions_;
    bool causal_, preNorm_;
    nn::Embedding words_{nullptr}, positionTable_{nullptr}, types_{nullptr};
    nn::Linear values_{nullptr};
    nn::LayerNorm embeddingNorm_{nullptr}, finalNorm_{nullptr};
    nn::Dropout dropout_{nullptr};
    nn::ModuleList layers_{nullptr};
};

}  // namespace

static std::shared_ptr<Backbone> makeTransformer(const Value& call, const DataInfo& info) {
    int64_t dim = intArg(call, "dim"), heads = intArg(call, "heads");
    if (dim % heads != 0)
        throw RuntimeError("`transformer` splits `dim` among its heads, but dim = " + std::to_string(dim) +
                           " is not a multiple of heads = " + std::to_string(heads));
    int64_t ffn = 4 * dim;
    if (const Value* f = call.arg("ffn"); f && f->kind == Value::Kind::Int) ffn = f->integer;
    bool causal = boolArg(call, "causal");
    if (info.input == "tokens" && !causal)
        throw RuntimeError("a language model must not see the tokens it predicts: write `transformer(causal = true)`");
    Arch arch = archNamed(stringArg(call, "arch"));
    const bool series = info.input == "series";
    // A pretrained model's embedding may hold more rows than its tokenizer
    // uses, never fewer.
    int64_t vocab = series ? 0 : vocabOf(info, "transformer");
    if (const Value* v = call.arg("vocab"); v && v->kind == Value::Kind::Int) {
        if (vocab > v->integer)
            throw RuntimeError("the tokenizer has " + std::to_string(vocab) + " tokens, but the transformer's " +
                               "embedding holds " + std::to_string(v->integer) +
                               " (`vocab`); use the tokenizer the model was trained with");
        vocab = v->integer;
    }
    int64_t positions = std::max(kPositions, info.context) + arch.firstPosition;
    if (const Value* p = call.arg("max_positions"); p && p->kind == Value::Kind::Int) {
        if (p->integer - arch.firstPosition < info.context)
            throw RuntimeError("the data's texts are up to " + std::to_string(info.context) +
                               " tokens, but the transformer has " + std::to_string(p->integer - arch.firstPosition) +
                               " positions (`max_positions`); lower `max_len`");
        positions = p->integer;
    }
    return std::make_shared<Transformer>(arch, vocab, series ? info.itemShape.at(1) : 0, intArg(call, "layers"), dim,
                                         heads, ffn, numberArg(call, "dropout"), stringArg(call, "norm") == "pre",
                                         stringArg(call, "positions") == "learned", causal, positions);
}
const BackboneMakers::Add kTransformer{"transformer", makeTransformer};

}  // namespace pipelang::runtime::models
