// tf-idf + linear end to end through `pipe run`: the n-gram statistics are
// fitted on the training split, saved with the weights, and the linear head
// learns from them.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "runtime/safetensors.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;

// Texts of two kinds that only their letters tell apart: "xq" words against
// "ab" words, in random order and length.
void writeTexts(const fs::path& path) {
    std::mt19937 rng(3);
    std::ofstream out(path);
    out << "text,label\n";
    const char* alphabets[] = {"xqz", "abc"};
    for (int i = 0; i < 200; ++i) {
        int kind = i % 2;
        std::string text;
        int words = 3 + int(rng() % 6);
        for (int w = 0; w < words; ++w) {
            if (w) text += ' ';
            int letters = 2 + int(rng() % 4);
            for (int l = 0; l < letters; ++l) text += alphabets[kind][rng() % 3];
        }
        out << "\"" << text << "\"," << (kind ? "latin" : "other") << "\n";
    }
}

double lastColumn(const fs::path& csv, const std::string& name) {
    std::ifstream in(csv);
    std::string header, line, last;
    std::getline(in, header);
    while (std::getline(in, line))
        if (!line.empty()) last = line;
    std::vector<std::string> names, values;
    for (std::stringstream h(header); std::getline(h, line, ',');) names.push_back(line);
    for (std::stringstream v(last); std::getline(v, line, ',');) values.push_back(line);
    for (size_t i = 0; i < names.size() && i < values.size(); ++i)
        if (names[i] == name) return std::stod(values[i]);
    return -1;
}

TEST(TfidfRun, FitsOnTheTrainingSplitSavesItsStatisticsAndLearns) {
    TempDir dir("tfidf-run");
    const fs::path& root = dir.path();
    writeTexts(root / "texts.csv");
    std::ofstream(root / "t.pipe") << R"(seed 1

tokenizer letters {
    train = sentencepiece(vocab = 20, kind = "char", character_coverage = 1.0)
    from  = texts.train.text
}

data texts {
    source     = csv("texts.csv")
    blocks     = (text(tokenizer = letters, max_len = 64), category)
    x          = column("text")
    y          = column("label")
    split      = random(valid = 0.25, seed = 1)
    batch_size = 16
}

model {
    backbone = tfidf(ngrams = [1, 2], max_features = 200)
    head     = linear
}

train fit {
    optimizer = adamw(lr = 5e-2, weight_decay = 0.0)
    schedule  = one_cycle(epochs = 3)
}
)";
    TrainedRun trained = trainRun(root / "t.pipe", root / "runs");
    ASSERT_EQ(trained.result.status, 0) << trained.result.output;
    const fs::path& run = trained.dir;
    EXPECT_GE(lastColumn(run / "fit" / "metrics.csv", "accuracy"), 0.95) << trained.result.output;

    // The fitted vocabulary travels with the weights: n-gram keys and idf
    // values, not the initial placeholders.
    torch::Tensor idf;
    for (const auto& [name, tensor] : readSafetensors(run / "fit" / "weights.safetensors").tensors)
        if (name.size() >= 14 && name.substr(name.size() - 14) == "vocabulary.idf") idf = tensor;
    ASSERT_TRUE(idf.defined()) << "the tf-idf statistics are not in the weights";
    EXPECT_GT(idf.gt(0).sum().item<int64_t>(), 10);
}

}  // namespace
}  // namespace pipelang::runtime
