// Text models: the sequence backbones (embedding_mlp, lstm, gru, transformer
// with BERT's names), masked pooling, next_token (tied or not), the token
// loss and perplexity, a tiny language model that must learn, and sampling.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>

#include "interpreter/compile.h"
#include "runtime/error.h"
#include "runtime/models/network.h"
#include "runtime/safetensors.h"
#include "runtime/sampling.h"
#include "runtime/train/loss.h"
#include "runtime/train/metrics.h"
#include "tests/runtime/compiled.h"
#include "tests/runtime/temp_dir.h"
#include "tests/runtime/test_files.h"

using namespace pipelang;
using namespace pipelang::runtime;

namespace {

constexpr int64_t kVocab = 11;

// The checked model section of a small file: a language model on characters
// (`lm`), or a classifier on tokenized text.
Section textModel(const std::string& fields, bool languageModel) {
    std::string text =
        "tokenizer spm {\n"
        "    train = sentencepiece(vocab = 100)\n"
        "    from  = d.train.text\n"
        "}\n";
    text += languageModel ? "data d {\n"
                            "    source = lines(\"/nonexistent.txt\")\n"
                            "    blocks = (chars(context = 8))\n"
                            "}\n"
                          : "data d {\n"
                            "    source = fortunes(\"/nonexistent\")\n"
                            "    blocks = (text(tokenizer = spm, max_len = 32), category)\n"
                            "    split  = random(valid = 0.2, seed = 1)\n"
                            "}\n";
    text += "model m { " + fields + " }\ntrain t { model = m  data = d }\n";
    return checkedModel(text, "/tmp/text_models_test.pipe");
}

DataInfo lmInfo(int64_t context = 8) {
    DataInfo info;
    info.input = "tokens";
    info.target = "tokens";
    info.vocab = kVocab;
    info.context = context;
    return info;
}

DataInfo textInfo(int64_t classes = 3) {
    DataInfo info;
    info.input = "text";
    info.target = "category";
    info.vocab = kVocab;
    info.context = 32;
    for (int64_t i = 0; i < classes; ++i) info.classes.push_back("c" + std::to_string(i));
    info.outputs = classes;
    return info;
}

std::shared_ptr<Network> lm(const std::string& fields, int64_t context = 8) {
    auto net = buildNetwork(textModel(fields, true), lmInfo(context), "/tmp");
    net->eval();
    return net;
}

std::shared_ptr<Network> classifier(const std::string& fields) {
    auto net = buildNetwork(textModel(fields, false), textInfo(), "/tmp");
    net->eval();
    return net;
}

Batch ids(torch::Tensor x, torch::Tensor mask = {}) {
    Batch b;
    b.x = std::move(x);
    b.mask = std::move(mask);
    return b;
}

std::vector<std::string> names(Network& n) {
    std::vector<std::string> out;
    for (const auto& [name, _] : namedState(n)) out.push_back(name);
    return out;
}

const char* kSequenceBackbones[] = {
    "lstm(dim = 16)",
    "gru(dim = 16, layers = 2)",
    "transformer(layers = 2, dim = 16, heads = 2, dropout = 0.0, causal = true)",
    "transformer(layers = 1, dim = 16, heads = 4, dropout = 0.0, norm = \"post\", positions = \"sinusoidal\", "
    "causal = true)",
};

// A classifier with `pool = "mean"` over a reference encoder's weights, against
// the reference's own features (FILE: `input`, `mask`, `output`) put through
// the same head: the largest difference of the scores.
double differenceFromReference(Network& net, const std::filesystem::path& file) {
    net.eval();
    NamedTensors io = readSafetensors(file);
    std::map<std::string, torch::Tensor> t(io.tensors.begin(), io.tensors.end());
    torch::Tensor mask = t.at("mask").to(torch::kBool), features = t.at("output");
    torch::NoGradGuard noGrad;
    torch::Tensor pooled = (features * mask.unsqueeze(2)).sum(1) / mask.sum(1, true);
    torch::Tensor expected;
    for (const auto& [name, tensor] : namedState(net)) {
        if (name == "head.fc.weight") expected = pooled.matmul(tensor.t());
        if (name == "head.fc.bias") expected = expected + tensor;
    }
    torch::Tensor out = net.forward(ids(t.at("input"), mask));
    return (out - expected).abs().max().item<double>();
}

}  // namespace

TEST(TextModels, LanguageModelShapes) {
    torch::manual_seed(0);
    torch::Tensor x = torch::randint(kVocab, {3, 8}, torch::kInt64);
    for (const char* backbone : kSequenceBackbones) {
        auto net = lm(std::string("backbone = ") + backbone + "  head = next_token");
        EXPECT_EQ(net->forward(ids(x)).sizes(), (std::vector<int64_t>{3, 8, kVocab})) << backbone;
    }
    // Bengio's model reads the whole window and predicts the token after it.
    auto mlp = lm("backbone = embedding_mlp(dim = 4, hidden = 32)  head = next_token");
    EXPECT_EQ(mlp->forward(ids(x)).sizes(), (std::vector<int64_t>{3, kVocab}));
    EXPECT_EQ(names(*mlp), (std::vector<std::string>{"embedding.weight", "hidden.weight", "hidden.bias",
                                                     "head.decoder.weight", "head.decoder.bias"}));
    // A shorter `context` than the data's reads the last tokens of each window.
    auto shortMlp = lm("backbone = embedding_mlp(dim = 4, hidden = 32, context = 3)  head = next_token");
    torch::Tensor changedStart = x.clone();
    changedStart.select(1, 0).fill_(0);
    torch::NoGradGuard noGrad;
    EXPECT_TRUE(torch::equal(shortMlp->forward(ids(x)), shortMlp->forward(ids(changedStart))));
}

TEST(TextModels, CausalModelsDoNotSeeTheFuture) {
    torch::manual_seed(1);
    torch::NoGradGuard noGrad;
    torch::Tensor x = torch::randint(kVocab, {2, 8}, torch::kInt64);
    torch::Tensor changed = x.clone();
    changed.select(1, 5).copy_((x.select(1, 5) + 1) % kVocab);  // position 5 changes
    for (const char* backbone : kSequenceBackbones) {
        auto net = lm(std::string("backbone = ") + backbone + "  head = next_token");
        torch::Tensor a = net->forward(ids(x)), b = net->forward(ids(changed));
        EXPECT_TRUE(torch::allclose(a.narrow(1, 0, 5), b.narrow(1, 0, 5), 1e-6, 1e-6)) << backbone;
        EXPECT_FALSE(torch::allclose(a.narrow(1, 5, 3), b.narrow(1, 5, 3))) << backbone;
    }
}

TEST(TextModels, AnEncoderSeesBothWays) {
    torch::manual_seed(2);
    torch::NoGradGuard noGrad;
    auto net = classifier(
        "backbone = transformer(layers = 1, dim = 16, heads = 2, dropout = 0.0)  "
        "head = classifier(pool = \"cls\")");
    torch::Tensor x = torch::randint(kVocab, {2, 8}, torch::kInt64);
    torch::Tensor changed = x.clone();
    changed.select(1, 7).copy_((x.select(1, 7) + 1) % kVocab);
    // The first position's features depend on the last token.
    EXPECT_FALSE(torch::allclose(net->forward(ids(x)), net->forward(ids(changed))));
}

TEST(TextModels, PoolingIgnoresPadding) {
    torch::manual_seed(3);
    torch::NoGradGuard noGrad;
    // Two texts of 5 and 3 tokens; the same texts padded further with
    // arbitrary ids (not the pad id) must score exactly alike.
    torch::Tensor x = torch::randint(1, kVocab, {2, 5}, torch::kInt64);
    torch::Tensor mask = torch::ones({2, 5}, torch::kBool);
    mask[1].narrow(0, 3, 2).fill_(false);
    torch::Tensor longer = torch::cat({x, torch::randint(kVocab, {2, 4}, torch::kInt64)}, 1);
    torch::Tensor longerMask = torch::cat({mask, torch::zeros({2, 4}, torch::kBool)}, 1);
    longer[1].narrow(0, 3, 2).random_(kVocab);
    for (const char* backbone : {"lstm(dim = 16, bidirectional = true, layers = 2)", "gru(dim = 16)",
                                 "transformer(layers = 2, dim = 16, heads = 2, dropout = 0.0)",
                                 "transformer(layers = 1, dim = 16, heads = 2, norm = \"post\", dropout = 0.0)"}) {
        for (const char* pool : {"mean", "max", "last", "cls", "auto"}) {
            auto net = classifier(std::string("backbone = ") + backbone + "  head = classifier(pool = \"" + pool +
                                  "\", hidden = [8])");
            torch::Tensor a = net->forward(ids(x, mask)), b = net->forward(ids(longer, longerMask));
            EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 3}));
            EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-5)) << backbone << " pool " << pool << "\n" << a << "\n" << b;
        }
    }
    // Without the mask the padding counts: the test above can fail.
    auto net = classifier("backbone = gru(dim = 16)  head = classifier(pool = \"mean\")");
    EXPECT_FALSE(torch::allclose(net->forward(ids(x, mask)), net->forward(ids(longer))));
}

TEST(TextModels, TransformerParametersFollowBert) {
    auto net = classifier("backbone = transformer(layers = 2, dim = 16, heads = 2, ffn = 24, norm = \"post\")");
    std::vector<std::string> expected = {
        "embeddings.word_embeddings.weight",
        "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight",
        "embeddings.LayerNorm.weight",
        "embeddings.LayerNorm.bias",
    };
    for (int layer = 0; layer < 2; ++layer) {
        std::string p = "encoder.layer." + std::to_string(layer) + ".";
        for (const char* name :
             {"attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight",
              "attention.self.key.bias", "attention.self.value.weight", "attention.self.value.bias",
              "attention.output.dense.weight", "attention.output.dense.bias", "attention.output.LayerNorm.weight",
              "attention.output.LayerNorm.bias", "intermediate.dense.weight", "intermediate.dense.bias",
              "output.dense.weight", "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias"})
            expected.push_back(p + name);
    }
    expected.push_back("head.fc.weight");
    expected.push_back("head.fc.bias");
    EXPECT_EQ(names(*net), expected);
    auto state = namedState(*net);
    EXPECT_EQ(state[0].second.sizes(), (std::vector<int64_t>{kVocab, 16}));
    EXPECT_EQ(state[1].second.sizes(), (std::vector<int64_t>{512, 16}));  // BERT's 512 positions
    // Pre-norm ends with a LayerNorm of its own; sinusoidal positions have no table.
    auto pre =
        names(*classifier("backbone = transformer(layers = 1, dim = 16, heads = 2, positions = \"sinusoidal\")"));
    EXPECT_NE(std::find(pre.begin(), pre.end(), "encoder.LayerNorm.weight"), pre.end());
    EXPECT_EQ(std::find(pre.begin(), pre.end(), "embeddings.position_embeddings.weight"), pre.end());
}

TEST(TextModels, TiedWeightsShareTheEmbedding) {
    torch::manual_seed(4);
    for (const char* backbone : {"lstm(dim = 16)", "transformer(layers = 1, dim = 16, heads = 2, causal = true)"}) {
        auto tied = lm(std::string("backbone = ") + backbone + "  head = next_token(tied = true)");
        auto untied = lm(std::string("backbone = ") + backbone + "  head = next_token");
        auto tiedNames = names(*tied);
        EXPECT_EQ(std::find(tiedNames.begin(), tiedNames.end(), "head.decoder.weight"), tiedNames.end());
        EXPECT_NE(std::find(tiedNames.begin(), tiedNames.end(), "head.bias"), tiedNames.end());
        int64_t tiedCount = 0, untiedCount = 0;
        for (const auto& p : tied->parameters()) tiedCount += p.numel();
        for (const auto& p : untied->parameters()) untiedCount += p.numel();
        EXPECT_EQ(untiedCount - tiedCount, kVocab * 16) << backbone;
        // The head reads the embedding's storage: zeroing the embedding in
        // place leaves only the bias in every score.
        torch::NoGradGuard noGrad;
        std::string embedding = tiedNames[0];
        for (auto& [name, tensor] : namedState(*tied)) {
            if (name == embedding) tensor.zero_();
            if (name == "head.bias") tensor.copy_(torch::arange(kVocab, torch::kFloat32));
        }
        torch::Tensor out = tied->forward(ids(torch::randint(kVocab, {2, 8}, torch::kInt64)));
        EXPECT_TRUE(torch::allclose(out, torch::arange(kVocab, torch::kFloat32).expand_as(out))) << backbone;
    }
    EXPECT_NE(errorOf([] {
                  lm("backbone = embedding_mlp(dim = 4, hidden = 32)  head = next_token(tied = true)");
              }).find("as wide as the embedding"),
              std::string::npos);
}

TEST(TextModels, WeightsRoundTripBySafetensorsNames) {
    TempDir dir;
    for (const char* backbone : kSequenceBackbones) {
        torch::manual_seed(5);
        auto a = lm(std::string("backbone = ") + backbone + "  head = next_token(tied = true)");
        torch::manual_seed(6);
        auto b = lm(std::string("backbone = ") + backbone + "  head = next_token(tied = true)");
        torch::Tensor x = torch::randint(kVocab, {2, 8}, torch::kInt64);
        torch::NoGradGuard noGrad;
        EXPECT_FALSE(torch::equal(a->forward(ids(x)), b->forward(ids(x))));
        saveWeights(*a, dir.path() / "lm.safetensors");
        loadWeights(*b, dir.path() / "lm.safetensors");
        EXPECT_TRUE(torch::equal(a->forward(ids(x)), b->forward(ids(x)))) << backbone;
    }
}

TEST(TextModels, ClearErrors) {
    EXPECT_NE(errorOf([] { lm("backbone = transformer(dim = 16, heads = 2)  head = next_token"); }).find("causal"),
              std::string::npos);
    EXPECT_NE(errorOf([] {
                  lm("backbone = lstm(dim = 8, bidirectional = true)  head = next_token");
              }).find("bidirectional = false"),
              std::string::npos);
    EXPECT_NE(errorOf([] { classifier("backbone = transformer(dim = 10, heads = 4)"); }).find("multiple of heads"),
              std::string::npos);
    auto net = lm("backbone = embedding_mlp(dim = 4, hidden = 8)  head = next_token");
    EXPECT_NE(errorOf([&] { net->forward(ids(torch::zeros({2, 8}))); }).find("int64 token ids"), std::string::npos);
    EXPECT_NE(errorOf([&] {
                  net->forward(ids(torch::zeros({2, 3}, torch::kInt64)));
              }).find("context"),
              std::string::npos);
}

TEST(TextModels, TokenLossAndPerplexityIgnoreMissingTargets) {
    Value crossEntropy(Value::Kind::Call);
    crossEntropy.text = "cross_entropy";
    LossFn loss = makeLoss(crossEntropy);
    torch::manual_seed(7);
    torch::Tensor out = torch::randn({2, 3, kVocab});
    torch::Tensor y = torch::randint(kVocab, {2, 3}, torch::kInt64);
    torch::Tensor masked = y.clone();
    masked[0][0] = kIgnoreToken;
    // The mean over the five real targets only.
    torch::Tensor nll = -out.log_softmax(2).gather(2, y.unsqueeze(2)).squeeze(2);
    double expected = (nll.sum() - nll[0][0]).item<double>() / 5;
    EXPECT_NEAR(loss(out, masked).item<double>(), expected, 1e-5);
    // A {B, V} prediction is compared with the last column.
    torch::Tensor last = out.select(1, 2);
    EXPECT_NEAR(loss(last, y).item<double>(), nll.select(1, 2).mean().item<double>(), 1e-5);

    Value perplexity(Value::Kind::Call);
    perplexity.text = "perplexity";
    EXPECT_NEAR(computeMetric(perplexity, out, masked, "tokens"), std::exp(expected), 1e-4);
    // Through Metrics, batch by batch, the same.
    Value list(Value::Kind::List);
    list.items = {perplexity};
    DataInfo info = lmInfo();
    Metrics metrics(list, info);
    metrics.add(out.narrow(0, 0, 1), masked.narrow(0, 0, 1));
    metrics.add(out.narrow(0, 1, 1), masked.narrow(0, 1, 1));
    EXPECT_NEAR(metrics.compute()[0].second, std::exp(expected), 1e-4);
}

TEST(TextModels, ATinyLanguageModelLearnsARepetitiveCorpus) {
    // "0123456701234567...": each token determines the next one.
    torch::manual_seed(8);
    torch::Tensor stream = torch::arange(400, torch::kInt64) % 8;
    torch::Tensor windows = stream.unfold(0, 9, 3);  // {N, 9}
    torch::Tensor x = windows.narrow(1, 0, 8), y = windows.narrow(1, 1, 8);
    Value crossEntropy(Value::Kind::Call);
    crossEntropy.text = "cross_entropy";
    LossFn loss = makeLoss(crossEntropy);
    Value perplexity(Value::Kind::Call);
    perplexity.text = "perplexity";
    for (const char* backbone : {"lstm(dim = 32)", "transformer(layers = 1, dim = 32, heads = 2, causal = true)",
                                 "embedding_mlp(dim = 8, hidden = 32)"}) {
        auto net = lm(std::string("backbone = ") + backbone + "  head = next_token");
        net->train();
        torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-2));
        for (int step = 0; step < 60; ++step) {
            adam.zero_grad();
            loss(net->forward(ids(x)), y).backward();
            adam.step();
        }
        net->eval();
        torch::NoGradGuard noGrad;
        double ppl = computeMetric(perplexity, net->forward(ids(x)), y, "tokens");
        EXPECT_LT(ppl, 1.2) << backbone;  // from about 11 (the vocabulary) at the start
    }
}

TEST(TextModels, SamplingRepeatsForASeedAndFollowsTheTemperature) {
    torch::manual_seed(9);
    auto net = lm("backbone = lstm(dim = 16)  head = next_token");
    Sampling s;
    s.context = 8;
    s.length = 40;
    std::vector<int64_t> start = {2, 2, 2};
    auto draw = [&](uint64_t seed) {
        auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
        return sampleTokens(*net, start, s, generator);
    };
    EXPECT_EQ(draw(1), draw(1));
    EXPECT_NE(draw(1), draw(2));
    EXPECT_EQ(draw(1).size(), 40u);
    // Scores that are the head's bias alone: token 3 leads the others by 3.
    {
        torch::NoGradGuard noGrad;
        for (auto& [name, tensor] : namedState(*net)) {
            if (name == "head.decoder.weight") tensor.zero_();
            if (name == "head.decoder.bias") tensor.zero_()[3] = 3.0;
        }
    }
    s.length = 400;
    auto share = [&](double temperature) {
        s.temperature = temperature;
        auto tokens = draw(3);
        return double(std::count(tokens.begin(), tokens.end(), 3)) / double(tokens.size());
    };
    double p = std::exp(3.0) / (std::exp(3.0) + kVocab - 1);  // about 0.67 at temperature 1
    EXPECT_NEAR(share(1.0), p, 0.08);
    EXPECT_GT(share(0.2), 0.99);
    EXPECT_LT(share(10.0), 0.25);  // nearly uniform: 1/11 each, 3 a little more
    EXPECT_EQ(share(0.0), 1.0);    // always the likeliest
    // A stop token ends a sample.
    s.stop = 3;
    s.temperature = 0;
    EXPECT_TRUE(draw(4).empty());
}

TEST(TextModels, ABertCheckpointLoadsByNameAndGivesBertsFeatures) {
    if (!pythonCanImport("torch")) GTEST_SKIP() << "/usr/bin/python3 cannot import torch";
    TempDir dir;
    std::string command =
        "cd " PIPE_SOURCE_DIR "/tests/runtime && /usr/bin/python3 make_bert.py " + dir.path().string();
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    // transformer(norm = "post") is BERT; its weights come from the file by
    // name (the pooler and position_ids are passed over), then a mean-pooled
    // classifier on its features.
    auto net = buildNetwork(textModel("backbone = transformer(layers = 2, dim = 16, heads = 2, ffn = 24, norm = "
                                      "\"post\", weights = \"bert.safetensors\")  head = classifier(pool = \"mean\")",
                                      false),
                            textInfo(), dir.path());
    double diff = differenceFromReference(*net, dir.path() / "bert_io.safetensors");
    EXPECT_LT(diff, 1e-4);
    std::cout << "pipe vs PyTorch BERT (through a mean-pooled linear head): max abs difference " << diff << "\n";
}

// The same BERT as a Hugging Face model folder (BertForMaskedLM's names:
// `bert.` and a `cls.` head, in a pytorch_model.bin), and as `tests/tiny-bert`
// in Hugging Face's cache: each loads the same weights as the safetensors file.
TEST(TextModels, AHuggingFaceModelFolderAndItsCacheLoad) {
    if (!pythonCanImport("torch")) GTEST_SKIP() << "/usr/bin/python3 cannot import torch";
    TempDir dir;
    std::string command =
        "cd " PIPE_SOURCE_DIR "/tests/runtime && /usr/bin/python3 make_bert.py " + dir.path().string();
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    auto bert = [&](const std::string& weights, std::vector<std::string>* lines = nullptr) {
        ModelLog log;
        if (lines) log = [lines](const std::string& line) { lines->push_back(line); };
        return buildNetwork(textModel("backbone = transformer(layers = 2, dim = 16, heads = 2, ffn = 24, norm = "
                                      "\"post\", weights = \"" +
                                          weights + "\")",
                                      false),
                            textInfo(), dir.path(), log);
    };
    auto backbone = [](Network& n) {
        std::map<std::string, torch::Tensor> out;
        for (const auto& [name, t] : namedState(n))
            if (!name.starts_with("head.")) out[name] = t;
        return out;
    };
    auto reference = backbone(*bert("bert.safetensors"));
    std::vector<std::string> lines;
    auto folder = backbone(*bert("hf-bert", &lines));
    ASSERT_EQ(folder.size(), reference.size());
    for (const auto& [name, t] : reference) EXPECT_TRUE(torch::equal(folder.at(name), t)) << name;
    ASSERT_FALSE(lines.empty());
    EXPECT_NE(lines[0].find("the backbone is under `bert.`; the file's own heads (`cls.*`) are not used"),
              std::string::npos)
        << lines[0];

    ::setenv("HF_HOME", (dir.path() / "hf-home").c_str(), 1);
    auto cached = backbone(*bert("tests/tiny-bert"));
    for (const auto& [name, t] : reference) EXPECT_TRUE(torch::equal(cached.at(name), t)) << name;
    std::string missing = errorOf([&] { bert("tests/no-such-model"); });
    ::unsetenv("HF_HOME");
    EXPECT_NE(missing.find("models--tests--no-such-model"), std::string::npos) << missing;
    EXPECT_NE(missing.find("huggingface-cli download tests/no-such-model"), std::string::npos) << missing;
}

// RoBERTa and DistilBERT model folders, written by make_bert_family.py with
// transformers' names: the transformer takes `arch` and its sizes from each
// folder's config.json (nothing written but the weights), passes over the
// base prefix and the pretraining heads, and gives PyTorch's features.
TEST(TextModels, RobertaAndDistilbertFoldersTakeTheirConfigAndGivePyTorchsFeatures) {
    if (!pythonCanImport("torch")) GTEST_SKIP() << "/usr/bin/python3 cannot import torch";
    TempDir dir;
    std::string command =
        "cd " PIPE_SOURCE_DIR "/tests/runtime && /usr/bin/python3 make_bert_family.py " + dir.path().string();
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    for (const std::string family : {"roberta", "distilbert"}) {
        std::vector<std::string> lines;
        ModelLog log = [&lines](const std::string& line) { lines.push_back(line); };
        std::string text =
            "tokenizer spm {\n    train = sentencepiece(vocab = 100)\n    from = d.train.text\n}\n"
            "data d {\n    source = fortunes(\"/nonexistent\")\n"
            "    blocks = (text(tokenizer = spm, max_len = 32), category)\n    split = random(valid = 0.2, seed = "
            "1)\n}\n"
            "model m { backbone = transformer(weights = \"hf-" +
            family + "\")  head = classifier(pool = \"mean\") }\ntrain t { model = m  data = d }\n";
        Section model = checkedModel(text, (dir.path() / "t.pipe").string());
        EXPECT_EQ(model.field("backbone")->arg("arch")->text, family);
        auto net = buildNetwork(model, textInfo(), dir.path(), log);
        double diff = differenceFromReference(*net, dir.path() / (family + "_io.safetensors"));
        EXPECT_LT(diff, 1e-4) << family;
        std::cout << "pipe vs PyTorch " << family << ": max abs difference " << diff << "\n";
        ASSERT_FALSE(lines.empty());
        EXPECT_NE(lines[0].find("the backbone is under `" + family + ".`"), std::string::npos) << lines[0];
    }
    // A tokenizer larger than the model's embedding is one error.
    std::string text =
        "tokenizer spm {\n    train = sentencepiece(vocab = 100)\n    from = d.train.text\n}\n"
        "data d {\n    source = fortunes(\"/nonexistent\")\n"
        "    blocks = (text(tokenizer = spm, max_len = 32), category)\n    split = random(valid = 0.2, seed = 1)\n}\n"
        "model m { backbone = transformer(weights = \"hf-roberta\") }\ntrain t { model = m  data = d }\n";
    DataInfo big = textInfo();
    big.vocab = 50;
    std::string error =
        errorOf([&] { buildNetwork(checkedModel(text, (dir.path() / "t.pipe").string()), big, dir.path()); });
    EXPECT_NE(error.find("the tokenizer has 50 tokens, but the transformer's embedding holds 13"), std::string::npos)
        << error;
}

TEST(TextModels, EveryBackboneRunsUnderBf16AutocastOnCpu) {
    // What `precision = "bf16"` does around each forward pass (fit.cpp).
    torch::manual_seed(10);
    torch::Tensor x = torch::randint(kVocab, {2, 8}, torch::kInt64);
    torch::Tensor mask = torch::ones({2, 8}, torch::kBool);
    mask[1].narrow(0, 5, 3).fill_(false);
    for (const char* backbone : kSequenceBackbones) {
        auto net = classifier(std::string("backbone = ") + backbone + "  head = classifier(pool = \"last\")");
        torch::NoGradGuard noGrad;
        torch::Tensor full = net->forward(ids(x, mask)), half;
        at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
        at::autocast::set_cpu_enabled(true);
        try {
            half = net->forward(ids(x, mask));
        } catch (...) {
            at::autocast::set_cpu_enabled(false);
            throw;
        }
        at::autocast::set_cpu_enabled(false);
        at::autocast::clear_cache();
        EXPECT_EQ(half.scalar_type(), torch::kBFloat16) << backbone;  // the head's linear layer ran in bf16
        EXPECT_TRUE(torch::allclose(half.to(torch::kFloat32), full, 0.05, 0.05)) << backbone;
    }
}
