// libFuzzer target: the Hugging Face tokenizer loader (tokenizers/). The
// input's first byte says which files it is: 't' a vocab.txt, 'b' a
// vocab.json and a merges.txt (split at the first NUL byte), anything else a
// tokenizer.json. The files are written to a folder of the process's own and
// loaded as `tokenizer { load = ... }` loads them; a bad file is one
// TokenizerError. What loads then encodes and decodes a few texts (a text
// its vocabulary cannot spell, without an unknown token, is a TokenizerError too).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "tokenizers/hf_tokenizer.h"

namespace {

namespace fs = std::filesystem;
using pipelang::tokenizers::HfTokenizer;
using pipelang::tokenizers::TokenizerError;

const fs::path& folder() {
    static const fs::path dir = [] {
        std::string tmpl = (fs::temp_directory_path() / "pipe-fuzz-tokenizer-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) {
            std::perror("fuzz_tokenizer: mkdtemp");
            std::abort();
        }
        std::atexit([] { fs::remove_all(folder()); });
        return fs::path(tmpl);
    }();
    return dir;
}

void write(const fs::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    if (!out) {
        std::fprintf(stderr, "fuzz_tokenizer: cannot write %s\n", path.c_str());
        std::abort();
    }
}

const char* const kTexts[] = {
    "Hello, world! It's 2026.",
    "  leading and trailing spaces  ",
    "Ünïcödé: naïve café, 東京, emoji 🙂, combining e\u0301",
    "[CLS] <s> </s> [MASK] <|endoftext|> <unk>",
    "",
    "\xff\xfe not UTF-8 \xc3",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    char kind = input.empty() ? 'j' : input[0];
    if (!input.empty()) input.remove_prefix(1);
    fs::path file;
    if (kind == 't') {
        file = folder() / "vocab.txt";
        write(file, input);
    } else if (kind == 'b') {
        size_t nul = input.find('\0');
        file = folder() / "vocab.json";
        write(file, input.substr(0, nul));
        write(folder() / "merges.txt", nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1));
    } else {
        file = folder() / "tokenizer.json";
        write(file, input);
    }
    std::unique_ptr<HfTokenizer> tok;
    try {
        tok = HfTokenizer::load(file);
    } catch (const TokenizerError&) {
        return 0;
    }
    for (const char* text : kTexts) {
        for (bool specials : {true, false}) {
            std::vector<int64_t> ids;
            try {
                ids = tok->encode(text, specials);
            } catch (const TokenizerError&) {
                continue;  // a word the vocabulary cannot spell, without an unknown token: said when met
            }
            for (int64_t id : ids)
                if (id < 0) {
                    std::fprintf(stderr, "fuzz_tokenizer: a negative id %lld\n", (long long)id);
                    std::abort();
                }
            tok->decode(ids, specials);
            tok->addSpecialTokens(ids);
        }
    }
    tok->specials();
    tok->specialTokensAdded();
    for (int64_t id = -1; id < 5 && id < tok->size() + 1; ++id) tok->token(id);
    tok->id("[UNK]");
    return 0;
}
