// Discriminative learning rates: `lr = slice(lo, hi)` over each backbone's
// layer groups (the registry's split, fastai's for a ResNet), the head last;
// every parameter in exactly one group, the rates evenly spaced on a log
// scale, a step moving each group by its own rate, and a checkpoint of the
// groups' state resuming bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "interpreter/compile.h"
#include "interpreter/layer_groups.h"
#include "runtime/models/network.h"
#include "runtime/safetensors.h"
#include "runtime/train/checkpoint.h"
#include "runtime/train/optimizer.h"
#include "tests/runtime/compiled.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"

namespace pipelang::runtime {
namespace layer_groups_test {

// A checked file with model `m` and train `t`; `text` data (tokenized, for
// the text backbones) or images.
struct Checked {
    std::unique_ptr<Compilation> compilation;
    const Section* model = nullptr;
    const Value* optimizer = nullptr;
};

Checked setupOf(const std::string& backbone, const std::string& optimizer, bool text) {
    std::string file = text ? "tokenizer spm { train = sentencepiece(vocab = 100)  from = d.train.text }\n"
                              "data d {\n"
                              "    source = fortunes(\"/nonexistent\")\n"
                              "    blocks = (text(tokenizer = spm, max_len = 32), category)\n"
                              "    split  = random(valid = 0.2, seed = 1)\n"
                              "}\n"
                            : "data d {\n"
                              "    source = idx(\"/nonexistent\", train = \"train\", test = \"t10k\")\n"
                              "    blocks = (image(channels = 1), category)\n"
                              "    split  = random(valid = 0.1, seed = 1)\n"
                              "}\n";
    file += "model m { backbone = " + backbone + " }\ntrain t { model = m  data = d  optimizer = " + optimizer + " }\n";
    Checked s;
    s.compilation = compileText("/tmp/layer_groups_test.pipe", file);
    EXPECT_TRUE(s.compilation->ok()) << render(s.compilation->diags);
    s.model = s.compilation->pipeline.find("model", "m");
    s.optimizer = s.compilation->pipeline.find("train", "t")->field("optimizer");
    return s;
}

DataInfo tokenInfo() {
    DataInfo info;
    info.input = "text";
    info.target = "category";
    info.vocab = 11;
    info.context = 32;
    info.classes = {"a", "b", "c"};
    info.outputs = 3;
    return info;
}

std::vector<std::string> groupNames(Network& network) {
    std::vector<std::string> out;
    for (const auto& g : network.layerGroups()) out.push_back(g.name);
    return out;
}

// The name of every parameter, by its tensor.
std::map<const void*, std::string> parameterNames(Network& network) {
    std::map<const void*, std::string> out;
    for (const auto& p : network.named_parameters()) out[p.value().unsafeGetTensorImpl()] = p.key();
    return out;
}

// Every parameter of the network is in exactly one of the optimizer's
// groups, and the groups are the network's layer groups in order.
void expectEveryParameterOnce(Network& network, torch::optim::Optimizer& optimizer) {
    auto names = parameterNames(network);
    auto layers = network.layerGroups();
    ASSERT_EQ(optimizer.param_groups().size(), layers.size());
    std::multiset<const void*> seen;
    for (size_t g = 0; g < layers.size(); ++g) {
        const auto& params = optimizer.param_groups()[g].params();
        ASSERT_EQ(params.size(), layers[g].parameters.size()) << layers[g].name;
        for (size_t i = 0; i < params.size(); ++i) {
            EXPECT_TRUE(params[i].is_same(layers[g].parameters[i])) << layers[g].name;
            seen.insert(params[i].unsafeGetTensorImpl());
        }
    }
    EXPECT_EQ(seen.size(), names.size());
    for (const auto& [impl, name] : names) EXPECT_EQ(seen.count(impl), 1u) << name;
}

// The group holding the parameter `name`.
std::string groupOf(Network& network, const std::string& name) {
    torch::Tensor t = network.named_parameters()[name];
    for (const auto& g : network.layerGroups())
        for (const auto& p : g.parameters)
            if (p.is_same(t)) return g.name;
    return "(none)";
}

double rateOf(torch::optim::Optimizer& optimizer, size_t group) {
    return optimizer.param_groups()[group].options().get_lr();
}

TEST(LayerGroups, ResnetIsSplitAsFastaiSplitsIt) {
    for (int depth : {18, 34, 50}) {
        Checked s = setupOf("resnet(depth = " + std::to_string(depth) + ")", "adamw(lr = slice(1e-5, 1e-3))", false);
        auto net = buildNetwork(*s.model, imageInfo({3, 64, 64}, 10), "/tmp");
        EXPECT_EQ(groupNames(*net), (std::vector<std::string>{"conv1..layer2", "layer3..layer4", "head"}));
        EXPECT_EQ(groupOf(*net, "conv1.weight"), "conv1..layer2");
        EXPECT_EQ(groupOf(*net, "bn1.bias"), "conv1..layer2");
        EXPECT_EQ(groupOf(*net, "layer1.0.conv1.weight"), "conv1..layer2");
        EXPECT_EQ(groupOf(*net, "layer2.0.downsample.1.weight"), "conv1..layer2");
        EXPECT_EQ(groupOf(*net, "layer3.0.conv1.weight"), "layer3..layer4");
        EXPECT_EQ(groupOf(*net, "layer4.1.bn2.weight"), "layer3..layer4");
        EXPECT_EQ(groupOf(*net, "fc.weight"), "head");
        auto optimizer = makeOptimizer(*s.optimizer, *net);
        expectEveryParameterOnce(*net, *optimizer);
        // even_mults(1e-5, 1e-3, 3): the first group lo, the head hi, the geometric mean between.
        EXPECT_EQ(rateOf(*optimizer, 0), 1e-5);
        EXPECT_NEAR(rateOf(*optimizer, 1), 1e-4, 1e-4 * 1e-12);
        EXPECT_EQ(rateOf(*optimizer, 2), 1e-3);
    }
}

TEST(LayerGroups, TransformerIsItsEmbeddingsThenEachBlock) {
    for (std::string variant : {"norm = \"pre\"", "norm = \"post\"", "arch = \"distilbert\"", "arch = \"roberta\""}) {
        Checked s = setupOf("transformer(layers = 3, dim = 16, heads = 2, " + variant + ")",
                            "adamw(lr = slice(1e-5, 1e-3))", true);
        auto net = buildNetwork(*s.model, tokenInfo(), "/tmp");
        EXPECT_EQ(groupNames(*net), (std::vector<std::string>{"embeddings", "encoder.layer.0", "encoder.layer.1",
                                                              "encoder.layer.2", "head"}))
            << variant;
        EXPECT_EQ(groupOf(*net, "embeddings.word_embeddings.weight"), "embeddings");
        EXPECT_EQ(groupOf(*net, "embeddings.LayerNorm.weight"), "embeddings");
        EXPECT_EQ(groupOf(*net, "encoder.layer.1.attention.self.query.weight"), "encoder.layer.1");
        if (variant == "norm = \"pre\"") {
            EXPECT_EQ(groupOf(*net, "encoder.LayerNorm.weight"), "encoder.layer.2");
        }
        auto optimizer = makeOptimizer(*s.optimizer, *net);
        expectEveryParameterOnce(*net, *optimizer);
        // Five groups, each 10^0.5 times the one before: 1e-5, 3.16e-5, 1e-4, 3.16e-4, 1e-3.
        EXPECT_EQ(rateOf(*optimizer, 0), 1e-5);
        EXPECT_EQ(rateOf(*optimizer, 4), 1e-3);
        for (size_t g = 1; g < 5; ++g)
            EXPECT_NEAR(rateOf(*optimizer, g) / rateOf(*optimizer, g - 1), std::sqrt(10.0), 1e-9) << g;
    }
}

// The plan shows what the optimizer gets: the front end's groups and rates
// are the runtime's, for every backbone pipe has.
TEST(LayerGroups, EveryBackboneHasEveryParameterInOneGroup) {
    struct Case {
        std::string backbone;
        bool text;
        std::vector<std::string> groups;
    };
    const std::vector<Case> cases = {
        {"resnet(stem = \"small\")", false, {"conv1..layer2", "layer3..layer4", "head"}},
        {"cnn(channels = [4, 8, 16], convs = 2)", false, {"features.0", "features.1", "features.2", "head"}},
        {"cnn(channels = [4], batch_norm = false)", false, {"features.0", "head"}},
        {"mlp(hidden = [8, 4])", false, {"layers.0", "layers.1", "head"}},
        {"lstm(dim = 8, layers = 2, bidirectional = true)", true, {"embedding", "rnn.l0", "rnn.l1", "head"}},
        {"gru(dim = 8, layers = 3)", true, {"embedding", "rnn.l0", "rnn.l1", "rnn.l2", "head"}},
        {"transformer(layers = 1, dim = 8, heads = 2, positions = \"sinusoidal\")",
         true,
         {"embeddings", "encoder.layer.0", "head"}},
        {"tfidf(max_features = 50)", true, {"head"}},
        {"resnext(stem = \"small\")", false, {"conv1..layer2", "layer3..layer4", "head"}},
        {"wide_resnet()", false, {"conv1..layer2", "layer3..layer4", "head"}},
        {"efficientnet(variant = \"b1\")", false, {"features.0..4", "features.5..8", "head"}},
        {"mobilenet(variant = \"v3_small\")", false, {"features.0..6", "features.7.. and classifier.0", "head"}},
        {"convnext()", false, {"features.0..3", "features.4..7 and classifier.0", "head"}},
        {"vit()", false,
         [] {
             std::vector<std::string> groups = {"embeddings"};
             for (int i = 0; i < 12; ++i) groups.push_back("encoder.layers.encoder_layer_" + std::to_string(i));
             groups.push_back("head");
             return groups;
         }()},
    };
    for (const auto& c : cases) {
        Checked s = setupOf(c.backbone, "sgd(lr = slice(1e-4, 1e-1))", c.text);
        auto net = buildNetwork(*s.model, c.text ? tokenInfo() : imageInfo({1, 28, 28}, 10), "/tmp");
        EXPECT_EQ(groupNames(*net), c.groups) << c.backbone;
        std::vector<std::string> planned;
        for (const auto& g : layerGroups(*s.model->field("backbone"))) planned.push_back(g.name);
        EXPECT_EQ(planned, c.groups) << c.backbone;
        auto optimizer = makeOptimizer(*s.optimizer, *net);
        expectEveryParameterOnce(*net, *optimizer);
        auto rates = evenMults(1e-4, 1e-1, c.groups.size());
        for (size_t g = 0; g < c.groups.size(); ++g) EXPECT_EQ(rateOf(*optimizer, g), rates[g]) << c.backbone;
        EXPECT_EQ(rateOf(*optimizer, c.groups.size() - 1), 1e-1) << c.backbone;
    }
}

TEST(LayerGroups, TableEmbeddingsLearnWithTheFirstLayer) {
    Checked s = setupOf("mlp(hidden = [8, 4])", "adam(lr = slice(1e-4, 1e-2))", false);
    DataInfo info;
    info.input = "tabular";
    info.target = "category";
    info.continuous = 2;
    info.cardinalities = {3, 5};
    info.classes = {"a", "b"};
    info.outputs = 2;
    auto net = buildNetwork(*s.model, info, "/tmp");
    EXPECT_EQ(groupOf(*net, "embeds.1.weight"), "layers.0");
    EXPECT_EQ(groupOf(*net, "layers.1.linear.weight"), "layers.1");
    auto optimizer = makeOptimizer(*s.optimizer, *net);
    expectEveryParameterOnce(*net, *optimizer);
}

TEST(LayerGroups, EvenMultsAreFastais) {
    auto rates = evenMults(1e-6, 1e-2, 5);
    ASSERT_EQ(rates.size(), 5u);
    for (size_t i = 0; i < 5; ++i) EXPECT_NEAR(rates[i], std::pow(10.0, -6.0 + double(i)), 1e-18 + 1e-12 * rates[i]);
    EXPECT_EQ(evenMults(1e-3, 1e-3, 4), std::vector<double>(4, 1e-3));  // a plain `lr`: every group alike
    EXPECT_EQ(evenMults(1e-5, 1e-3, 1), std::vector<double>{1e-3});     // the head alone takes hi
    EXPECT_EQ(evenMults(0, 1e-3, 3), (std::vector<double>{0, 0, 1e-3}));
}

// A schedule scales every group's peak by the same factor.
TEST(LayerGroups, SetRatesKeepsTheSpacingAtAnyFactor) {
    Checked s = setupOf("cnn(channels = [4, 8, 16])", "adam(lr = slice(1e-5, 1e-2))", false);
    auto net = buildNetwork(*s.model, imageInfo({1, 28, 28}, 10), "/tmp");
    auto optimizer = makeOptimizer(*s.optimizer, *net);
    for (double factor : {1.0, 0.04, 1e-5}) {
        setRates(*optimizer, 1e-5 * factor, 1e-2 * factor);
        for (size_t g = 0; g < 4; ++g)
            EXPECT_NEAR(rateOf(*optimizer, g), 1e-5 * factor * std::pow(10.0, double(g)), 1e-9 * rateOf(*optimizer, g));
    }
}

// One Adam step from fresh moments moves each weight by about its group's
// rate (m̂ / √v̂ is the gradient's sign): the stem 100 times less than the head.
TEST(LayerGroups, AStepMovesEachGroupByItsOwnRate) {
    torch::manual_seed(1);
    Checked s = setupOf("resnet(stem = \"small\")", "adam(lr = slice(1e-5, 1e-3))", false);
    auto net = buildNetwork(*s.model, imageInfo({1, 16, 16}, 4), "/tmp");
    auto optimizer = makeOptimizer(*s.optimizer, *net);
    std::map<std::string, torch::Tensor> before;
    for (const auto& p : net->named_parameters()) before[p.key()] = p.value().detach().clone();
    net->train();
    Batch batch = imageBatch(torch::randn({8, 1, 16, 16}));
    torch::nn::functional::cross_entropy(net->forward(batch), torch::randint(0, 4, {8})).backward();
    optimizer->step();
    auto largestMove = [&](const std::string& name) {
        return (net->named_parameters()[name].detach() - before[name]).abs().max().item<double>();
    };
    EXPECT_NEAR(largestMove("conv1.weight"), 1e-5, 1e-7);
    EXPECT_NEAR(largestMove("layer2.1.conv2.weight"), 1e-5, 1e-7);
    EXPECT_NEAR(largestMove("layer3.0.conv1.weight"), 1e-4, 1e-6);
    EXPECT_NEAR(largestMove("layer4.1.conv2.weight"), 1e-4, 1e-6);
    EXPECT_NEAR(largestMove("fc.weight"), 1e-3, 1e-5);
    EXPECT_LT(largestMove("conv1.weight") * 50, largestMove("fc.weight"));
}

// The optimizer's state of every group goes into a checkpoint and comes back:
// the next step after loading is the next step of the optimizer saved.
TEST(LayerGroups, ACheckpointOfTheGroupsResumesBitForBit) {
    TempDir dir;
    Checked s = setupOf("cnn(channels = [4, 8])", "adamw(lr = slice(1e-4, 1e-2), weight_decay = 0.1)", false);
    auto stepOnce = [&](Network& net, torch::optim::Optimizer& optimizer, int seed) {
        torch::manual_seed(seed);
        clearGradients(optimizer);
        Batch batch = imageBatch(torch::randn({4, 1, 28, 28}));
        torch::nn::functional::cross_entropy(net.forward(batch), torch::randint(0, 10, {4})).backward();
        optimizer.step();
    };
    torch::manual_seed(3);
    auto net = buildNetwork(*s.model, imageInfo({1, 28, 28}, 10), "/tmp");
    auto optimizer = makeOptimizer(*s.optimizer, *net);
    net->train();
    stepOnce(*net, *optimizer, 10);
    stepOnce(*net, *optimizer, 11);
    saveCheckpoint(dir / "checkpoint.pt", *net, *optimizer, TrainState{});

    torch::manual_seed(4);  // other initial weights, which the checkpoint replaces
    auto resumed = buildNetwork(*s.model, imageInfo({1, 28, 28}, 10), "/tmp");
    auto resumedOptimizer = makeOptimizer(*s.optimizer, *resumed);
    resumed->train();
    loadCheckpoint(dir / "checkpoint.pt", *resumed, *resumedOptimizer);
    stepOnce(*net, *optimizer, 12);
    stepOnce(*resumed, *resumedOptimizer, 12);
    auto a = namedState(*net), b = namedState(*resumed);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
    for (size_t g = 0; g < 3; ++g) EXPECT_EQ(rateOf(*resumedOptimizer, g), rateOf(*optimizer, g));
}

// Through `pipe run`, the loop, its schedule and the optimizer together:
// from `slice(0, hi)` every group but the head learns at 0 (the limit of the
// log spacing), so the hidden layers end as a run at `slice(0, 0)` leaves
// them, as initialised, while the head learns.
TEST(LayerGroups, ARunFromZeroKeepsAllButTheHeadAsInitialised) {
    TempDir dir;
    {
        std::mt19937 rng(3);
        std::uniform_real_distribution<double> unit(0, 1);
        std::ofstream csv(dir / "table.csv");
        csv << "x1,x2,y\n";
        for (int i = 0; i < 80; ++i) {
            double x1 = unit(rng), x2 = unit(rng);
            csv << x1 << "," << x2 << "," << 3 * x1 - 2 * x2 << "\n";
        }
    }
    auto trained = [&](const std::string& name, const std::string& lr) {
        std::ofstream(dir / (name + ".pipe")) << "seed 5\n"
                                                 "data table {\n"
                                                 "    source     = csv(\"table.csv\")\n"
                                                 "    blocks     = (tabular(cont = [\"x1\", \"x2\"]), number)\n"
                                                 "    y          = column(\"y\")\n"
                                                 "    split      = random(valid = 0.2, seed = 1)\n"
                                                 "    batch_size = 8\n"
                                                 "}\n"
                                                 "model net { backbone = mlp(hidden = [16, 8])  head = regressor() }\n"
                                                 "train fit { optimizer = sgd(lr = "
                                              << lr << ")  schedule = one_cycle(epochs = 2) }\n";
        TrainedRun run = trainRun(dir / (name + ".pipe"), dir / ("runs-" + name));
        EXPECT_EQ(run.result.status, 0) << run.result.output;
        std::map<std::string, torch::Tensor> weights;
        if (!run.dir.empty())
            for (auto& [key, t] : readSafetensors(run.dir / "fit" / "weights.safetensors").tensors) weights[key] = t;
        return weights;
    };
    auto still = trained("still", "slice(0, 0)"), tuned = trained("tuned", "slice(0, 0.05)");
    ASSERT_FALSE(still.empty());
    ASSERT_FALSE(tuned.empty());
    for (const char* name : {"layers.0.linear.weight", "layers.0.linear.bias", "layers.1.linear.weight"})
        EXPECT_TRUE(torch::equal(still.at(name), tuned.at(name))) << name;
    EXPECT_FALSE(torch::equal(still.at("head.fc.weight"), tuned.at("head.fc.weight")));
}

}  // namespace layer_groups_test
}  // namespace pipelang::runtime
