// Models: torchvision's ResNet names, shapes and outputs (checked against
// PyTorch via tests/runtime/make_weights.py), pipe's own backbones and heads,
// weights loading and its errors, freezing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "interpreter/compile.h"
#include "runtime/error.h"
#include "runtime/models/blocks.h"
#include "runtime/models/network.h"
#include "runtime/safetensors.h"
#include "tests/runtime/compiled.h"
#include "tests/runtime/temp_dir.h"
#include "tests/runtime/test_files.h"

namespace fs = std::filesystem;
using namespace pipelang;
using namespace pipelang::runtime;

namespace {

std::vector<std::string> names(Network& n) {
    std::vector<std::string> out;
    for (const auto& [name, _] : namedState(n)) out.push_back(name);
    return out;
}

torch::Tensor stateTensor(Network& n, const std::string& name) {
    for (const auto& [k, v] : namedState(n))
        if (k == name) return v;
    throw std::runtime_error("no tensor " + name);
}

const std::string kScript = "/usr/bin/python3 " PIPE_SOURCE_DIR "/tests/runtime/make_weights.py";

// Reference files from PyTorch, made once per suite by `make_weights.py
// COMMAND DIR` for the Python-dependent tests.
template <const char* Command>
class TorchvisionReference : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!pythonCanImport("torch, torchvision")) return;
        dir_ = new TempDir();
        std::string command = kScript + " " + Command + " " + dir_->path().string();
        made_ = std::system(command.c_str()) == 0;
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    void SetUp() override {
        if (!pythonCanImport("torch, torchvision"))
            GTEST_SKIP() << "/usr/bin/python3 cannot import torch and torchvision";
        ASSERT_TRUE(made_) << "make_weights.py " << Command << " failed";
    }
    static inline TempDir* dir_ = nullptr;
    static inline bool made_ = false;
};
constexpr char kReference[] = "reference";
constexpr char kFamiliesCommand[] = "families";
// resnet18's weights and the names of resnet 18/34/50.
using ModelsTorchvision = TorchvisionReference<kReference>;
// Every family and variant of make_weights.py's FAMILIES.
using ModelsFamilies = TorchvisionReference<kFamiliesCommand>;

}  // namespace

TEST_F(ModelsTorchvision, ResnetNamesAndShapesAreTorchvisions) {
    for (int depth : {18, 34, 50}) {
        std::ifstream in(dir_->path() / ("resnet" + std::to_string(depth) + ".json"));
        auto reference = nlohmann::json::parse(in);
        auto net = buildNetwork(modelSection("backbone = resnet(depth = " + std::to_string(depth) + ")"),
                                imageInfo({3, 224, 224}, 10), "/tmp");
        auto state = namedState(*net);
        ASSERT_EQ(state.size(), reference.size()) << "resnet" << depth;
        for (size_t i = 0; i < state.size(); ++i) {
            EXPECT_EQ(state[i].first, reference[i][0].get<std::string>()) << "resnet" << depth << " #" << i;
            EXPECT_EQ(state[i].second.sizes().vec(), reference[i][1].get<std::vector<int64_t>>())
                << "resnet" << depth << " " << state[i].first;
        }
    }
}

TEST_F(ModelsTorchvision, TorchvisionWeightsGiveTorchvisionsOutputs) {
    auto net = buildNetwork(modelSection("backbone = resnet(depth = 18, weights = \"resnet18.safetensors\")"),
                            imageInfo({3, 64, 64}, 10), dir_->path());
    NamedTensors io = readSafetensors(dir_->path() / "resnet18_io.safetensors");
    net->eval();
    torch::NoGradGuard noGrad;
    torch::Tensor y = net->forward(imageBatch(io.tensors[0].second));
    ASSERT_EQ(y.sizes(), io.tensors[1].second.sizes());
    double diff = (y - io.tensors[1].second).abs().max().item<double>();
    EXPECT_LE(diff, 1e-4);
    std::cout << "pipe vs torchvision resnet18 logits: max abs difference " << diff << "\n";
}

TEST_F(ModelsTorchvision, ExportsLoadInTorchvisionStrictly) {
    torch::manual_seed(3);
    auto net = buildNetwork(modelSection("backbone = resnet(depth = 18)  head = classifier()"),
                            imageInfo({3, 64, 64}, 7), "/tmp");
    // Some training-like change to the batch-norm statistics.
    net->train();
    {
        torch::NoGradGuard noGrad;
        for (int i = 0; i < 2; ++i) net->forward(imageBatch(torch::randn({4, 3, 64, 64}) * 2 + 1));
    }
    TempDir out;
    saveWeights(*net, out / "pipe.safetensors");
    std::string command = kScript + " check " + (out / "pipe.safetensors").string() + " " +
                          (dir_->path() / "resnet18_io.safetensors").string() + " 7 " +
                          (out / "y.safetensors").string();
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    NamedTensors theirs = readSafetensors(out / "y.safetensors");
    NamedTensors io = readSafetensors(dir_->path() / "resnet18_io.safetensors");
    net->eval();
    torch::NoGradGuard noGrad;
    torch::Tensor ours = net->forward(imageBatch(io.tensors[0].second));
    EXPECT_LE((ours - theirs.tensors[0].second).abs().max().item<double>(), 1e-4);

    // A head for another class count is refused by torchvision's strict load.
    std::string wrong = kScript + " check " + (out / "pipe.safetensors").string() + " " +
                        (dir_->path() / "resnet18_io.safetensors").string() + " 5 " + (out / "z.safetensors").string() +
                        " 2>/dev/null";
    EXPECT_NE(std::system(wrong.c_str()), 0);
}

// `frames` keeps the image backbone's names: torchvision's resnet18 loads
// into frames(resnet(...)), and on a clip of one image repeated, pooled by
// the mean or the maximum, gives torchvision's logits for that image; its
// export loads back into torchvision strictly.
TEST_F(ModelsTorchvision, FramesRunTorchvisionsResnetOnEveryFrame) {
    NamedTensors io = readSafetensors(dir_->path() / "resnet18_io.safetensors");
    torch::Tensor images = io.tensors[0].second;  // {2, 3, 64, 64}
    Batch clips;
    clips.x = images.unsqueeze(1).expand({2, 4, 3, 64, 64}).contiguous();
    DataInfo info = imageInfo({4, 3, 64, 64}, 10);
    info.input = "video";
    for (const std::string pool : {"mean", "max"}) {
        Section model = checkedModel(
            "data d {\n"
            "    source = folder(\"/nonexistent\", extensions = [\".mp4\"])\n"
            "    blocks = (video(frames = 4), category)\n"
            "}\n"
            "model m { backbone = frames(resnet(depth = 18, weights = \"resnet18.safetensors\"), "
            "pool = \"" +
                pool +
                "\") }\n"
                "train t { model = m  data = d }\n",
            "/tmp/frames_test.pipe");
        auto net = buildNetwork(model, info, dir_->path());
        net->eval();
        torch::NoGradGuard noGrad;
        torch::Tensor y = net->forward(clips);
        ASSERT_EQ(y.sizes(), io.tensors[1].second.sizes());
        EXPECT_LE((y - io.tensors[1].second).abs().max().item<double>(), 1e-4) << pool;

        TempDir out;
        saveWeights(*net, out / "frames.safetensors");
        std::string command = kScript + " check " + (out / "frames.safetensors").string() + " " +
                              (dir_->path() / "resnet18_io.safetensors").string() + " 10 " +
                              (out / "y.safetensors").string();
        ASSERT_EQ(std::system(command.c_str()), 0) << command;
        NamedTensors theirs = readSafetensors(out / "y.safetensors");
        EXPECT_LE((y - theirs.tensors[0].second).abs().max().item<double>(), 1e-4) << pool;
    }
}

TEST_F(ModelsTorchvision, TorchvisionHeadForOtherClassesIsReinitialised) {
    std::vector<std::string> log;
    torch::manual_seed(0);
    auto net = buildNetwork(modelSection("backbone = resnet(depth = 18, weights = \"resnet18.safetensors\")"),
                            imageInfo({3, 64, 64}, 4), dir_->path(), [&](const std::string& l) { log.push_back(l); });
    NamedTensors file = readSafetensors(dir_->path() / "resnet18.safetensors");
    for (const auto& [name, t] : file.tensors)
        if (name.rfind("fc.", 0) != 0) {
            EXPECT_TRUE(torch::equal(stateTensor(*net, name), t)) << name;
        }
    EXPECT_EQ(stateTensor(*net, "fc.weight").sizes(), (std::vector<int64_t>{4, 512}));
    ASSERT_EQ(log.size(), 1u);
    EXPECT_NE(log[0].find("the head starts from random weights"), std::string::npos) << log[0];
    EXPECT_NE(log[0].find("[10, 512]"), std::string::npos) << log[0];
}

namespace {

// torchvision's builder → pipe's backbone, for every family and variant.
const std::vector<std::pair<std::string, std::string>> kFamilies = {
    {"resnet101", "resnet(depth = 101)"},
    {"resnet152", "resnet(depth = 152)"},
    {"resnext50_32x4d", "resnext(variant = \"50_32x4d\")"},
    {"resnext101_32x8d", "resnext(variant = \"101_32x8d\")"},
    {"resnext101_64x4d", "resnext(variant = \"101_64x4d\")"},
    {"wide_resnet50_2", "wide_resnet(variant = \"50_2\")"},
    {"wide_resnet101_2", "wide_resnet(variant = \"101_2\")"},
    {"efficientnet_b0", "efficientnet(variant = \"b0\")"},
    {"efficientnet_b1", "efficientnet(variant = \"b1\")"},
    {"efficientnet_b2", "efficientnet(variant = \"b2\")"},
    {"efficientnet_b3", "efficientnet(variant = \"b3\")"},
    {"mobilenet_v3_small", "mobilenet(variant = \"v3_small\")"},
    {"mobilenet_v3_large", "mobilenet(variant = \"v3_large\")"},
    {"convnext_tiny", "convnext(variant = \"tiny\")"},
    {"convnext_small", "convnext(variant = \"small\")"},
    {"vit_b_16", "vit(variant = \"b_16\")"},
};
// Those whose outputs are compared (make_weights.py's OUTPUTS): every block
// type and scaling rule at least once.
const std::vector<std::string> kCompared = {
    "resnext50_32x4d",    "wide_resnet50_2",    "efficientnet_b0", "efficientnet_b3",
    "mobilenet_v3_small", "mobilenet_v3_large", "convnext_tiny",   "vit_b_16"};

std::string backboneOf(const std::string& arch) {
    for (const auto& [name, backbone] : kFamilies)
        if (name == arch) return backbone;
    throw std::runtime_error("no family " + arch);
}

// `backbone(...)` with one more argument.
std::string withArg(const std::string& backbone, const std::string& arg) {
    return backbone.substr(0, backbone.size() - 1) + (backbone.ends_with("()") ? "" : ", ") + arg + ")";
}

}  // namespace

TEST_F(ModelsFamilies, NamesAndShapesAreTorchvisions) {
    for (const auto& [arch, backbone] : kFamilies) {
        std::ifstream in(dir_->path() / (arch + ".json"));
        auto reference = nlohmann::json::parse(in);
        auto net = buildNetwork(modelSection("backbone = " + backbone), imageInfo({3, 224, 224}, 10), "/tmp");
        auto state = namedState(*net);
        ASSERT_EQ(state.size(), reference.size()) << arch;
        for (size_t i = 0; i < state.size(); ++i) {
            EXPECT_EQ(state[i].first, reference[i][0].get<std::string>()) << arch << " #" << i;
            EXPECT_EQ(state[i].second.sizes().vec(), reference[i][1].get<std::vector<int64_t>>())
                << arch << " " << state[i].first;
        }
    }
}

TEST_F(ModelsFamilies, TorchvisionWeightsGiveTorchvisionsOutputs) {
    for (const auto& arch : kCompared) {
        std::vector<std::string> log;
        auto net = buildNetwork(
            modelSection("backbone = " + withArg(backboneOf(arch), "weights = \"" + arch + ".safetensors\"")),
            imageInfo({3, 64, 64}, 10), dir_->path(), [&](const std::string& l) { log.push_back(l); });
        NamedTensors io = readSafetensors(dir_->path() / (arch + "_io.safetensors"));
        net->eval();
        torch::NoGradGuard noGrad;
        torch::Tensor y = net->forward(imageBatch(io.tensors[0].second));
        ASSERT_EQ(y.sizes(), io.tensors[1].second.sizes()) << arch;
        // Within 1e-4 of logits of order one; relative to their size beyond
        // (torchvision's wide_resnet50_2 with random norms reaches 142, where
        // float32 sums over its 2048-wide layers differ by 2.5e-4).
        double diff = (y - io.tensors[1].second).abs().max().item<double>();
        double scale = std::max(1.0, io.tensors[1].second.abs().max().item<double>());
        EXPECT_LE(diff, 1e-4 * scale) << arch;
        std::cout << "pipe vs torchvision " << arch << " logits (largest " << scale << "): max abs difference " << diff
                  << "\n";
        if (arch == "vit_b_16") {
            // Made at 224 px (14×14 patches), loaded at 64 px.
            ASSERT_EQ(log.size(), 1u);
            EXPECT_NE(log[0].find("`encoder.pos_embedding` was made for a grid of 14×14 patches; interpolated to 4×4"),
                      std::string::npos)
                << log[0];
        } else {
            EXPECT_TRUE(log.empty()) << arch << ": " << log[0];
        }
    }
}

TEST_F(ModelsFamilies, ExportsLoadInTorchvisionStrictly) {
    for (const std::string arch : {"mobilenet_v3_small", "efficientnet_b0", "convnext_tiny", "vit_b_16"}) {
        torch::manual_seed(3);
        auto net = buildNetwork(modelSection("backbone = " + backboneOf(arch) + "  head = classifier()"),
                                imageInfo({3, 64, 64}, 7), "/tmp");
        net->train();
        {
            torch::NoGradGuard noGrad;
            for (int i = 0; i < 2; ++i) net->forward(imageBatch(torch::randn({4, 3, 64, 64}) * 2 + 1));
            for (auto& p : net->parameters()) p.add_(torch::randn_like(p) * 0.01);  // as if trained
        }
        TempDir out;
        saveWeights(*net, out / "pipe.safetensors");
        std::string io = (dir_->path() / (arch + "_io.safetensors")).string();
        std::string command = kScript + " check_arch " + arch + " " + (out / "pipe.safetensors").string() + " " + io +
                              " 7 " + (out / "y.safetensors").string();
        ASSERT_EQ(std::system(command.c_str()), 0) << command;
        NamedTensors theirs = readSafetensors(out / "y.safetensors");
        net->eval();
        torch::NoGradGuard noGrad;
        torch::Tensor ours = net->forward(imageBatch(readSafetensors(io).tensors[0].second));
        EXPECT_LE((ours - theirs.tensors[0].second).abs().max().item<double>(), 1e-4) << arch;
    }
}

// Stochastic depth as torchvision's "row" mode: in training each item's
// branch is dropped with probability p and the others scaled by 1 / (1 - p);
// in evaluation nothing changes.
TEST(Models, StochasticDepthDropsRowsInTrainingOnly) {
    torch::manual_seed(5);
    torch::Tensor x = torch::ones({20000, 2, 3, 3});
    torch::Tensor y = models::stochasticDepth(x, 0.3, /*training=*/true);
    torch::Tensor kept = (y.flatten(1).amax(1) > 0).to(torch::kFloat);
    EXPECT_NEAR(kept.mean().item<double>(), 0.7, 0.015);
    // Whole rows: every value of an item is dropped or kept together, kept ones scaled.
    EXPECT_TRUE(torch::allclose(y.flatten(1).amin(1), y.flatten(1).amax(1)));
    EXPECT_NEAR(y.flatten(1).amax(1).max().item<double>(), 1.0 / 0.7, 1e-6);
    EXPECT_TRUE(torch::equal(models::stochasticDepth(x, 0.3, /*training=*/false), x));
}

// The written layer scale and stochastic depth reach the blocks; a network in
// training mode then differs run to run, in evaluation it does not.
TEST(Models, ConvnextLayerScaleAndStochasticDepthAreTheFiles) {
    auto net = buildNetwork(modelSection("backbone = convnext(layer_scale = 0.5, stochastic_depth = 0.9)"),
                            imageInfo({3, 32, 32}, 3), "/tmp");
    torch::Tensor scale = stateTensor(*net, "features.1.0.layer_scale");
    EXPECT_EQ(scale.sizes(), (std::vector<int64_t>{96, 1, 1}));
    EXPECT_TRUE(torch::all(scale == 0.5).item<bool>());
    torch::NoGradGuard noGrad;
    Batch batch = imageBatch(torch::randn({4, 3, 32, 32}));
    net->eval();
    EXPECT_TRUE(torch::equal(net->forward(batch), net->forward(batch)));
    net->train();
    torch::manual_seed(1);
    torch::Tensor a = net->forward(batch);
    torch::manual_seed(2);
    EXPECT_FALSE(torch::allclose(a, net->forward(batch)));
}

TEST_F(ModelsTorchvision, GreyscaleAdaptsTheFirstConvolution) {
    std::vector<std::string> log;
    auto net = buildNetwork(modelSection("backbone = resnet(weights = \"resnet18.safetensors\")"),
                            imageInfo({1, 64, 64}, 10), dir_->path(), [&](const std::string& l) { log.push_back(l); });
    NamedTensors file = readSafetensors(dir_->path() / "resnet18.safetensors");
    torch::Tensor conv1 = file.tensors[0].second;
    ASSERT_EQ(file.tensors[0].first, "conv1.weight");
    EXPECT_TRUE(torch::allclose(stateTensor(*net, "conv1.weight"), conv1.sum(1, true)));
    for (const auto& [name, t] : file.tensors)
        if (name == "fc.weight") {
            EXPECT_TRUE(torch::equal(stateTensor(*net, name), t));
        }
    ASSERT_EQ(log.size(), 1u);
    EXPECT_NE(log[0].find("adapted to 1"), std::string::npos) << log[0];
    // Greyscale images: the model is usable as is.
    net->eval();
    torch::NoGradGuard noGrad;
    EXPECT_EQ(net->forward(imageBatch(torch::randn({2, 1, 64, 64}))).sizes(), (std::vector<int64_t>{2, 10}));
}

TEST(Models, FashionMnistShapes) {
    DataInfo info = imageInfo({1, 28, 28}, 10);
    Batch batch = imageBatch(torch::randn({5, 1, 28, 28}));
    for (const char* fields : {
             "backbone = cnn(channels = [32, 64, 128], batch_norm = true)  head = classifier(dropout = 0.2)",
             "backbone = cnn(channels = [8], kernel = 5, batch_norm = false, dropout = 0.1)",
             "backbone = mlp()",
             "backbone = mlp(hidden = [], activation = \"gelu\")",
             "backbone = mlp(hidden = [64], dropout = 0.5, activation = \"tanh\")  head = classifier(hidden = [32])",
             "backbone = resnet(stem = \"small\")",
             "backbone = resnet(depth = 50, stem = \"small\", in_channels = 1)  head = classifier(pool = \"max\")",
             "backbone = resnet()",
         }) {
        auto net = buildNetwork(modelSection(fields), info, "/tmp");
        for (bool training : {true, false}) {
            net->train(training);
            EXPECT_EQ(net->forward(batch).sizes(), (std::vector<int64_t>{5, 10})) << fields;
        }
    }
}

TEST(Models, ClearNamesForPipesOwnParts) {
    DataInfo info = imageInfo({1, 28, 28}, 10);
    auto cnn = buildNetwork(modelSection("backbone = cnn(channels = [32, 64])"), info, "/tmp");
    EXPECT_EQ(names(*cnn),
              (std::vector<std::string>{
                  "features.0.conv.weight", "features.0.bn.weight", "features.0.bn.bias", "features.0.bn.running_mean",
                  "features.0.bn.running_var", "features.0.bn.num_batches_tracked", "features.1.conv.weight",
                  "features.1.bn.weight", "features.1.bn.bias", "features.1.bn.running_mean",
                  "features.1.bn.running_var", "features.1.bn.num_batches_tracked", "head.fc.weight", "head.fc.bias"}));
    auto mlp =
        buildNetwork(modelSection("backbone = mlp(hidden = [20])  head = classifier(hidden = [8])"), info, "/tmp");
    EXPECT_EQ(names(*mlp),
              (std::vector<std::string>{"layers.0.linear.weight", "layers.0.linear.bias", "head.hidden.0.linear.weight",
                                        "head.hidden.0.linear.bias", "head.fc.weight", "head.fc.bias"}));
    EXPECT_EQ(stateTensor(*mlp, "layers.0.linear.weight").sizes(), (std::vector<int64_t>{20, 784}));
    // A resnet's head sits beside the backbone, as torchvision's `fc`.
    auto resnet = buildNetwork(modelSection("backbone = resnet(stem = \"small\")  head = classifier(hidden = [16])"),
                               info, "/tmp");
    auto n = names(*resnet);
    EXPECT_EQ(std::vector<std::string>(n.end() - 4, n.end()),
              (std::vector<std::string>{"hidden.0.linear.weight", "hidden.0.linear.bias", "fc.weight", "fc.bias"}));
    EXPECT_EQ(stateTensor(*resnet, "conv1.weight").sizes(), (std::vector<int64_t>{64, 1, 3, 3}));
}

TEST(Models, TabularMlpEmbedsCategories) {
    DataInfo info;
    info.input = "tabular";
    info.target = "number";
    info.continuous = 3;
    info.itemShape = {3};
    info.cardinalities = {5, 20, 1000};
    info.outputs = 1;
    auto net = buildNetwork(modelSection("backbone = mlp(hidden = [32, 16])", "number"), info, "/tmp");
    // fastai's rule of thumb: min(600, round(1.6 n^0.56)).
    EXPECT_EQ(stateTensor(*net, "embeds.0.weight").sizes(), (std::vector<int64_t>{5, 4}));
    EXPECT_EQ(stateTensor(*net, "embeds.1.weight").sizes(), (std::vector<int64_t>{20, 9}));
    EXPECT_EQ(stateTensor(*net, "embeds.2.weight").sizes(), (std::vector<int64_t>{1000, 77}));
    EXPECT_EQ(stateTensor(*net, "layers.0.linear.weight").sizes(), (std::vector<int64_t>{32, 3 + 4 + 9 + 77}));
    Batch batch;
    batch.x = torch::randn({6, 3});
    batch.xCat = torch::stack({torch::randint(5, {6}), torch::randint(20, {6}), torch::randint(1000, {6})}, 1);
    // A regressor's single output has the target's shape, {B}.
    EXPECT_EQ(net->forward(batch).sizes(), (std::vector<int64_t>{6}));

    info.cardinalities = {};
    auto plain = buildNetwork(modelSection("backbone = mlp()", "number"), info, "/tmp");
    batch.xCat = torch::Tensor();
    EXPECT_EQ(plain->forward(batch).sizes(), (std::vector<int64_t>{6}));
}

TEST(Models, RegressorShapes) {
    DataInfo info = imageInfo({1, 28, 28}, 0);
    info.target = "number";
    info.outputs = 1;
    auto net = buildNetwork(modelSection("backbone = cnn()  head = regressor(hidden = [10], dropout = 0.1)", "number"),
                            info, "/tmp");
    EXPECT_EQ(net->forward(imageBatch(torch::randn({3, 1, 28, 28}))).sizes(), (std::vector<int64_t>{3}));
}

TEST(Models, SaveAndLoadRoundTrip) {
    DataInfo info = imageInfo({1, 28, 28}, 10);
    Section section = modelSection("backbone = resnet(stem = \"small\")");
    torch::manual_seed(1);
    auto a = buildNetwork(section, info, "/tmp");
    torch::manual_seed(2);
    auto b = buildNetwork(section, info, "/tmp");
    TempDir dir;
    saveWeights(*a, dir / "a.safetensors");
    loadWeights(*b, dir / "a.safetensors");
    for (const auto& [name, t] : namedState(*a)) EXPECT_TRUE(torch::equal(stateTensor(*b, name), t)) << name;
    a->eval();
    b->eval();
    torch::NoGradGuard noGrad;
    Batch batch = imageBatch(torch::randn({2, 1, 28, 28}));
    EXPECT_TRUE(torch::equal(a->forward(batch), b->forward(batch)));
    NamedTensors file = readSafetensors(dir / "a.safetensors");
    EXPECT_EQ(file.metadata.at("format"), "pt");
    EXPECT_EQ(file.tensors.front().first, "conv1.weight");
    EXPECT_EQ(file.tensors.back().first, "fc.bias");
}

// Linear weights are held column-major for OpenBLAS's small-matrix kernels
// (network.cpp): inside only. The shape is PyTorch's {out, in}, the file holds
// the same values row-major, and gradients come in the weight's own layout,
// so that autograd hands them over instead of copying them.
TEST(Models, LinearWeightsAreColumnMajorInsideAndRowMajorInTheFile) {
    DataInfo info = imageInfo({1, 28, 28}, 10);
    auto net = buildNetwork(modelSection("backbone = resnet(stem = \"small\")"), info, "/tmp");
    torch::Tensor fc = stateTensor(*net, "fc.weight");
    ASSERT_EQ(fc.sizes(), (std::vector<int64_t>{10, 512}));
    EXPECT_EQ(fc.strides(), (std::vector<int64_t>{1, 10}));
    EXPECT_FALSE(fc.is_contiguous());

    net->forward(imageBatch(torch::randn({2, 1, 28, 28}))).sum().backward();
    ASSERT_TRUE(fc.grad().defined());
    EXPECT_EQ(fc.grad().strides(), fc.strides());

    TempDir dir;
    saveWeights(*net, dir / "w.safetensors");
    for (const auto& [name, t] : readSafetensors(dir / "w.safetensors").tensors)
        if (name == "fc.weight") {
            EXPECT_TRUE(t.is_contiguous());
            EXPECT_TRUE(torch::equal(t, fc.detach()));
        }
}

TEST(Models, OneErrorListsEveryMismatch) {
    DataInfo info = imageInfo({1, 28, 28}, 10);
    Section section = modelSection("backbone = resnet(stem = \"small\")");
    auto net = buildNetwork(section, info, "/tmp");
    TempDir dir;
    NamedTensors data;
    data.tensors = namedState(*net);
    std::erase_if(data.tensors,
                  [](const auto& e) { return e.first == "layer1.0.conv1.weight" || e.first == "bn1.bias"; });
    data.tensors.emplace_back("extra.weight", torch::ones({2}));
    for (auto& [name, t] : data.tensors)
        if (name == "layer2.0.bn1.weight") t = torch::ones({3});
    writeSafetensors(dir / "bad.safetensors", data);

    for (bool pretrained : {false, true}) {
        std::string message = pretrained ? errorOf([&] {
            buildNetwork(modelSection("backbone = resnet(stem = \"small\", weights = \"bad.safetensors\")"), info,
                         dir.path());
        })
                                         : errorOf([&] { loadWeights(*net, dir / "bad.safetensors"); });
        EXPECT_NE(message.find("weights file `" + (dir / "bad.safetensors").string() + "` does not fit the model"),
                  std::string::npos)
            << message;
        EXPECT_NE(message.find("2 missing (`bn1.bias`, `layer1.0.conv1.weight`)"), std::string::npos) << message;
        EXPECT_NE(message.find("1 unexpected (`extra.weight`)"), std::string::npos) << message;
        EXPECT_NE(message.find("`layer2.0.bn1.weight` is [3] in the file but [128] in the model"), std::string::npos)
            << message;
    }

    // Nothing was loaded by the failed attempt.
    auto before = stateTensor(*net, "conv1.weight").clone();
    EXPECT_THROW(loadWeights(*net, dir / "bad.safetensors"), RuntimeError);
    EXPECT_TRUE(torch::equal(before, stateTensor(*net, "conv1.weight")));
}

TEST(Models, HeadForOtherClassesIsReinitialised) {
    // pipe's own export for 10 classes, fine-tuned on 3.
    TempDir dir;
    auto ten = buildNetwork(modelSection("backbone = cnn(channels = [8, 16])"), imageInfo({1, 28, 28}, 10), "/tmp");
    saveWeights(*ten, dir / "ten.safetensors");
    std::vector<std::string> log;
    auto three = buildNetwork(modelSection("backbone = cnn(channels = [8, 16])  head = classifier()"),
                              imageInfo({1, 28, 28}, 3), dir.path(), [&](const std::string& l) { log.push_back(l); });
    // cnn has no `weights` parameter: load as `weights =` would.
    loadBackboneWeights(*three, dir / "ten.safetensors", [&](const std::string& l) { log.push_back(l); });
    EXPECT_TRUE(
        torch::equal(stateTensor(*three, "features.1.conv.weight"), stateTensor(*ten, "features.1.conv.weight")));
    EXPECT_EQ(stateTensor(*three, "head.fc.weight").sizes(), (std::vector<int64_t>{3, 16}));
    ASSERT_EQ(log.size(), 1u);
    EXPECT_NE(log[0].find("`head.fc.weight` is [10, 16], here [3, 16]"), std::string::npos) << log[0];

    // The same class count: the head loads too, silently.
    log.clear();
    auto again = buildNetwork(modelSection("backbone = cnn(channels = [8, 16])"), imageInfo({1, 28, 28}, 10), "/tmp");
    loadBackboneWeights(*again, dir / "ten.safetensors", [&](const std::string& l) { log.push_back(l); });
    EXPECT_TRUE(torch::equal(stateTensor(*again, "head.fc.weight"), stateTensor(*ten, "head.fc.weight")));
    EXPECT_TRUE(log.empty());

    // A backbone-only file: the head is new, which is no news.
    NamedTensors backboneOnly;
    for (const auto& [name, t] : namedState(*ten))
        if (name.rfind("head.", 0) != 0) backboneOnly.tensors.emplace_back(name, t);
    writeSafetensors(dir / "backbone.safetensors", backboneOnly);
    loadBackboneWeights(*again, dir / "backbone.safetensors", [&](const std::string& l) { log.push_back(l); });
    EXPECT_TRUE(log.empty());
}

TEST(Models, FreezingTheBackbone) {
    auto net = buildNetwork(modelSection("backbone = resnet(stem = \"small\")"), imageInfo({1, 28, 28}, 10), "/tmp");
    auto trainable = [&](const std::string& name) { return stateTensor(*net, name).requires_grad(); };
    net->freezeBackbone(true);
    EXPECT_FALSE(trainable("conv1.weight"));
    EXPECT_FALSE(trainable("layer4.1.conv2.weight"));
    EXPECT_TRUE(trainable("bn1.weight")) << "batch norm keeps learning, as fastai's train_bn";
    EXPECT_TRUE(trainable("layer3.0.downsample.1.bias"));
    EXPECT_TRUE(trainable("fc.weight"));
    net->freezeBackbone(false);
    EXPECT_TRUE(trainable("conv1.weight"));

    // Parameter groups: the backbone's and the head's, together every parameter.
    EXPECT_EQ(net->backboneParameters().size() + net->headParameters().size(), net->parameters().size());
    EXPECT_EQ(net->headParameters().size(), 2u);

    // A frozen backbone's batch norm still updates its statistics in training mode.
    net->freezeBackbone(true);
    net->train();
    auto mean = stateTensor(*net, "bn1.running_mean").clone();
    net->forward(imageBatch(torch::randn({4, 1, 28, 28}) + 3));
    EXPECT_FALSE(torch::equal(mean, stateTensor(*net, "bn1.running_mean")));

    // `freeze = true`: fixed for good.
    auto fixed = buildNetwork(modelSection("backbone = resnet(stem = \"small\", freeze = true)"),
                              imageInfo({1, 28, 28}, 10), "/tmp");
    fixed->freezeBackbone(false);
    for (const auto& [name, t] : namedState(*fixed))
        if (name == "conv1.weight") {
            EXPECT_FALSE(t.requires_grad());
        }
}

TEST(Models, UnsupportedPartsAreClearErrors) {
    Value unknown(Value::Kind::Call);
    unknown.text = "wavenet";
    Value head(Value::Kind::Call);
    head.text = "classifier";
    EXPECT_EQ(errorOf([&] {
                  buildNetwork(unknown, head, imageInfo({1, 28, 28}, 10), "/tmp");
              }),
              "backbone `wavenet` is not supported by this runtime yet");
    Value ref(Value::Kind::Ref);
    ref.text = "pre.backbone";
    EXPECT_EQ(errorOf([&] {
                  buildNetwork(ref, head, imageInfo({1, 28, 28}, 10), "/tmp");
              }),
              "`backbone = pre.backbone` is not supported by this runtime yet");

    EXPECT_EQ(errorOf([&] {
                  buildNetwork(modelSection("backbone = resnet(in_channels = 3)"), imageInfo({1, 28, 28}, 10), "/tmp");
              }),
              "resnet has `in_channels = 3` but the images have 1 channel");
    std::string missing = errorOf([&] {
        buildNetwork(modelSection("backbone = resnet(weights = \"missing.safetensors\")"), imageInfo({3, 28, 28}, 10),
                     "/nonexistent");
    });
    EXPECT_TRUE(
        missing.starts_with("weights `missing.safetensors` not found: looked at "
                            "`/nonexistent/missing.safetensors` and `"))
        << missing;  // then PyTorch's cache, which depends on $HOME
    EXPECT_TRUE(missing.ends_with("; check the path (relative paths start at the .pipe file's folder)")) << missing;
    auto net = buildNetwork(modelSection("backbone = cnn()"), imageInfo({1, 28, 28}, 10), "/tmp");
    EXPECT_EQ(errorOf([&] {
                  net->forward(imageBatch(torch::randn({2, 3, 28, 28})));
              }),
              "cnn expects a batch of 1-channel images, {B, 1, H, W}, but got [2, 3, 28, 28]");
}
