// The examples that fine-tune pretrained models, run as a user runs them on
// small models the tests make, in caches of their own.
//
// examples/fortune_topics_bert.pipe on a small DistilBERT that
// make_bert_family.py lays out in a Hugging Face cache (HF_HOME) as
// `distilbert/distilbert-base-uncased`: the model's config.json
// gives the sizes, its vocab.txt the tokenizer with [CLS] ... [SEP], a
// fine-tune runs, and `pipe predict` needs only the run folder (its copy of
// the tokenizer, the sizes it recorded) once the cache is gone.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "runtime/data/tokenizer.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"
#include "tests/runtime/test_files.h"

using namespace pipelang;
using namespace pipelang::runtime;

TEST(PretrainedExamples, FortuneTopicsBertFineTunesAModelFromHuggingFacesCache) {
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

    // The run folder is enough to predict: the sizes config.json gave are in
    // its model-config.txt, and the trained weights replace the pretrained ones.
    EXPECT_NE(readFile(runDir / "model-config.txt").find("bert.backbone.arch=\"distilbert\"\n"), std::string::npos);
    std::filesystem::remove_all(home);
    CommandResult predict = runShell(pipe + " predict " + runDir.string() + " \"Eat, drink and be merry.\"");
    ASSERT_EQ(predict.status, 0) << predict.output;
    bool named = false;
    for (const char* topic : {"art", "food", "science", "sports", "love", "politics"})
        named = named || predict.output.find(std::string(topic) + " 0.") != std::string::npos;
    EXPECT_TRUE(named) << predict.output;
}

// examples/emotions.pipe on torchvision's resnet18 layout (python3-torchvision
// writes a seeded one with torch.save) named as torchvision names its file, in
// PyTorch's cache (TORCH_HOME), and a folder of images of two classes given
// with --set: the file loads by its name, normalize() takes ImageNet's
// statistics, and fine_tune's frozen and unfrozen epochs run.
TEST(PretrainedExamples, EmotionsFineTunesTorchvisionsFileFromPyTorchsCache) {
    if (!pythonCanImport("torch, torchvision")) GTEST_SKIP() << "/usr/bin/python3 cannot import torchvision";
    TempDir dir;
    std::string make =
        "cd " PIPE_SOURCE_DIR "/tests/runtime && /usr/bin/python3 make_weights.py pth " + dir.path().string();
    ASSERT_EQ(std::system(make.c_str()), 0) << make;
    std::filesystem::create_directories(dir / "torch/hub/checkpoints");
    std::filesystem::rename(dir / "resnet18.pth", dir / "torch/hub/checkpoints/resnet18-f37072fd.pth");
    makeStripes(dir.path(), 12);
    const std::string pipe = "TORCH_HOME=" + (dir / "torch").string() + " " + PIPE_BINARY;
    CommandResult run =
        runShell(pipe + " run " PIPE_SOURCE_DIR "/examples/emotions.pipe --threads 1 --runs " +
                 (dir / "runs").string() + " --set 'emotions.source.path=\"" + (dir / "images").string() +
                 "\"' --set 'emotions.item=[resize(32)]'" + " --set train.schedule.epochs=1");
    ASSERT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("resnet18-f37072fd.pth"), std::string::npos) << run.output;
    auto runDir = std::filesystem::directory_iterator(dir / "runs")->path();
    std::string plan = readFile(runDir / "plan.txt");
    EXPECT_NE(plan.find("mean = [0.485, 0.456, 0.406]"), std::string::npos) << plan;
    EXPECT_NE(plan.find("from weights"), std::string::npos) << plan;
    // One frozen epoch, then one with everything trained.
    std::string metrics = readFile(runDir / "train" / "metrics.csv");
    EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 3) << metrics;
}
