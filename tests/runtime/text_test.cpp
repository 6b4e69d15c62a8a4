// Text data: the lines and fortunes sources, UTF-8 checks, the chars, text
// and tokens blocks, sentencepiece tokenizers, on small files made here and
// on the word list and fortunes Debian ships.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "interpreter/compile.h"
#include "runtime/data/dataset.h"
#include "runtime/data/text_data.h"
#include "runtime/data/text_sources.h"
#include "runtime/data/tokenizer.h"
#include "runtime/error.h"
#include "runtime/models/tfidf.h"
#include "tests/runtime/compiled.h"
#include "tests/runtime/temp_dir.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;

std::vector<int64_t> row(const torch::Tensor& t, int64_t i) {
    auto r = t[i].contiguous();
    return {r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()};
}

TEST(TextSources, LinesSkipBlankLinesAndKeepLineNumbers) {
    TempDir dir;
    writeText(dir / "w.txt", "emma\r\n\n  \nolivia\nava");
    Table t = readLines(dir / "w.txt");
    ASSERT_EQ(t.size(), 3);
    EXPECT_EQ(t.cell(0, 0), "emma");
    EXPECT_EQ(t.cell(1, 0), "olivia");
    EXPECT_EQ(t.cell(2, 0), "ava");
    EXPECT_EQ(t.lines, (std::vector<int64_t>{1, 4, 5}));
    writeText(dir / "bad.txt", "ok\nna\xefve\n");
    std::string message = errorOf([&] { readLines(dir / "bad.txt"); });
    EXPECT_NE(message.find("bad.txt` line 2 is not valid UTF-8"), std::string::npos) << message;
    writeText(dir / "empty.txt", "\n\n");
    EXPECT_NE(errorOf([&] { readLines(dir / "empty.txt"); }).find("no lines"), std::string::npos);
}

TEST(TextSources, Utf8ChecksAndCharacters) {
    EXPECT_EQ(invalidUtf8At("plain"), std::string_view::npos);
    EXPECT_EQ(invalidUtf8At("Grüße, señor ☃ 𝄞"), std::string_view::npos);
    EXPECT_EQ(invalidUtf8At("ab\xC3"), 2u);         // cut short
    EXPECT_EQ(invalidUtf8At("a\xC0\xAF"), 1u);      // overlong "/"
    EXPECT_EQ(invalidUtf8At("a\xED\xA0\x80"), 1u);  // a UTF-16 surrogate
    EXPECT_EQ(invalidUtf8At("\xff"), 0u);
    EXPECT_EQ(utf8Chars("aß☃"), (std::vector<std::string>{"a", "ß", "☃"}));
    std::string message = errorOf([] { requireUtf8("one\ntwo \xff", "f.txt", 10); });
    EXPECT_NE(message.find("`f.txt` line 11"), std::string::npos) << message;
}

TEST(TextSources, FortunesSplitOnPercentLabelledByFileOrLanguage) {
    TempDir dir;
    writeText(dir / "f" / "art", "A picture.\n%\nTwo\nlines.\n%\n%\nLast\n");
    writeText(dir / "f" / "art.dat", "binary index");
    writeText(dir / "f" / "art.u8", "ignored");
    writeText(dir / "f" / "de" / "kunst", "Ein Bild.\n%\nZwei Zeilen\n");
    writeText(dir / "f" / "es" / "arte.fortunes", "Una imagen.\n");
    writeText(dir / "f" / "off" / "rude", "not read\n");
    fs::create_directories(dir / "f" / "it");
    writeText(dir / "f" / "it" / "arte", "Un quadro.\n");
    fs::create_symlink("it/arte", dir / "f" / "arte");  // as Debian links it/ files into the root
    Table byFile = readFortunes(dir / "f", {}, "file");
    std::vector<std::string> texts, labels;
    for (int64_t r = 0; r < byFile.size(); ++r) {
        texts.push_back(byFile.cell(r, 0));
        labels.push_back(byFile.cell(r, 1));
    }
    EXPECT_EQ(texts, (std::vector<std::string>{"A picture.", "Two\nlines.", "Last", "Ein Bild.", "Zwei Zeilen",
                                               "Una imagen.", "Un quadro."}));
    EXPECT_EQ(labels, (std::vector<std::string>{"art", "art", "art", "de/kunst", "de/kunst", "es/arte", "it/arte"}));
    EXPECT_EQ(byFile.lines, (std::vector<int64_t>{1, 3, 7, 1, 3, 1, 1}));

    Table byLanguage = readFortunes(dir / "f", {"art", "de/kunst", "es/arte", "it/arte"}, "language");
    std::multiset<std::string> languages;
    for (int64_t r = 0; r < byLanguage.size(); ++r) languages.insert(byLanguage.cell(r, 1));
    EXPECT_EQ(languages, (std::multiset<std::string>{"en", "en", "en", "de", "de", "es", "it"}));
    std::string message = errorOf([&] { readFortunes(dir / "f", {"nope"}, "file"); });
    EXPECT_NE(message.find("no fortune file `nope`"), std::string::npos) << message;
}

TEST(TextSources, DebianFortunesInFourLanguages) {
    if (!fs::exists("/usr/share/games/fortunes/de")) GTEST_SKIP() << "fortunes-de is not installed";
    Table t = readFortunes("/usr/share/games/fortunes", {}, "language");
    std::map<std::string, int64_t> counts;
    for (int64_t r = 0; r < t.size(); ++r) ++counts[t.cell(r, 1)];
    EXPECT_EQ(counts.size(), 4u);
    for (const char* language : {"en", "de", "es", "it"}) EXPECT_GT(counts[language], 500) << language;
}

TEST(CharsBlock, WindowsAsMakemore) {
    std::vector<int64_t> stream, starts;
    appendCharWindows({7, 8}, 3, stream, starts);  // "ab" with context 3
    EXPECT_EQ(stream, (std::vector<int64_t>{2, 2, 2, 7, 8, 3}));
    ASSERT_EQ(starts.size(), 3u);  // → a, → b, → eos
    int64_t x[3], y[3];
    windowAt(stream, starts[0], 3, x, y);
    EXPECT_EQ(std::vector<int64_t>(x, x + 3), (std::vector<int64_t>{2, 2, 2}));
    EXPECT_EQ(std::vector<int64_t>(y, y + 3), (std::vector<int64_t>{-100, -100, 7}));
    windowAt(stream, starts[2], 3, x, y);
    EXPECT_EQ(std::vector<int64_t>(x, x + 3), (std::vector<int64_t>{2, 7, 8}));
    EXPECT_EQ(std::vector<int64_t>(y, y + 3), (std::vector<int64_t>{7, 8, 3}));
}

TEST(CharsBlock, VocabularyFromTrainingWordsAndSameBatchesWithAnyWorkers) {
    TempDir dir;
    std::string words;
    for (int i = 0; i < 200; ++i)
        words += std::string(1, char('a' + i % 26)) + "bc" + std::string(1, char('a' + i % 7)) + "\n";
    writeText(dir / "words.txt", words);
    auto data = prepare(dir.path(), R"(
data d {
    source = lines("words.txt")
    blocks = (chars(context = 4))
    split  = random(valid = 0.25, seed = 1)
})");
    const DataInfo& info = data->info();
    EXPECT_EQ(info.input, "tokens");
    EXPECT_EQ(info.target, "tokens");
    EXPECT_EQ(info.context, 4);
    EXPECT_EQ(info.vocab, 5 + 26);  // the specials and a..z
    EXPECT_EQ(info.outputs, info.vocab);
    EXPECT_EQ(data->size(Split::Train), 150 * 5);  // 4 characters and the end of each word
    EXPECT_EQ(data->size(Split::Valid), 50 * 5);
    auto one = epoch(*data, Split::Train, 32, 0, 1), four = epoch(*data, Split::Train, 32, 4, 1);
    ASSERT_EQ(one.size(), four.size());
    for (size_t b = 0; b < one.size(); ++b) {
        EXPECT_TRUE(torch::equal(one[b].x, four[b].x));
        EXPECT_TRUE(torch::equal(one[b].y, four[b].y));
    }
    EXPECT_EQ(one[0].x.sizes(), (std::vector<int64_t>{32, 4}));
    EXPECT_EQ(one[0].y.scalar_type(), torch::kInt64);
    // Every window's last target is a real character or the end of the word.
    auto valid = epoch(*data, Split::Valid, 1000, 0);
    auto last = valid[0].y.select(1, 3);
    EXPECT_TRUE((last >= SpecialIds::eos).all().item<bool>());
    EXPECT_EQ((last == SpecialIds::eos).sum().item<int64_t>(), 50);
    TempDir run;
    data->save(run.path());
    auto stats = nlohmann::json::parse(std::ifstream(run / "stats.json"));
    EXPECT_EQ(stats["tokens"][0], "<pad>");
    EXPECT_EQ(stats["tokens"][5], "a");
    EXPECT_EQ(stats["context"], 4);
}

TEST(CharsBlock, ScoredOnEachWindowsLastTargetAndTrainedOnEveryTarget) {
    TempDir dir;
    writeText(dir / "words.txt", "abcdef\nghijkl\nmnopqr\nstuvwx\nyzabcd\nefghij\nklmnop\nqrstuv\n");
    auto data = prepare(dir.path(), R"(
data d {
    source = lines("words.txt")
    blocks = (chars(context = 4))
    split  = random(valid = 0.25, seed = 1)
})");
    // Validation: each window has one target, its last; each character of a
    // word (and its end) is that target once, whatever the model predicts.
    auto valid = epoch(*data, Split::Valid, 1000, 0);
    ASSERT_EQ(valid.size(), 1u);
    const torch::Tensor& y = valid[0].y;
    EXPECT_TRUE((y.narrow(1, 0, 3) == -100).all().item<bool>());
    EXPECT_TRUE((y.select(1, 3) != -100).all().item<bool>());
    EXPECT_EQ((y != -100).sum().item<int64_t>(), data->size(Split::Valid));
    // Training learns from every position that has a next character.
    int64_t targets = 0, windows = 0;
    for (const auto& b : epoch(*data, Split::Train, 8, 0)) {
        targets += (b.y != -100).sum().item<int64_t>();
        windows += b.size();
    }
    EXPECT_GT(targets, 2 * windows);
}

TEST(CharsBlock, SavedItemsNameTheirSourceRowsPastEmptyTexts) {
    TempDir dir;
    writeText(dir / "w.csv", "text\nabc\n\"\"\nabd\nbcd\ncab\ndab\nbad\ncad\nadd\n");
    auto data = prepare(dir.path(), R"(
data d {
    source = csv("w.csv")
    blocks = (chars(context = 2))
    split  = random(valid = 0.25, seed = 1)
})");
    TempDir run;
    data->save(run.path());
    std::ifstream items(run / "items.csv");
    std::string line;
    std::getline(items, line);
    EXPECT_EQ(line, "split,position,row");
    std::set<int64_t> rows;
    std::map<std::string, int64_t> positions;
    while (std::getline(items, line)) {
        std::string split = line.substr(0, line.find(','));
        EXPECT_EQ(std::stoll(line.substr(line.find(',') + 1)), positions[split]++) << line;
        rows.insert(std::stoll(line.substr(line.rfind(',') + 1)));
    }
    // Row 1 is the empty text, left out; the others keep the csv's numbering.
    EXPECT_EQ(rows, (std::set<int64_t>{0, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(positions["valid"], 2);
}

TEST(CharsBlock, DictionaryWords) {
    if (!fs::exists("/usr/share/dict/words")) GTEST_SKIP() << "wamerican is not installed";
    TempDir dir;
    auto data = prepare(dir.path(), R"(
data d {
    source = lines("/usr/share/dict/words")
    blocks = (chars(context = 3))
})");
    EXPECT_GT(data->size(Split::Train), 500000);
    EXPECT_GT(data->info().vocab, 5 + 52);
}

// Short texts in two "languages" (words of x.. or of y..), labelled.
std::string twoLanguagesCsv(int rows) {
    std::string csv = "text,label\n";
    for (int i = 0; i < rows; ++i) {
        bool x = i % 2 == 0;
        std::string text;
        for (int w = 0; w <= i % 5; ++w) text += std::string(w ? " " : "") + (x ? "xa" : "yo") + std::to_string(w % 3);
        csv += "\"" + text + (i % 7 == 0 ? ", \"\"quoted\"\"" : "") + "\"," + (x ? "x" : "y") + "\n";
    }
    return csv;
}

std::vector<std::string> someTexts() {
    std::vector<std::string> texts;
    for (int i = 0; i < 300; ++i)
        texts.push_back("the cat sat on the mat number " + std::to_string(i) + " and the dog ran off");
    return texts;
}

TEST(Tokenizer, TrainsWithFixedSpecialIdsSavesAndLoads) {
    TokenizerOptions options;
    options.kind = "unigram";
    options.vocab = 40;  // the text has 53 pieces at most
    auto tokenizer = Tokenizer::train(someTexts(), options, 7, "spm");
    EXPECT_EQ(tokenizer->size(), 40);
    EXPECT_EQ(tokenizer->piece(0), "<pad>");
    EXPECT_EQ(tokenizer->piece(1), "<unk>");
    EXPECT_EQ(tokenizer->piece(2), "<s>");
    EXPECT_EQ(tokenizer->piece(3), "</s>");
    EXPECT_EQ(tokenizer->piece(4), "<cls>");
    auto ids = tokenizer->encode("the cat ran");
    ASSERT_FALSE(ids.empty());
    for (int64_t id : ids) EXPECT_GE(id, SpecialIds::count);
    EXPECT_EQ(tokenizer->decode(ids), "the cat ran");
    // The same text and seed give the same model.
    auto again = Tokenizer::train(someTexts(), options, 7, "spm");
    EXPECT_EQ(again->encode("the dog sat on the mat"), tokenizer->encode("the dog sat on the mat"));
    TempDir dir;
    EXPECT_EQ(tokenizer->save(dir.path()), "tokenizer.model");
    auto loaded = Tokenizer::load(dir / "tokenizer.model");
    EXPECT_EQ(loaded->encode("the cat ran"), ids);
    for (const char* kind : {"bpe", "char", "word"}) {
        options.kind = kind;
        auto other = Tokenizer::train(someTexts(), options, 7, "spm");
        EXPECT_EQ(other->piece(4), "<cls>") << kind;
        EXPECT_FALSE(other->encode("the cat").empty()) << kind;
    }
}

TEST(Tokenizer, BadFileAndTooSmallVocabularyAreClearErrors) {
    TempDir dir;
    writeText(dir / "not.model", "this is not a sentencepiece model");
    std::string message = errorOf([&] { Tokenizer::load(dir / "not.model"); });
    EXPECT_NE(message.find("not.model` is not a sentencepiece model"), std::string::npos) << message;
    EXPECT_NE(errorOf([&] { Tokenizer::load(dir / "missing.model"); }).find("cannot open"), std::string::npos);
    TokenizerOptions options;
    options.vocab = 4;
    message = errorOf([&] { Tokenizer::train(someTexts(), options, 1, "spm"); });
    EXPECT_NE(message.find("cannot hold the 5 special tokens"), std::string::npos) << message;
    options.vocab = 100000;
    message = errorOf([&] { Tokenizer::train(someTexts(), options, 1, "spm"); });
    EXPECT_NE(message.find("lower `vocab`"), std::string::npos) << message;
    options.vocab = 60;
    message = errorOf([&] { Tokenizer::train({"", "  "}, options, 1, "spm"); });
    EXPECT_NE(message.find("no text"), std::string::npos) << message;
}

const char* kTextData = R"(
tokenizer spm {
    train = sentencepiece(vocab = 30, kind = "char")
    from  = d.train.text
}
data d {
    source     = csv("t.csv")
    blocks     = (text(tokenizer = spm, max_len = 6), category)
    x          = column("text")
    y          = column("label")
    split      = random(valid = 0.25, seed = 1)
    batch_size = 8
})";

// Prepares `d` of `text` as a run does: load, the tokenizer stage, prepare.
std::unique_ptr<PreparedData> prepareWithTokenizer(const fs::path& dir, const std::string& text) {
    auto c = compile(dir, text);
    auto data = prepareData(*c.data, dir, 42);
    auto tokenizer = makeTokenizer(*c.compilation->pipeline.find("tokenizer", "spm"), data.get(), dir, 42, dir / "spm");
    EXPECT_TRUE(fs::exists(dir / "spm" / "tokenizer.model"));
    dynamic_cast<TextPreparation&>(*data).tokenize(tokenizer);
    return data;
}

TEST(TextBlock, TruncatesPadsMasksAndBucketsTheSameWithAnyWorkers) {
    TempDir dir;
    writeText(dir / "t.csv", twoLanguagesCsv(120) + "\"   \",x\n");  // the last text is empty: left out
    auto data = prepareWithTokenizer(dir.path(), kTextData);
    const DataInfo& info = data->info();
    EXPECT_EQ(info.input, "text");
    EXPECT_EQ(info.context, 6);
    EXPECT_EQ(info.classes, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(data->size(Split::Train) + data->size(Split::Valid), 120);
    auto one = epoch(*data, Split::Train, 8, 0, 2), four = epoch(*data, Split::Train, 8, 4, 2);
    ASSERT_EQ(one.size(), four.size());
    bool padded = false, varied = false;
    for (size_t b = 0; b < one.size(); ++b) {
        EXPECT_TRUE(torch::equal(one[b].x, four[b].x));
        EXPECT_TRUE(torch::equal(one[b].mask, four[b].mask));
        EXPECT_EQ(one[b].index, four[b].index);
        const Batch& batch = one[b];
        EXPECT_LE(batch.x.size(1), 6);  // cut to max_len
        // Padding where the mask is false, and only there; each row's tokens first.
        EXPECT_TRUE(torch::equal(batch.x.eq(info.padId), batch.mask.logical_not()));
        EXPECT_TRUE(batch.mask.select(1, 0).all().item<bool>());
        padded = padded || !batch.mask.all().item<bool>();
        varied = varied || batch.x.size(1) != one[0].x.size(1);
    }
    EXPECT_TRUE(padded);
    EXPECT_TRUE(varied);  // bucketed batches have their own lengths
    // Another epoch, another order; the same epoch again, the same.
    auto other = epoch(*data, Split::Train, 8, 0, 3);
    EXPECT_NE(other[0].index, one[0].index);
    EXPECT_EQ(epoch(*data, Split::Train, 8, 2, 2)[0].index, one[0].index);
    // Within a chunk of batches, lengths are sorted: little padding.
    int64_t pads = 0, tokens = 0;
    for (const auto& batch : one) {
        pads += batch.mask.logical_not().sum().item<int64_t>();
        tokens += batch.mask.sum().item<int64_t>();
    }
    EXPECT_LT(pads, tokens / 4);
}

TEST(TextBlock, InvalidUtf8NamesTheFileAndLine) {
    TempDir dir;
    writeText(dir / "t.csv", "text,label\nfine,x\n\"caf\xe9\",y\n");
    std::string message = errorOf([&] { prepareWithTokenizer(dir.path(), kTextData); });
    EXPECT_NE(message.find("t.csv` line 3 is not valid UTF-8"), std::string::npos) << message;
}

TEST(TokensBlock, AStreamOfItemsCutIntoWindows) {
    TempDir dir;
    std::string lines;
    for (int i = 0; i < 40; ++i) lines += "abc abd\n";
    writeText(dir / "l.txt", lines);
    auto data = prepareWithTokenizer(dir.path(), R"(
tokenizer spm {
    train = sentencepiece(vocab = 20, kind = "char")
    from  = d.train.text
}
data d {
    source = lines("l.txt")
    blocks = (tokens(tokenizer = spm, context = 5))
    split  = random(valid = 0.25, seed = 1)
})");
    const DataInfo& info = data->info();
    EXPECT_EQ(info.input, "tokens");
    EXPECT_EQ(info.outputs, info.vocab);
    auto batches = epoch(*data, Split::Valid, 1000, 0);
    ASSERT_EQ(batches.size(), 1u);
    const Batch& b = batches[0];
    // Windows follow each other: y is x shifted by one, and the next window starts where y ends.
    for (int64_t w = 0; w + 1 < b.x.size(0); ++w) {
        auto x = row(b.x, w), y = row(b.y, w), next = row(b.x, w + 1);
        for (int t = 0; t + 1 < 5; ++t)
            if (y[size_t(t)] != -100) {
                EXPECT_EQ(y[size_t(t)], x[size_t(t) + 1]);
            }
        if (next[0] != SpecialIds::bos) {
            EXPECT_EQ(y[4], next[0]);
        }
    }
    EXPECT_EQ(row(b.x, 0)[0], SpecialIds::bos);
    // Each item ends with eos; nothing predicts a bos.
    EXPECT_EQ((b.y == SpecialIds::eos).sum().item<int64_t>(), 10);
    EXPECT_EQ((b.y == SpecialIds::bos).sum().item<int64_t>(), 0);
}

TEST(Tfidf, ValuesAsComputedByHand) {
    // Two documents over ids 5, 6, 7; unigrams, raw counts.
    std::vector<std::vector<int64_t>> docs = {{5, 5, 6}, {6, 7}};
    torch::Tensor f = tfidfFeatures(docs, docs, 8, 1, 1, 10, /*sublinear=*/false);
    // Keys (id + 1): 6, 7, 8 in order. idf = ln(3 / (1 + df)) + 1.
    const double idf5 = std::log(3.0 / 2) + 1, idf6 = 1.0, idf7 = std::log(3.0 / 2) + 1;
    double a = 2 * idf5, b = 1 * idf6, norm = std::sqrt(a * a + b * b);
    EXPECT_NEAR(f[0][0].item<double>(), a / norm, 1e-6);
    EXPECT_NEAR(f[0][1].item<double>(), b / norm, 1e-6);
    EXPECT_NEAR(f[0][2].item<double>(), 0, 1e-9);
    double c = idf6, d = idf7, norm1 = std::sqrt(c * c + d * d);
    EXPECT_NEAR(f[1][1].item<double>(), c / norm1, 1e-6);
    EXPECT_NEAR(f[1][2].item<double>(), d / norm1, 1e-6);
    EXPECT_EQ(f.sum(0).slice(0, 3).abs().sum().item<double>(), 0);
    // Sublinear counts, bigrams too, and the most frequent n-grams only.
    torch::Tensor s = tfidfFeatures(docs, {{5, 5, 6}}, 8, 1, 2, 3, /*sublinear=*/true);
    // The 3 most frequent of 5 5 | 5 6 | 6 7 | 5 | 6 | 7 are 5 (2), 6 (2) and then by key 7 (1).
    const double t5 = (1 + std::log(2.0)) * idf5, t6 = idf6;
    double n2 = std::sqrt(t5 * t5 + t6 * t6);
    EXPECT_NEAR(s[0][0].item<double>(), t5 / n2, 1e-6);
    EXPECT_NEAR(s[0][1].item<double>(), t6 / n2, 1e-6);
}

}  // namespace
}  // namespace pipelang::runtime
