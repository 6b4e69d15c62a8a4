#include "runtime/data/tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "runtime/data/random.h"
#include "runtime/data/sentencepiece_engine.h"
#include "runtime/data/text_data.h"
#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

// The module beside the running program (installed), else where the build put it.
void* openModule() {
    static std::once_flag once;
    static void* module = nullptr;
    static std::string tried;
    std::call_once(once, [] {
        const int flags = RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND;
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
            self[n] = 0;
            auto beside = std::filesystem::path(self).parent_path() / "libpipe_sentencepiece.so";
            tried = beside.string();
            module = dlopen(beside.c_str(), flags);
        }
#ifdef PIPE_SENTENCEPIECE_MODULE
        if (!module) {
            tried += std::string(", ") + PIPE_SENTENCEPIECE_MODULE;
            module = dlopen(PIPE_SENTENCEPIECE_MODULE, flags);
        }
#endif
        if (!module) tried += std::string(" (") + dlerror() + ")";
    });
    if (!module)
        throw RuntimeError("the sentencepiece module libpipe_sentencepiece.so is missing (tried " + tried +
                           "); build pipe again with scripts/build.");
    return module;
}

}  // namespace

std::unique_ptr<SentencepieceEngine> makeSentencepieceEngine() {
    using Make = SentencepieceEngine* (*)();
    auto make = reinterpret_cast<Make>(dlsym(openModule(), "pipe_sentencepiece_engine"));
    if (!make) throw RuntimeError("libpipe_sentencepiece.so has no engine; build pipe again with scripts/build.");
    return std::unique_ptr<SentencepieceEngine>(make());
}

namespace {

// A sentencepiece model; the work is done in the module's engine.
class SentencepieceTokenizer : public Tokenizer {
public:
    SentencepieceTokenizer() : engine_(makeSentencepieceEngine()) {}

    std::filesystem::path save(const std::filesystem::path& dir) const override {
        const std::filesystem::path name = "tokenizer.model";
        std::ofstream out(dir / name, std::ios::binary);
        out << serialized_;
        if (!out)
            throw RuntimeError("cannot write `" + (dir / name).string() + "`; check that the run folder is writable.");
        return name;
    }
    int64_t size() const override { return engine_->size(); }
    std::vector<int64_t> encode(const std::string& text) const override {
        std::vector<int> ids;
        std::string message = engine_->encode(text, &ids);
        if (!message.empty()) throw RuntimeError("tokenizer: cannot encode a text: " + message);
        return {ids.begin(), ids.end()};
    }
    // Trained models' texts are read without special tokens around them.
    std::vector<int64_t> encodeForModel(const std::string& text, int64_t maxLen, bool* cut) const override {
        std::vector<int64_t> ids = encode(text);
        *cut = int64_t(ids.size()) > maxLen;
        if (*cut) ids.resize(size_t(maxLen));
        return ids;
    }
    std::string decode(const std::vector<int64_t>& ids) const override {
        std::vector<int> given(ids.begin(), ids.end());
        std::string text;
        std::string message = engine_->decode(given, &text);
        if (!message.empty()) throw RuntimeError("tokenizer: cannot decode ids: " + message);
        return text;
    }
    std::string piece(int64_t id) const override { return engine_->piece(int(id)); }
    TokenIds specials() const override { return ids_; }
    std::string kind() const override { return "sentencepiece"; }

    std::unique_ptr<SentencepieceEngine> engine_;
    std::string serialized_;
    TokenIds ids_;
};

}  // namespace

std::shared_ptr<Tokenizer> Tokenizer::train(const std::vector<std::string>& given, const TokenizerOptions& options,
                                            uint64_t seed, const std::string& name) {
    const std::string where = "tokenizer `" + name + "`: ";
    if (options.specials.size() != size_t(SpecialIds::count))
        throw RuntimeError(where + "`specials` must name 5 tokens, in id order: pad, unk, bos, eos, cls.");
    // A vocabulary must hold the special tokens and some text besides.
    if (options.kind != "char" && options.vocab < SpecialIds::count + 2)
        throw RuntimeError(where + "a vocabulary of " + std::to_string(options.vocab) +
                           " cannot hold the 5 special tokens and any text; raise `vocab` (e.g. 8000).");
    std::vector<std::string> texts;
    for (const auto& t : given)
        if (t.find_first_not_of(" \t\r\n") != std::string::npos) texts.push_back(t);
    if (texts.empty()) throw RuntimeError(where + "the training split has no text to learn from.");
    if (options.maxSentences > 0 && int64_t(texts.size()) > options.maxSentences) {
        auto order = Rng(seed, 0x73706d).permutation(int64_t(texts.size()));
        std::vector<std::string> sample;
        for (int64_t i = 0; i < options.maxSentences; ++i) sample.push_back(texts[size_t(order[size_t(i)])]);
        texts = std::move(sample);
    }
    std::unordered_map<std::string, std::string> args = {
        {"model_type", options.kind},
        {"vocab_size", std::to_string(options.vocab)},
        {"character_coverage", std::to_string(options.characterCoverage)},
        {"normalization_rule_name", options.normalization},
        {"byte_fallback", options.byteFallback ? "true" : "false"},
        {"split_digits", options.splitDigits ? "true" : "false"},
        {"pad_id", "0"},
        {"unk_id", "1"},
        {"bos_id", "2"},
        {"eos_id", "3"},
        {"pad_piece", options.specials[0]},
        {"unk_piece", options.specials[1]},
        {"bos_piece", options.specials[2]},
        {"eos_piece", options.specials[3]},
        {"control_symbols", options.specials[4]},
        // One thread and no sampling of its own: the same text gives the same model.
        {"num_threads", "1"},
        {"input_sentence_size", "0"},
        {"shuffle_input_sentence", "false"},
        // Fortunes and essays are long "sentences"; keep them whole.
        {"max_sentence_length", "1000000"},
        // `char` and `word` take the vocabulary as a bound: the text may have fewer pieces.
        {"hard_vocab_limit", options.kind == "char" || options.kind == "word" ? "false" : "true"},
    };
    auto tokenizer = std::make_shared<SentencepieceTokenizer>();
    std::string model;
    std::string message = tokenizer->engine_->train(texts, args, unsigned(seed % 0xFFFFFFFFu), &model);
    if (!message.empty()) {
        if (message.find("Vocabulary size") != std::string::npos || message.find("vocab_size") != std::string::npos)
            throw RuntimeError(where + "the text does not fit a vocabulary of " + std::to_string(options.vocab) +
                               " (sentencepiece: " + message + "); lower `vocab`.");
        throw RuntimeError(where + "sentencepiece could not train: " + message);
    }
    tokenizer->serialized_ = std::move(model);
    tokenizer->ids_ = {SpecialIds::pad, SpecialIds::unk, SpecialIds::bos, SpecialIds::eos, SpecialIds::cls};
    return tokenizer;
}

std::shared_ptr<Tokenizer> Tokenizer::load(const std::filesystem::path& path) {
    std::error_code ec;
    if (path.extension() != ".model" || std::filesystem::is_directory(path, ec)) return loadHuggingFaceTokenizer(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw RuntimeError("tokenizer: cannot open `" + path.string() + "`; check the `load` path.");
    std::stringstream bytes;
    bytes << in.rdbuf();
    auto tokenizer = std::make_shared<SentencepieceTokenizer>();
    std::string message = tokenizer->engine_->load(bytes.str());
    if (!message.empty())
        throw RuntimeError("tokenizer: `" + path.string() + "` is not a sentencepiece model (" + message +
                           "); give a `.model` file that spm_train or a `tokenizer` block wrote.");
    // The ids the model has: a tokenizer block's own (pad 0 ... cls 4), or
    // spm_train's defaults (unk 0, bos 1, eos 2, no pad), or any other.
    auto ids = tokenizer->engine_->specialIds();
    tokenizer->ids_ = {ids[0], ids[1], ids[2], ids[3], -1};
    if (tokenizer->size() > SpecialIds::cls && tokenizer->piece(SpecialIds::cls) == "<cls>")
        tokenizer->ids_.cls = SpecialIds::cls;
    tokenizer->serialized_ = bytes.str();
    return tokenizer;
}

std::filesystem::path Tokenizer::savedIn(const std::filesystem::path& dir) {
    std::error_code ec;
    for (const char* name : {"tokenizer.model", "tokenizer.json", "vocab.json", "vocab.txt"})
        if (std::filesystem::exists(dir / name, ec)) return dir / name;
    return {};
}

}  // namespace pipelang::runtime
