// Hugging Face's tokenizers (tokenizers/hf_tokenizer.h) as a `tokenizer`
// block's: the run folder keeps a copy of the files it was read from, so
// that `pipe predict` and a rerun read the same ones.
#include <fstream>

#include "runtime/data/tokenizer.h"
#include "runtime/error.h"
#include "tokenizers/hf_tokenizer.h"

namespace pipelang::runtime {

namespace {

namespace fs = std::filesystem;

// The files a tokenizer was read from, each with the name it has in a model
// folder; the first is what HfTokenizer::load is given when they are copied.
std::vector<std::pair<fs::path, std::string>> sourceFiles(const fs::path& path) {
    std::error_code ec;
    auto beside = [&](const fs::path& dir, const char* name, std::vector<std::pair<fs::path, std::string>>& out) {
        if (fs::exists(dir / name, ec)) out.push_back({dir / name, name});
    };
    std::vector<std::pair<fs::path, std::string>> out;
    if (fs::is_directory(path, ec)) {
        // The file the library reads, so that the run keeps a copy of that one.
        const fs::path file = tokenizers::HfTokenizer::fileIn(path);
        return file.empty() ? out : sourceFiles(file);
    }
    const std::string name = path.filename().string();
    if (name.ends_with("vocab.json")) {
        out.push_back({path, "vocab.json"});
        beside(path.parent_path(), "merges.txt", out);
    } else if (path.extension() == ".txt") {
        out.push_back({path, "vocab.txt"});
        beside(path.parent_path(), "tokenizer_config.json", out);
    } else {
        out.push_back({path, "tokenizer.json"});
    }
    return out;
}

class HuggingFaceTokenizer : public Tokenizer {
public:
    HuggingFaceTokenizer(std::unique_ptr<tokenizers::HfTokenizer> tokenizer, fs::path source)
        : hf_(std::move(tokenizer)), files_(sourceFiles(source)) {
        auto s = hf_->specials();
        auto either = [&](const char* token, int64_t otherwise) {
            if (auto id = hf_->id(token)) return *id;
            return otherwise;
        };
        // A language model's stream marks where texts begin and end: <s> and
        // </s> where the vocabulary has them, else the template's own, else
        // GPT-2's one <|endoftext|>.
        const int64_t endOfText = either("<|endoftext|>", -1);
        ids_ = {s.pad, s.unk, either("<s>", s.cls >= 0 ? s.cls : endOfText),
                either("</s>", s.sep >= 0 ? s.sep : endOfText), s.cls};
    }

    fs::path save(const fs::path& dir) const override {
        for (const auto& [from, name] : files_) {
            std::error_code ec;
            if (fs::equivalent(from, dir / name, ec)) continue;
            fs::copy_file(from, dir / name, fs::copy_options::overwrite_existing, ec);
            if (ec)
                throw RuntimeError("cannot copy the tokenizer's `" + from.string() + "` into `" + dir.string() + "` (" +
                                   ec.message() + "); check that the run folder is writable.");
        }
        return files_.front().second;
    }
    int64_t size() const override { return hf_->size(); }
    std::vector<int64_t> encode(const std::string& text) const override { return hf_->encode(text, false); }
    std::vector<int64_t> encodeForModel(const std::string& text, int64_t maxLen, bool* cut) const override {
        const int64_t room = maxLen - hf_->specialTokensAdded();
        if (room < 1)
            throw RuntimeError("max_len = " + std::to_string(maxLen) + " leaves no room for text beside the " +
                               std::to_string(hf_->specialTokensAdded()) +
                               " special tokens the tokenizer adds; raise `max_len`.");
        std::vector<int64_t> ids = hf_->encode(text, false);
        *cut = int64_t(ids.size()) > room;
        if (*cut) ids.resize(size_t(room));
        return hf_->addSpecialTokens(ids);
    }
    std::string decode(const std::vector<int64_t>& ids) const override { return hf_->decode(ids, true); }
    std::string piece(int64_t id) const override { return hf_->token(id); }
    TokenIds specials() const override { return ids_; }
    int64_t clsPosition() const override { return hf_->clsPosition(); }
    std::string kind() const override { return "tokenizers"; }

private:
    std::unique_ptr<tokenizers::HfTokenizer> hf_;
    std::vector<std::pair<fs::path, std::string>> files_;
    TokenIds ids_;
};

}  // namespace

std::shared_ptr<Tokenizer> loadHuggingFaceTokenizer(const fs::path& path) {
    try {
        auto tokenizer = tokenizers::HfTokenizer::load(path);
        return std::make_shared<HuggingFaceTokenizer>(std::move(tokenizer), path);
    } catch (const tokenizers::TokenizerError& e) {
        throw RuntimeError(std::string("tokenizer: ") + e.what());
    }
}

}  // namespace pipelang::runtime
