// tokenizers/ against Hugging Face's own tokenizers library: the Node script
// tests/reference/hf_tokenizers.js trains tokenizers with it on fortunes,
// saves them, and writes the ids it gives for 1,200 held-out fortunes in four
// languages and some awkward texts; every one must come out the same here.
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "tokenizers/hf_tokenizer.h"

namespace {

namespace fs = std::filesystem;
using pipelang::tokenizers::HfTokenizer;
using pipelang::tokenizers::TokenizerError;

const fs::path kReference = fs::path(PIPE_SOURCE_DIR) / "tests" / "reference";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The script's output, made once for each version of the script and the
// lockfile (ctest runs every test in a process of its own, and training takes
// most of a minute); an error message when it cannot be made.
struct Reference {
    fs::path dir;
    std::string error;
    nlohmann::json expected;
};

const Reference& reference() {
    static const Reference ref = [] {
        Reference r;
        if (!fs::exists(kReference / "node_modules" / "tokenizers")) {
            r.error = "Hugging Face's tokenizers library is not installed for the reference: run `npm ci` in " +
                      kReference.string() + " (scripts/test does)";
            return r;
        }
        std::string key = slurp(kReference / "hf_tokenizers.js") + slurp(kReference / "package-lock.json");
        std::ostringstream name;
        name << "pipe-hf-reference-" << std::hex << std::hash<std::string>{}(key);
        r.dir = fs::temp_directory_path() / name.str();
        if (!fs::exists(r.dir / "expected.json")) {
            fs::path tmp = r.dir.string() + ".tmp" + std::to_string(getpid());
            fs::remove_all(tmp);
            std::string command = "node '" + (kReference / "hf_tokenizers.js").string() + "' '" + tmp.string() +
                                  "' > '" + tmp.string() + ".log' 2>&1";
            if (std::system(command.c_str()) != 0) {
                r.error = "the reference script failed: " + command + "\n" + slurp(tmp.string() + ".log");
                return r;
            }
            fs::remove(tmp.string() + ".log");
            std::error_code ec;
            fs::rename(tmp, r.dir, ec);  // another test process may have been first: its copy is the same
            if (ec) fs::remove_all(tmp);
        }
        r.expected = nlohmann::json::parse(slurp(r.dir / "expected.json"));
        return r;
    }();
    return ref;
}

// Ids from a little before `from`, to keep a long text's report short.
std::string show(const std::vector<int64_t>& ids, size_t from) {
    size_t begin = from > 5 ? from - 5 : 0, end = std::min(ids.size(), from + 15);
    std::string s = begin ? "[... " : "[";
    for (size_t i = begin; i < end; ++i) s += (i > begin ? ", " : "") + std::to_string(ids[i]);
    return s + (end < ids.size() ? ", ...]" : "]");
}

std::string shorten(const std::string& text) {
    if (text.size() <= 160) return text;
    size_t cut = 160;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return text.substr(0, cut) + "...";
}

// Every text's ids, with and without the special tokens, and the decoded samples.
void matchesReference(const std::string& name, const std::string& file) {
    const Reference& ref = reference();
    ASSERT_TRUE(ref.error.empty()) << ref.error;
    std::unique_ptr<HfTokenizer> tok;
    ASSERT_NO_THROW(tok = HfTokenizer::load(ref.dir / file)) << file;
    const auto& texts = ref.expected["texts"];
    const auto& theirs = ref.expected["tokenizers"][name];
    ASSERT_GE(texts.size(), 1000u);
    EXPECT_EQ(tok->size(), theirs["size"].get<int64_t>());

    size_t wrong = 0, pieces = 0;
    std::ostringstream report;
    auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < texts.size(); ++i) {
        std::string text = texts[i];
        for (bool special : {true, false}) {
            auto ours = tok->encode(text, special);
            auto want = theirs[special ? "ids" : "plain"][i].get<std::vector<int64_t>>();
            pieces += want.size();
            if (ours == want) continue;
            if (++wrong > 5) continue;
            size_t at = std::mismatch(ours.begin(), ours.end(), want.begin(), want.end()).first - ours.begin();
            report << "\n  text #" << i << (special ? "" : " (no special tokens)") << ": \"" << shorten(text)
                   << "\"\n    first difference at id " << at << "\n    ours:   " << show(ours, at)
                   << "\n    theirs: " << show(want, at);
        }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(wrong, 0u) << wrong << " of " << 2 * texts.size()
                         << " encodings differ from Hugging Face's:" << report.str();
    EXPECT_GT(pieces, 3 * texts.size()) << "the texts should make many pieces";
    std::cout << "  " << name << ": " << 2 * texts.size() << " encodings, " << pieces << " ids, in " << seconds
              << " s\n";

    for (const auto& d : theirs["decoded"]) {
        size_t i = d[0];
        EXPECT_EQ(tok->decode(theirs["ids"][i].get<std::vector<int64_t>>()), d[1].get<std::string>())
            << "decoding text #" << i;
    }
}

TEST(HfTokenizerReference, WordPieceTokenizerJson) {
    matchesReference("wordpiece", "wordpiece/tokenizer.json");
}
TEST(HfTokenizerReference, ByteLevelBpeTokenizerJson) {
    matchesReference("bpe", "bpe/tokenizer.json");
}
TEST(HfTokenizerReference, ByteLevelBpeWithMergesAsStringsAndPrefixSpace) {
    matchesReference("bpe-legacy", "bpe-legacy/tokenizer.json");
}
TEST(HfTokenizerReference, UnigramTokenizerJson) {
    matchesReference("unigram", "unigram/tokenizer.json");
}
TEST(HfTokenizerReference, WordLevelTokenizerJson) {
    matchesReference("wordlevel", "wordlevel/tokenizer.json");
}
TEST(HfTokenizerReference, MetaspacePrependingFirstOnly) {
    matchesReference("unigram-first", "unigram-first/tokenizer.json");
}
TEST(HfTokenizerReference, ByteFallbackBpeWithoutPreTokenizer) {
    matchesReference("llama", "llama/tokenizer.json");
}
TEST(HfTokenizerReference, SentencepiecePrecompiledCharsmap) {
    matchesReference("precompiled", "precompiled/tokenizer.json");
}
TEST(HfTokenizerReference, OtherNormalizersAndPreTokenizers) {
    matchesReference("variety", "variety/tokenizer.json");
}
TEST(HfTokenizerReference, BertVocabTxtFolder) {
    matchesReference("bert-vocab", "bert-vocab");
}
TEST(HfTokenizerReference, Gpt2VocabJsonAndMerges) {
    matchesReference("gpt2", "gpt2/vocab.json");
}

TEST(HfTokenizerReference, SpecialsAndTemplates) {
    const Reference& ref = reference();
    ASSERT_TRUE(ref.error.empty()) << ref.error;
    auto bert = HfTokenizer::load(ref.dir / "wordpiece");
    auto s = bert->specials();
    EXPECT_EQ(s.pad, 0);
    EXPECT_EQ(s.unk, 1);
    EXPECT_EQ(s.cls, 2);
    EXPECT_EQ(s.sep, 3);
    EXPECT_EQ(s.mask, 4);
    EXPECT_EQ(bert->clsPosition(), 0);
    EXPECT_EQ(bert->specialTokensAdded(), 2);
    EXPECT_EQ(bert->addSpecialTokens({7, 8}), (std::vector<int64_t>{2, 7, 8, 3}));
    EXPECT_EQ(bert->token(3), "[SEP]");
    EXPECT_EQ(bert->id("[MASK]"), 4);
    EXPECT_FALSE(bert->id("no such token"));

    auto unigram = HfTokenizer::load(ref.dir / "unigram" / "tokenizer.json");
    s = unigram->specials();
    EXPECT_EQ(s.pad, 0);
    EXPECT_EQ(s.cls, 1);
    EXPECT_EQ(s.sep, 2);
    EXPECT_EQ(s.unk, 3);
    EXPECT_EQ(s.mask, 4);

    auto gpt2 = HfTokenizer::load(ref.dir / "gpt2");
    s = gpt2->specials();
    EXPECT_EQ(s.cls, 0);
    EXPECT_EQ(s.pad, 1);
    EXPECT_EQ(s.sep, 2);
    EXPECT_EQ(gpt2->decode(gpt2->encode("Grüße, 世界 👍🏽!")), "Grüße, 世界 👍🏽!");
}

// ---- files written here ------------------------------------------------------

struct Scratch {
    fs::path dir;
    Scratch() {
        dir = fs::temp_directory_path() / ("pipe-hf-tokenizer-test-" + std::to_string(getpid()));
        fs::create_directories(dir);
    }
    ~Scratch() { fs::remove_all(dir); }
    fs::path write(const std::string& name, const std::string& text) const {
        fs::create_directories((dir / name).parent_path());
        std::ofstream(dir / name, std::ios::binary) << text;
        return dir / name;
    }
};

// A small tokenizer.json: a WordPiece over a few words, with the pieces given.
std::string tokenizerJson(const std::string& normalizer, const std::string& model, const std::string& post = "null") {
    return R"({"version": "1.0", "added_tokens": [], "normalizer": )" + normalizer +
           R"(, "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": )" + post +
           R"(, "decoder": null, "model": )" + model + "}";
}
const std::string kWordPiece =
    R"({"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
        "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "hello": 3, "wor": 4, "##ld": 5}})";

std::string loadError(const fs::path& p) {
    try {
        HfTokenizer::load(p);
    } catch (const TokenizerError& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("not a TokenizerError: ") + e.what();
    }
    return "no error";
}

TEST(HfTokenizer, SmallWordPieceFile) {
    Scratch s;
    auto file = s.write("t/tokenizer.json", tokenizerJson(R"({"type": "Lowercase"})", kWordPiece));
    auto tok = HfTokenizer::load(file);
    EXPECT_EQ(tok->encode("Hello WORLD xyz"), (std::vector<int64_t>{3, 4, 5, 0}));
    EXPECT_EQ(tok->specialTokensAdded(), 0);
    EXPECT_EQ(tok->size(), 6);
}

TEST(HfTokenizer, ClassificationTokenLastInXlnetTemplates) {
    Scratch s;
    std::string post = R"({"type": "TemplateProcessing",
        "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                   {"SpecialToken": {"id": "[CLS]", "type_id": 2}}],
        "pair": [], "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [1], "tokens": ["[CLS]"]},
                                       "[SEP]": {"id": "[SEP]", "ids": [2], "tokens": ["[SEP]"]}}})";
    auto tok = HfTokenizer::load(s.write("tokenizer.json", tokenizerJson("null", kWordPiece, post)));
    EXPECT_EQ(tok->encode("hello"), (std::vector<int64_t>{3, 2, 1}));
    EXPECT_EQ(tok->clsPosition(), -1);
    EXPECT_EQ(tok->specials().cls, 1);
    EXPECT_EQ(tok->specials().sep, 2);
}

// Hugging Face reads ids as u32: a negative, fractional or too large id is
// refused where the file names it (found by fuzz_tokenizer: a vocab id of -87
// loaded and then came out of encode).
TEST(HfTokenizer, RefusesIdsThatAreNotTokenIds) {
    Scratch s;
    std::string vocab = kWordPiece;
    vocab.replace(vocab.find(R"("wor": 4)"), 8, R"("wor": -87)");
    std::string e = loadError(s.write("negative/tokenizer.json", tokenizerJson("null", vocab)));
    EXPECT_NE(e.find("token \"wor\" id is -87, not a token id (a whole number from 0 to 4294967295)"),
              std::string::npos)
        << e;
    vocab = kWordPiece;
    vocab.replace(vocab.find(R"("wor": 4)"), 8, R"("wor": 4294967296)");
    e = loadError(s.write("large/tokenizer.json", tokenizerJson("null", vocab)));
    EXPECT_NE(e.find("is 4294967296, not a token id"), std::string::npos) << e;

    std::string json = tokenizerJson("null", kWordPiece);
    json.replace(json.find(R"("added_tokens": [])"), 18,
                 R"("added_tokens": [{"id": -1, "content": "[X]", "special": true}])");
    e = loadError(s.write("added/tokenizer.json", json));
    EXPECT_NE(e.find("added token \"[X]\"'s id is -1"), std::string::npos) << e;

    std::string post = R"({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
        {"Sequence": {"id": "A", "type_id": 0}}], "pair": [],
        "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [1.5], "tokens": ["[CLS]"]}}})";
    e = loadError(s.write("template/tokenizer.json", tokenizerJson("null", kWordPiece, post)));
    EXPECT_NE(e.find("special token \"[CLS]\" id is 1.5, not a token id"), std::string::npos) << e;

    e = loadError(s.write("bert/tokenizer.json", tokenizerJson("null", kWordPiece, R"({"type": "BertProcessing",
        "sep": ["[SEP]", 2], "cls": ["[CLS]", "one"]})")));
    EXPECT_NE(e.find("post_processor's \"cls\" id is \"one\", not a token id"), std::string::npos) << e;
}

TEST(HfTokenizer, RefusesUnknownComponentsNamingThem) {
    Scratch s;
    auto file = s.write("nmt/tokenizer.json", tokenizerJson(R"({"type": "Nmt"})", kWordPiece));
    std::string e = loadError(file);
    EXPECT_NE(e.find(file.string()), std::string::npos) << e;
    EXPECT_NE(e.find("normalizer \"Nmt\" is not supported"), std::string::npos) << e;
    EXPECT_NE(e.find("NFKC"), std::string::npos) << e;  // what is supported

    e = loadError(s.write("precompiled/tokenizer.json",
                          tokenizerJson(R"({"type": "Precompiled", "precompiled_charsmap": "AAAA"})", kWordPiece)));
    EXPECT_NE(e.find("normalizer \"Precompiled\" has a charsmap too short"), std::string::npos) << e;

    e = loadError(s.write("foo/tokenizer.json", tokenizerJson(R"({"type": "Foo"})", kWordPiece)));
    EXPECT_NE(e.find("normalizer \"Foo\" is not supported; supported normalizers are BertNormalizer"),
              std::string::npos)
        << e;

    e = loadError(s.write("model/tokenizer.json", tokenizerJson("null", R"({"type": "Mystery", "vocab": {}})")));
    EXPECT_NE(e.find("model \"Mystery\" is not supported; supported models are WordPiece, BPE, Unigram and WordLevel"),
              std::string::npos)
        << e;

    std::string json = tokenizerJson("null", kWordPiece);
    json.replace(json.find(R"({"type": "WhitespaceSplit"})"), 27,
                 R"({"type": "Split", "pattern": {"Regex": "\\p{L}+"}, "behavior": "Isolated", "invert": false})");
    e = loadError(s.write("split/tokenizer.json", json));
    EXPECT_NE(
        e.find("pre_tokenizer \"Split\" has the regular expression {\"Regex\":\"\\\\p{L}+\"}, which is not supported"),
        std::string::npos)
        << e;

    json = tokenizerJson("null", kWordPiece);
    json.replace(json.find(R"("decoder": null)"), 15, R"("decoder": {"type": "CTC", "pad_token": "<pad>"})");
    e = loadError(s.write("ctc/tokenizer.json", json));
    EXPECT_NE(e.find("decoder \"CTC\" is not supported; supported decoders are WordPiece"), std::string::npos) << e;

    e = loadError(
        s.write("regex/tokenizer.json",
                tokenizerJson(R"({"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "})", kWordPiece)));
    EXPECT_NE(e.find("regular-expression pattern"), std::string::npos) << e;
}

TEST(HfTokenizer, RefusesMalformedFilesNamingThem) {
    Scratch s;
    std::string whole = tokenizerJson("null", kWordPiece);
    auto truncated = s.write("truncated/tokenizer.json", whole.substr(0, whole.size() / 2));
    std::string e = loadError(truncated);
    EXPECT_NE(e.find(truncated.string() + ": it is not JSON"), std::string::npos) << e;

    // A number past a double's range is nlohmann's out_of_range, not a parse_error (found by tests/fuzz).
    auto huge =
        s.write("huge/tokenizer.json", R"({"version": "1.0", "model": {"type": "WordPiece", "vocab": {"a": 1e999}}})");
    e = loadError(huge);
    EXPECT_NE(e.find(huge.string() + ": it is not JSON"), std::string::npos) << e;

    // Copying a value nested this deep would overflow the stack (found by tests/fuzz).
    std::string deep = std::string(30000, '[') + std::string(30000, ']');
    e = loadError(s.write("deep/tokenizer.json",
                          tokenizerJson(R"({"type": "Sequence", "normalizers": )" + deep + "}", kWordPiece)));
    EXPECT_NE(e.find("nests arrays and objects deeper than 100 levels"), std::string::npos) << e;

    e = loadError(s.write("nomodel/tokenizer.json", R"({"version": "1.0", "normalizer": null})"));
    EXPECT_NE(e.find("it has no \"model\""), std::string::npos) << e;

    e = loadError(
        s.write("vocablist/tokenizer.json", tokenizerJson("null", R"({"type": "WordPiece", "vocab": ["a", "b"]})")));
    EXPECT_NE(e.find("\"vocab\" is not a map from tokens to ids"), std::string::npos) << e;

    e = loadError(
        s.write("badmerge/tokenizer.json",
                tokenizerJson("null", R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a c"]})")));
    EXPECT_NE(e.find("names the token \"c\", which is not in the vocabulary"), std::string::npos) << e;

    s.write("gpt2/vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
    auto merges = s.write("gpt2/merges.txt", "#version: 0.2\na b\nab zz\n");
    e = loadError(s.dir / "gpt2");
    EXPECT_NE(e.find(merges.string()), std::string::npos) << e;
    EXPECT_NE(e.find("names the token \"zz\", which is not in the vocabulary"), std::string::npos) << e;

    fs::create_directories(s.dir / "empty");
    s.write("empty/README.md", "no tokenizer here");
    e = loadError(s.dir / "empty");
    EXPECT_NE(e.find("the folder " + (s.dir / "empty").string() + " holds no tokenizer"), std::string::npos) << e;

    e = loadError(s.dir / "missing");
    EXPECT_NE(e.find("there is no tokenizer file or folder"), std::string::npos) << e;

    s.write("alone/vocab.json", R"({"a": 0})");
    e = loadError(s.dir / "alone");
    EXPECT_NE(e.find("needs merges.txt beside it"), std::string::npos) << e;
}

}  // namespace
