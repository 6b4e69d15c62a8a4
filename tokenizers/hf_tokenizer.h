// Hugging Face tokenizers without Python or LibTorch: reads the files a
// model on the Hub comes with and encodes text to the ids Hugging Face's
// `tokenizers` library gives (tests/unit/hf_tokenizer_test.cpp checks that
// against the library itself).
//
//   auto tok = HfTokenizer::load("bert-base-uncased/");   // a folder, or one of its files
//   std::vector<int64_t> ids = tok->encode("Hello world");  // [CLS] hello world [SEP]
//
// Files read, in this order of preference when given a folder:
//   tokenizer.json           the library's own serialisation: models WordPiece, BPE (byte-level
//                            included), Unigram and WordLevel, with their normalizers,
//                            pre-tokenizers, post-processors, decoders and added tokens
//   vocab.txt                a BERT WordPiece vocabulary: BERT's pipeline, lowercased unless a
//                            tokenizer_config.json beside it says "do_lower_case": false
//   vocab.json + merges.txt  a GPT-2/RoBERTa byte-level BPE; <s> $A </s> when both are in the vocab
// The special tokens of vocab.txt and vocab.json ([PAD] [UNK] [CLS] [SEP] [MASK]; <s> <pad> </s>
// <unk> <mask> <|endoftext|>) that are in the vocabulary are added as special tokens, matched
// in the text as written, as transformers' fast tokenizers do.
//
// What is not supported is refused when loading, with one sentence naming the
// file and the component (e.g. normalizer "Nmt"): regular expressions other
// than GPT-2's split pattern (Split) and " {2,}" (Replace), BPE dropout, the
// Nmt normalizer, the CTC decoder. Offsets, type ids, pairs of sequences,
// truncation and padding are the caller's business: encode gives ids only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pipelang::tokenizers {

// One sentence for the user: which file, what is wrong or unsupported, what is supported.
struct TokenizerError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Normalizer;
class PreTokenizer;
class Model;
class Decoder;
struct Template;

class HfTokenizer {
public:
    // A tokenizer.json, vocab.txt or vocab.json (merges.txt beside it), or a folder holding one.
    static std::unique_ptr<HfTokenizer> load(const std::filesystem::path& fileOrFolder);
    // The file load() reads from `folder`, in its order of preference; empty when it holds none.
    static std::filesystem::path fileIn(const std::filesystem::path& folder);
    ~HfTokenizer();

    // The ids of `text` (UTF-8; bytes that are not become U+FFFD), with the
    // post-processor's special tokens when `addSpecialTokens`. Safe to call from several threads.
    std::vector<int64_t> encode(const std::string& text, bool addSpecialTokens = true) const;
    // What the post-processor's single-sequence template puts around `ids`.
    std::vector<int64_t> addSpecialTokens(const std::vector<int64_t>& ids) const;
    // How many ids addSpecialTokens adds: truncate a text's ids to max_len minus this, then add them.
    int64_t specialTokensAdded() const;
    std::string decode(const std::vector<int64_t>& ids, bool skipSpecialTokens = true) const;

    int64_t size() const;                 // the vocabulary with the added tokens (get_vocab_size(true))
    std::string token(int64_t id) const;  // empty when no token has the id
    std::optional<int64_t> id(const std::string& token) const;

    // The ids a model needs, -1 when absent: pad from the file's "padding"
    // section, else [PAD] or <pad>; unk the model's; cls the template's
    // classification token (its first special, or the last when the template
    // ends with two, XLNet's way), else [CLS] or <s>; sep the special after
    // the sequence, else [SEP] or </s>; mask [MASK] or <mask>.
    struct Specials {
        int64_t pad = -1, unk = -1, cls = -1, sep = -1, mask = -1;
    };
    Specials specials() const;
    // Where the classification token is in an encoded sequence: 0 (BERT, RoBERTa) or -1 (last, XLNet).
    int64_t clsPosition() const;

    struct AddedToken {
        std::string content;
        int64_t id = 0;
        bool special = false, singleWord = false, lstrip = false, rstrip = false, normalized = false;
    };

private:
    HfTokenizer();
    static std::unique_ptr<HfTokenizer> fromJson(const std::filesystem::path& file);
    static std::unique_ptr<HfTokenizer> fromVocabTxt(const std::filesystem::path& file);
    static std::unique_ptr<HfTokenizer> fromVocabJson(const std::filesystem::path& file);
    void addTokens(std::vector<AddedToken> tokens);

    struct Matcher;  // finds added tokens in a text
    std::unique_ptr<Normalizer> normalizer_;
    std::unique_ptr<PreTokenizer> preTokenizer_;
    std::unique_ptr<Model> model_;
    std::unique_ptr<Template> template_;
    std::unique_ptr<Decoder> decoder_;
    std::vector<AddedToken> added_;
    std::unique_ptr<Matcher> raw_, normalized_;
    std::optional<int64_t> padId_;
};

}  // namespace pipelang::tokenizers
