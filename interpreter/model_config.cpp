#include "interpreter/model_config.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

namespace pipelang {

namespace {

using Json = nlohmann::json;

// How one family of transformers' config.json names the sizes, and what its
// arithmetic fixes that pipe's transformer builds from `arch`.
struct Family {
    const char* arch;  // pipe's `arch`
    const char *layers, *dim, *heads, *ffn, *dropout, *activation;
    int64_t tokenTypes;  // the segment embeddings' rows the weights hold
    double layerNormEps;
};

const Family kBert{"bert",
                   "num_hidden_layers",
                   "hidden_size",
                   "num_attention_heads",
                   "intermediate_size",
                   "hidden_dropout_prob",
                   "hidden_act",
                   2,
                   1e-12};
const Family kRoberta{"roberta",
                      "num_hidden_layers",
                      "hidden_size",
                      "num_attention_heads",
                      "intermediate_size",
                      "hidden_dropout_prob",
                      "hidden_act",
                      1,
                      1e-5};
const Family kDistilbert{"distilbert", "n_layers", "dim", "n_heads", "hidden_dim", "dropout", "activation", 0, 1e-12};

const Family* familyOf(const std::string& modelType) {
    if (modelType == "bert") return &kBert;
    if (modelType == "roberta" || modelType == "xlm-roberta") return &kRoberta;
    if (modelType == "distilbert") return &kDistilbert;
    return nullptr;
}

Value integer(int64_t n) {
    Value v{Value::Kind::Int};
    v.integer = n;
    v.number = double(n);
    return v;
}

Value text(const std::string& s) {
    Value v{Value::Kind::String};
    v.text = s;
    return v;
}

}  // namespace

const std::vector<std::string>& supportedModelTypes() {
    static const std::vector<std::string> types = {"bert", "distilbert", "roberta", "xlm-roberta"};
    return types;
}

ModelConfig readModelConfig(const std::filesystem::path& file) {
    const std::string where = "`" + file.string() + "`";
    std::ifstream in(file);
    if (!in) throw ModelConfigError("cannot read " + where + "; check that the model folder is complete");
    std::stringstream bytes;
    bytes << in.rdbuf();
    Json json = Json::parse(bytes.str(), nullptr, false);
    if (json.is_discarded() || !json.is_object())
        throw ModelConfigError(where + " is not a JSON object; a Hugging Face model folder's config.json is one");

    ModelConfig config;
    auto modelType = json.find("model_type");
    if (modelType == json.end() || !modelType->is_string())
        throw ModelConfigError(where + " has no `model_type`; it is not a transformers model's config.json");
    config.modelType = modelType->get<std::string>();
    const Family* family = familyOf(config.modelType);
    if (!family) {
        std::string supported;
        for (const auto& t : supportedModelTypes()) supported += (supported.empty() ? "`" : ", `") + t + "`";
        throw ModelConfigError(where + " describes a `" + config.modelType +
                               "` model; the transformer backbone builds " + supported + " models");
    }

    auto whole = [&](const char* key) -> int64_t {
        auto it = json.find(key);
        if (it == json.end())
            throw ModelConfigError(where + " has no `" + std::string(key) + "`, which a " + config.modelType +
                                   " model needs");
        if (!it->is_number_integer() || it->get<int64_t>() < 1)
            throw ModelConfigError(where + ": `" + std::string(key) + "` must be a whole number above 0, not " +
                                   it->dump());
        return it->get<int64_t>();
    };
    // What pipe's transformer does not build, named rather than loaded wrong.
    auto require = [&](const char* key, const std::string& expected, const char* why) {
        auto it = json.find(key);
        if (it == json.end()) return;
        if (!it->is_string() || it->get<std::string>() != expected)
            throw ModelConfigError(where + ": `" + std::string(key) + "` is " + it->dump() + ", but " + why);
    };
    require(family->activation, "gelu", "pipe's transformer uses `gelu` (as BERT does)");
    require("position_embedding_type", "absolute", "pipe's transformer learns absolute positions");
    if (auto it = json.find("type_vocab_size"); it != json.end() && family->tokenTypes > 0 &&
                                                (!it->is_number_integer() || it->get<int64_t>() != family->tokenTypes))
        throw ModelConfigError(where + ": `type_vocab_size` is " + it->dump() + ", but a " + config.modelType +
                               " model has " + std::to_string(family->tokenTypes));
    if (auto it = json.find("layer_norm_eps");
        it != json.end() &&
        (!it->is_number() || std::abs(it->get<double>() - family->layerNormEps) > family->layerNormEps * 1e-3))
        throw ModelConfigError(where + ": `layer_norm_eps` is " + it->dump() + ", but pipe's " + family->arch +
                               " uses " + Json(family->layerNormEps).dump());
    if (family == &kDistilbert)
        if (auto it = json.find("sinusoidal_pos_embds"); it != json.end() && it->is_boolean() && it->get<bool>())
            throw ModelConfigError(where + ": `sinusoidal_pos_embds` is true; pipe's distilbert learns its positions");

    auto set = [&](const char* param, const char* key, Value v) { config.settings.push_back({param, key, v}); };
    set("arch", "model_type", text(family->arch));
    set("layers", family->layers, integer(whole(family->layers)));
    set("dim", family->dim, integer(whole(family->dim)));
    set("heads", family->heads, integer(whole(family->heads)));
    set("ffn", family->ffn, integer(whole(family->ffn)));
    set("vocab", "vocab_size", integer(whole("vocab_size")));
    set("max_positions", "max_position_embeddings", integer(whole("max_position_embeddings")));
    if (auto it = json.find(family->dropout); it != json.end() && it->is_number()) {
        Value dropout{Value::Kind::Float};
        dropout.number = it->get<double>();
        if (dropout.number < 0 || dropout.number > 1)
            throw ModelConfigError(where + ": `" + std::string(family->dropout) + "` must be from 0 to 1, not " +
                                   it->dump());
        set("dropout", family->dropout, dropout);
    }
    // Every family here is BERT's post-norm arithmetic over learned positions.
    set("norm", "model_type", text("post"));
    set("positions", "model_type", text("learned"));
    return config;
}

}  // namespace pipelang
