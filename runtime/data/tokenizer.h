// The `tokenizer` block's tokenizers. Two kinds:
// - sentencepiece (Kudo & Richardson 2018), trained on a training split's
//   text or loaded from a `.model` file. Trained ones put the special tokens
//   at the ids of text_data.h's SpecialIds (pad 0, unk 1, bos 2, eos 3, cls 4);
//   a loaded one keeps the ids it has.
// - Hugging Face's, loaded from what a model on the Hub comes with:
//   tokenizer.json, vocab.txt, vocab.json + merges.txt, or a folder holding
//   them (tokenizers/hf_tokenizer.h). Their special tokens are the file's,
//   and a classifier's text gets them as the model was trained with
//   ([CLS] ... [SEP], <s> ... </s>).
// Text blocks read every special id from here, never assume them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace pipelang::runtime {

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

// A tokenizer's special ids; -1 where it has none.
struct TokenIds {
    int64_t pad = -1, unk = -1, bos = -1, eos = -1, cls = -1;
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    // Trains a sentencepiece model on `texts` (the training split's). `name`
    // is the block's, for messages. Throws RuntimeError when the vocabulary
    // cannot hold the special tokens or does not fit the text.
    static std::shared_ptr<Tokenizer> train(const std::vector<std::string>& texts, const TokenizerOptions& options,
                                            uint64_t seed, const std::string& name);
    // A sentencepiece `.model` file, or Hugging Face's files (a tokenizer.json,
    // vocab.txt or vocab.json, or a folder holding one). A file that is none
    // of these is a RuntimeError naming it.
    static std::shared_ptr<Tokenizer> load(const std::filesystem::path& path);
    // What save() wrote into `dir`, or "" when it holds no tokenizer.
    static std::filesystem::path savedIn(const std::filesystem::path& dir);

    // Writes the tokenizer's files into `dir`; returns the one load() takes.
    virtual std::filesystem::path save(const std::filesystem::path& dir) const = 0;
    virtual int64_t size() const = 0;
    // The ids of the text alone, no special tokens.
    virtual std::vector<int64_t> encode(const std::string& text) const = 0;
    // The ids a classifier reads: the text's, cut so that with the special
    // tokens the model expects around them there are at most `maxLen`; `cut`
    // is set when the text lost tokens.
    virtual std::vector<int64_t> encodeForModel(const std::string& text, int64_t maxLen, bool* cut) const = 0;
    virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
    virtual std::string piece(int64_t id) const = 0;
    virtual TokenIds specials() const = 0;
    // Where encodeForModel puts the classification token: 0, or -1 for the
    // last real token; `pool = "cls"` reads it there.
    virtual int64_t clsPosition() const { return 0; }
    // The library that does the work, for the run record ("sentencepiece").
    virtual std::string kind() const = 0;
};

// A Hugging Face tokenizer's files (tokenizers/hf_tokenizer.h), in hf_tokenizer.cpp.
std::shared_ptr<Tokenizer> loadHuggingFaceTokenizer(const std::filesystem::path& path);

}  // namespace pipelang::runtime
