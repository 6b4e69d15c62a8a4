// examples/fortune_topics_bert.pipe as a user runs it, on a small DistilBERT
// that make_bert_family.py lays out in a Hugging Face cache of the test's own
// (HF_HOME) as `distilbert/distilbert-base-uncased`: the model's config.json
// gives the sizes, its vocab.txt the tokenizer with [CLS] ... [SEP], a
// fine-tune runs, and `pipe predict` reads the run folder's copy of the tokenizer.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/data/tokenizer.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"
#include "tests/runtime/test_files.h"

using namespace pipelang;
using namespace pipelang::runtime;

TEST(HuggingFace, TheFineTuningExampleRunsOnAModelFromTheCache) {
    if (!pythonCanImport("torch")) GTEST_SKIP() << "/usr/bin/python3 cannot import torch";
    TempDir dir;
    const std::string home = (dir / "hf-home").string();
    std::string make = "cd " PIPE_SOURCE_DIR "/tests/runtime && /usr/bin/python3 make_bert_family.py --hub " + home +
                       " distilbert/distilbert-base-uncased /usr/share/games/fortunes";
    ASSERT_EQ(std::system(make.c_str()), 0) << make;
    const std::string pipe = std::string("HF_HOME=") + home + " " + PIPE_BINARY;

    CommandResult run = runShell(pipe + " run " PIPE_SOURCE_DIR "/examples/fortune_topics_bert.pipe --set " +
                                 "fit.schedule.epochs=1 --threads 1 --runs " + (dir / "runs").string());
    ASSERT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("tokenizer wordpiece: 3000 tokens (tokenizers) from distilbert/distilbert-base-uncased"),
              std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find("the backbone is under `distilbert.`"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("arch = \"distilbert\", vocab = 3000"), std::string::npos) << run.output;
    auto runDir = std::filesystem::directory_iterator(dir / "runs")->path();

    // The data's record names the tokenizer's ids and its copy of vocab.txt.
    auto stats = nlohmann::json::parse(readFile(runDir / "topics" / "stats.json"));
    EXPECT_EQ(stats["tokenizer"], "vocab.txt");
    EXPECT_EQ(stats["pad_id"], 0);
    EXPECT_EQ(stats["cls_id"], 2);
    auto tokenizer = Tokenizer::load(runDir / "topics" / "vocab.txt");
    bool cut = false;
    auto ids = tokenizer->encodeForModel("THE World! Thé end.", 128, &cut);
    ASSERT_GE(ids.size(), 3u);
    EXPECT_EQ(tokenizer->piece(ids.front()), "[CLS]");
    EXPECT_EQ(tokenizer->piece(ids.back()), "[SEP]");
    EXPECT_EQ(tokenizer->piece(ids[1]), "the");  // lowercased, as an uncased model's tokenizer does
    EXPECT_FALSE(cut);
    // max_len counts the special tokens.
    ids = tokenizer->encodeForModel("one two three four five six", 4, &cut);
    EXPECT_EQ(ids.size(), 4u);
    EXPECT_TRUE(cut);
    EXPECT_EQ(tokenizer->piece(ids.back()), "[SEP]");

    CommandResult predict = runShell(pipe + " predict " + runDir.string() + " \"Eat, drink and be merry.\"");
    ASSERT_EQ(predict.status, 0) << predict.output;
    bool named = false;
    for (const char* topic : {"art", "food", "science", "sports", "love", "politics"})
        named = named || predict.output.find(std::string(topic) + " 0.") != std::string::npos;
    EXPECT_TRUE(named) << predict.output;
}
