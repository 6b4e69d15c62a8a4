// The stages of a Hugging Face tokenizer, as tokenizer.json names them:
// normalizer, pre-tokenizer, model, post-processor, decoder. Each is made
// from its JSON object by a make* function that knows the types it supports
// and refuses any other with one sentence naming the file.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizers/hf_tokenizer.h"

namespace pipelang::tokenizers {

// Where a component came from, for the messages: "tokenizer.json's normalizer".
struct Source {
    std::string file;
    [[noreturn]] void fail(const std::string& what) const;
    // `kind` "normalizer": refuses `type` and lists `supported`.
    [[noreturn]] void unsupported(const std::string& kind, const std::string& type, const std::string& supported) const;
    // A token id as Hugging Face's tokenizers reads one (a u32): a whole
    // number from 0 to 2^32-1, else one message naming `what` it is.
    int64_t id(const nlohmann::json& value, const std::string& what) const;
};

// A piece of text between pre-tokenizer splits; `atStart` when it begins the
// whole text (Metaspace's prepend_scheme "first" prepends only there).
struct Piece {
    std::string text;
    bool atStart = false;
};

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual std::string normalize(std::string text) const = 0;
};

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    virtual void split(std::vector<Piece>& pieces) const = 0;
};

class Model {
public:
    virtual ~Model() = default;
    virtual void tokenize(const std::string& word, std::vector<int64_t>& ids) const = 0;
    virtual std::optional<int64_t> id(std::string_view token) const = 0;
    virtual std::optional<std::string> token(int64_t id) const = 0;
    virtual int64_t size() const = 0;
    virtual std::optional<std::string> unkToken() const = 0;
};

class Decoder {
public:
    virtual ~Decoder() = default;
    virtual std::vector<std::string> decodeChain(std::vector<std::string> tokens) const = 0;
};

// Every post-processor, for one sequence, comes down to a template: special
// tokens' ids around the sequence's.
struct Template {
    struct Item {
        bool sequence = false;
        std::vector<int64_t> ids;  // a special token's (one or more)
        std::string token;         // its name
    };
    std::vector<Item> items{Item{true, {}, {}}};
};

std::unique_ptr<Normalizer> makeNormalizer(const nlohmann::json& j, const Source& source);
std::unique_ptr<PreTokenizer> makePreTokenizer(const nlohmann::json& j, const Source& source);
std::unique_ptr<Model> makeModel(const nlohmann::json& j, const Source& source);
std::unique_ptr<Decoder> makeDecoder(const nlohmann::json& j, const Source& source);
Template makeTemplate(const nlohmann::json& j, const Source& source);

// The pipelines of the files that come without tokenizer.json.
std::unique_ptr<Normalizer> bertNormalizer(bool lowercase);
std::unique_ptr<PreTokenizer> bertPreTokenizer();
std::unique_ptr<PreTokenizer> byteLevelPreTokenizer(bool addPrefixSpace);
std::unique_ptr<Model> wordPiece(std::vector<std::pair<std::string, int64_t>> vocab, std::string unk,
                                 const Source& source);
std::unique_ptr<Model> byteLevelBpe(std::vector<std::pair<std::string, int64_t>> vocab,
                                    std::vector<std::pair<std::string, std::string>> merges, const Source& source);
std::unique_ptr<Decoder> wordPieceDecoder();
// GPT-2's bytes_to_unicode: the character that stands for each byte in byte-level vocabularies.
const std::array<std::string, 256>& byteLevelAlphabet();
std::unique_ptr<Decoder> byteLevelDecoder();

// Small helpers over JSON objects.
std::string typeOf(const nlohmann::json& j, const std::string& kind, const Source& source);
template <class T>
T get(const nlohmann::json& j, const char* key, T fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    return it->get<T>();
}

}  // namespace pipelang::tokenizers
