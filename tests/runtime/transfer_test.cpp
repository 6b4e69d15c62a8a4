// Transfer between stages, end to end: a language model pretrained on text,
// then its backbone in two classifiers, one fine-tuning it (`fine_tune`) and
// one keeping it fixed (`freeze = true`: feature extraction).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "runtime/data/table.h"
#include "runtime/safetensors.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;

const char* kTransferPipe = R"(seed 3
tokenizer spm {
    train = sentencepiece(vocab = 40, kind = "char")
    from  = corpus.train.text
}
data corpus {
    source     = lines("corpus.txt")
    blocks     = (tokens(tokenizer = spm, context = 16))
    split      = random(valid = 0.2, seed = 1)
    batch_size = 8
}
data reviews {
    source     = csv("reviews.csv")
    blocks     = (text(tokenizer = spm, max_len = 24), category)
    split      = random(valid = 0.25, seed = 1)
    batch_size = 8
}
model lm {
    backbone = lstm(dim = 16)
    head     = next_token
}
train pre {
    model     = lm
    data      = corpus
    optimizer = adamw(lr = 1e-2)
    schedule  = one_cycle(epochs = 2)
}
model tuned_model {
    backbone = pre.backbone
    head     = classifier(pool = "mean")
}
train tuned {
    model     = tuned_model
    data      = reviews
    optimizer = adamw(lr = 1e-2)
    schedule  = fine_tune(epochs = 2, freeze_epochs = 1)
}
model features_model {
    backbone = pre.backbone
    freeze   = true
    head     = classifier(pool = "mean")
}
train features {
    model     = features_model
    data      = reviews
    optimizer = adamw(lr = 1e-2)
    schedule  = one_cycle(epochs = 3)
}
)";

std::map<std::string, torch::Tensor> weightsOf(const fs::path& file) {
    std::map<std::string, torch::Tensor> byName;
    for (auto& [name, tensor] : readSafetensors(file).tensors) byName[name] = tensor;
    return byName;
}

TEST(Transfer, AFrozenTransferredBackboneKeepsThePretrainedWeightsAndAFineTunedOneLearns) {
    TempDir dir("pipe-transfer");
    std::ofstream corpus(dir / "corpus.txt"), reviews(dir / "reviews.csv");
    reviews << "text,label\n";
    const char* good[] = {"good", "great", "fine", "lovely"};
    const char* bad[] = {"bad", "awful", "dull", "poor"};
    for (int i = 0; i < 64; ++i) {
        bool positive = i % 2 == 0;
        std::string text = std::string(positive ? good[i % 4] : bad[i % 4]) + " film " +
                           (positive ? good[(i / 4) % 4] : bad[(i / 4) % 4]) + " plot " + std::to_string(i);
        corpus << text << "\n";
        reviews << text << "," << (positive ? "pos" : "neg") << "\n";
    }
    corpus.close();
    reviews.close();
    std::ofstream(dir / "transfer.pipe") << kTransferPipe;

    TrainedRun trained = trainRun(dir / "transfer.pipe", dir / "runs");
    ASSERT_EQ(trained.result.status, 0) << trained.result.output;
    auto pre = weightsOf(trained.dir / "pre" / "weights.safetensors");
    auto tuned = weightsOf(trained.dir / "tuned" / "weights.safetensors");
    auto features = weightsOf(trained.dir / "features" / "weights.safetensors");

    // The backbone's tensors are those of the language model's own backbone;
    // the heads differ (next-token decoder, classifier).
    int backbone = 0, changed = 0;
    for (const auto& [name, weight] : pre) {
        if (!features.count(name) || !features[name].sizes().equals(weight.sizes())) continue;
        ++backbone;
        EXPECT_TRUE(torch::equal(features[name], weight)) << name << " changed under `freeze = true`";
        ASSERT_TRUE(tuned.count(name)) << name;
        if (!torch::equal(tuned[name], weight)) ++changed;
    }
    EXPECT_GE(backbone, 5) << "embedding and LSTM tensors expected in both files";
    EXPECT_GT(changed, 0) << "fine_tune's unfrozen epochs left the whole backbone as pretrained";

    // The frozen model's head did learn: its training loss fell.
    Table metrics = readCsv(trained.dir / "features" / "metrics.csv");
    ASSERT_EQ(metrics.rows.size(), 3u);
    EXPECT_LT(std::stod(metrics.rows[2][1]), std::stod(metrics.rows[0][1]));
}

}  // namespace
}  // namespace pipelang::runtime
