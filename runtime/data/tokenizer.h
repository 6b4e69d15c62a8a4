// The `tokenizer` block: a sentencepiece model (Kudo & Richardson 2018),
// trained on a training split's text or loaded from a `.model` file. Trained
// models put the special tokens at the fixed ids of text_data.h (pad 0, unk
// 1, bos 2, eos 3, cls 4); a loaded one must have pad, unk, bos and eos at
// those ids too, so every text block reads ids the same way.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace pipelang::runtime {

class SentencepieceEngine;

struct TokenizerOptions {
    std::string kind = "unigram";  // unigram, bpe, char, word
    int64_t vocab = 8000;          // special tokens included
    double characterCoverage = 0.9995;
    std::string normalization = "nmt_nfkc";
    bool byteFallback = false;
    bool splitDigits = false;
    int64_t maxSentences = 0;  // 0: all
    std::vector<std::string> specials = {"<pad>", "<unk>", "<s>", "</s>", "<cls>"};
};

class Tokenizer {
public:
    ~Tokenizer();
    // Trains on `texts` (the training split's). `name` is the block's, for
    // messages. Throws RuntimeError when the vocabulary cannot hold the
    // special tokens or does not fit the text.
    static std::shared_ptr<Tokenizer> train(const std::vector<std::string>& texts, const TokenizerOptions& options,
                                            uint64_t seed, const std::string& name);
    // Loads a `.model` file; a file that is not one is a RuntimeError naming it.
    static std::shared_ptr<Tokenizer> load(const std::filesystem::path& path);

    void save(const std::filesystem::path& path) const;
    int64_t size() const;
    std::vector<int64_t> encode(const std::string& text) const;
    std::string decode(const std::vector<int64_t>& ids) const;
    std::string piece(int64_t id) const;

private:
    Tokenizer();
    std::unique_ptr<SentencepieceEngine> engine_;
    std::string serialized_;
};

}  // namespace pipelang::runtime
