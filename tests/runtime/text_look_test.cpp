// Text through the commands that look at data and models, end to end: `pipe
// show` of text and of character windows, `pipe interpret` of a text
// classifier, and `pipe generate` from a sentencepiece language model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/data/table.h"
#include "tests/runtime/compiled.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"
#include "tests/runtime/trained_once.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;

// The lines of a file, 1-based: lines[0] is empty.
std::vector<std::string> linesOf(const fs::path& path) {
    std::vector<std::string> lines = {""};
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// "FILE line N[, character K]" → N (and K).
std::pair<int, int> lineAndCharacter(const std::string& item) {
    size_t at = item.rfind(" line ");
    if (at == std::string::npos) return {-1, -1};
    int line = std::stoi(item.substr(at + 6));
    size_t c = item.find(", character ", at);
    return {line, c == std::string::npos ? 0 : std::stoi(item.substr(c + 12))};
}

// Reviews of two kinds, told apart by their words; every text is unique.
std::string reviewsCsv() {
    const char* good[] = {"good", "great", "fine", "lovely"};
    const char* bad[] = {"bad", "awful", "dull", "poor"};
    std::string csv = "text,label\n";
    for (int i = 0; i < 48; ++i) {
        bool positive = i % 2 == 0;
        const char** words = positive ? good : bad;
        csv += std::string(words[i % 4]) + " film " + words[(i / 4) % 4] + " plot number " + std::to_string(i) + "," +
               (positive ? "pos" : "neg") + "\n";
    }
    return csv;
}

const char* kReviewsPipe = R"(seed 2
tokenizer spm {
    train = sentencepiece(vocab = 40, kind = "char")
    from  = reviews.train.text
}
data reviews {
    source     = csv("reviews.csv")
    blocks     = (text(tokenizer = spm, max_len = 12), category)
    split      = random(valid = 0.25, seed = 1)
    batch_size = 8
}
model m {
    backbone = gru(dim = 16)
    head     = classifier(pool = "mean")
}
train fit {
    optimizer = adamw(lr = 1e-2)
    schedule  = one_cycle(epochs = 2)
    metrics   = [accuracy]
}
)";

TEST(TextShow, TextItemsAreTheTextTheNetworkReadsNamedByTheirLine) {
    TempDir dir("pipe-text-show");
    writeText(dir / "reviews.csv", reviewsCsv());
    fs::path file = writeText(dir / "reviews.pipe", kReviewsPipe);
    CommandResult r = runPipeCommand("show " + file.string() + " --out " + (dir / "shown").string());
    ASSERT_EQ(r.status, 0) << r.output;
    Table shown = readCsv(dir / "shown" / "batch.csv");
    EXPECT_EQ(shown.columns, (std::vector<std::string>{"#", "item", "text", "tokens", "label"}));
    ASSERT_EQ(shown.size(), 8);
    auto lines = linesOf(dir / "reviews.csv");
    for (int64_t i = 0; i < shown.size(); ++i) {
        auto [line, character] = lineAndCharacter(shown.cell(i, 1));
        ASSERT_GE(line, 2) << shown.cell(i, 1);
        const std::string& source = lines[size_t(line)];
        std::string text = source.substr(0, source.rfind(','));
        // Cut to max_len = 12 tokens of one character each, the first being
        // the "▁" that sentencepiece puts before the first word.
        EXPECT_EQ(shown.cell(i, 2), text.substr(0, 11)) << source;
        EXPECT_EQ(shown.cell(i, 3), "12");
        EXPECT_EQ(shown.cell(i, 4), source.substr(source.rfind(',') + 1));
    }
}

TEST(TextShow, CharacterWindowsShowTheirContextAndTheNextCharacter) {
    TempDir dir("pipe-chars-show");
    writeText(dir / "words.txt", "apple\nbanana\ncherry\ndate\nelder\nfig\ngrape\nhoney\n");
    fs::path file = writeText(dir / "words.pipe", R"(data words {
    source     = lines("words.txt")
    blocks     = (chars(context = 3))
    split      = random(valid = 0.25, seed = 1)
    batch_size = 10
}
)");
    CommandResult r = runPipeCommand("show " + file.string() + " --out " + (dir / "shown").string());
    ASSERT_EQ(r.status, 0) << r.output;
    Table shown = readCsv(dir / "shown" / "batch.csv");
    EXPECT_EQ(shown.columns, (std::vector<std::string>{"#", "item", "context", "next"}));
    ASSERT_EQ(shown.size(), 10);
    auto lines = linesOf(dir / "words.txt");
    for (int64_t i = 0; i < shown.size(); ++i) {
        auto [line, k] = lineAndCharacter(shown.cell(i, 1));
        ASSERT_GE(line, 1) << shown.cell(i, 1);
        const std::string& word = lines[size_t(line)];
        ASSERT_GE(k, 1);
        ASSERT_LE(size_t(k), word.size() + 1);
        // Window k predicts the word's k-th character (or its end) from the
        // three before it, bos standing in before the word starts.
        EXPECT_EQ(shown.cell(i, 3), size_t(k) <= word.size() ? word.substr(size_t(k) - 1, 1) : "</s>");
        std::string context;
        for (int t = k - 4; t < k - 1; ++t) context += t < 0 ? "<s>" : word.substr(size_t(t), 1);
        EXPECT_EQ(shown.cell(i, 2), context) << word << " " << k;
    }
}

// A GRU review classifier, trained once for the interpret tests.
struct ReviewsRun {
    static constexpr const char* kName = "pipe-text-interpret";
    static fs::path write(const TempDir& dir) {
        writeText(dir / "reviews.csv", reviewsCsv());
        return writeText(dir / "reviews.pipe", kReviewsPipe);
    }
};
using TextInterpret = TrainedOnce<ReviewsRun>;

TEST_F(TextInterpret, TopLossesShowTheTextsWithTheTokenizerTheRunSaved) {
    CommandResult r = runPipeCommand("interpret " + run_.string() + " --top 4");
    ASSERT_EQ(r.status, 0) << r.output;
    Table top = readCsv(run_ / "interpret" / "valid-top-losses.csv");
    EXPECT_EQ(top.columns,
              (std::vector<std::string>{"rank", "item", "text", "tokens", "true", "predicted", "probability", "loss"}));
    ASSERT_EQ(top.size(), 4);
    auto lines = linesOf(*dir_ / "reviews.csv");
    double previous = 1e9;
    for (int64_t i = 0; i < top.size(); ++i) {
        auto [line, character] = lineAndCharacter(top.cell(i, 1));
        ASSERT_GE(line, 2) << top.cell(i, 1);
        const std::string& source = lines[size_t(line)];
        EXPECT_EQ(top.cell(i, 2), source.substr(0, 11));
        EXPECT_EQ(top.cell(i, 4), source.substr(source.rfind(',') + 1));
        double loss = std::stod(top.cell(i, 7));
        EXPECT_LE(loss, previous);
        previous = loss;
    }
    EXPECT_NE(r.output.find("confusion matrix"), std::string::npos) << r.output;
}

// A language model on a small corpus of sentences, tokenized into words.
const char* kSentencesPipe = R"(seed 4
tokenizer spm {
    train = sentencepiece(vocab = 14, kind = "word")  # the 9 words and the 5 specials
    from  = lines.train.text
}
data lines {
    source     = lines("lines.txt")
    blocks     = (tokens(tokenizer = spm, context = 8))
    split      = random(valid = 0.2, seed = 1)
    batch_size = 8
}
model lm {
    backbone = lstm(dim = 32)
    head     = next_token(tied = true)
}
train fit {
    optimizer = adamw(lr = 3e-2)
    schedule  = one_cycle(epochs = 12)
    metrics   = [perplexity]
}
)";

TEST(TextGenerate, ASentencepieceLanguageModelSamplesDecodedText) {
    TempDir dir("pipe-tokens-generate");
    std::string corpus;
    for (int i = 0; i < 60; ++i) corpus += i % 2 ? "the dog ran to the park\n" : "the cat sat on the mat\n";
    writeText(dir / "lines.txt", corpus);
    fs::path file = writeText(dir / "lm.pipe", kSentencesPipe);
    TrainedRun trained = trainRun(file, dir / "runs");
    ASSERT_EQ(trained.result.status, 0) << trained.result.output;
    const fs::path& run = trained.dir;

    // Greedy, from a prompt: the model has learned the two sentences.
    CommandResult r = runPipeCommand("generate " + run.string() + " --n 1 --temperature 0 --prompt \"the cat sat\"");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output, "the cat sat on the mat\n");
    r = runPipeCommand("generate " + run.string() + " --n 1 --temperature 0 --prompt \"the dog\"");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output, "the dog ran to the park\n");
    // Sampled: every line is made of the corpus's words.
    r = runPipeCommand("generate " + run.string() + " --n 5 --seed 3");
    ASSERT_EQ(r.status, 0) << r.output;
    std::istringstream samples(r.output);
    int count = 0;
    for (std::string sample; std::getline(samples, sample); ++count) {
        std::istringstream words(sample);
        for (std::string word; words >> word;)
            EXPECT_NE(std::string(" the dog ran to park cat sat on mat ").find(" " + word + " "), std::string::npos)
                << sample;
    }
    EXPECT_EQ(count, 5);

    // A language model has no classes to interpret.
    r = runPipeCommand("interpret " + run.string());
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("is a language model"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("pipe generate"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace pipelang::runtime
