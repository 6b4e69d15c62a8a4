// PyTorch checkpoints as torch.save writes them, made by Debian's PyTorch
// (tests/runtime/make_weights.py pth): both formats load and give
// torchvision's outputs; a whole pickled model, code, a truncated or a
// scrambled file are each one clear error, and no code ever runs.
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "interpreter/compile.h"
#include "runtime/models/network.h"
#include "runtime/run_record.h"
#include "runtime/safetensors.h"
#include "runtime/weights/torch_save.h"
#include "runtime/weights/weights_file.h"
#include "tests/runtime/compiled.h"
#include "tests/runtime/temp_dir.h"
#include "tests/runtime/test_files.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

class TorchSave : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!pythonCanImport("torch, torchvision")) return;
        dir_ = new TempDir("pipe-torch-save");
        std::string command =
            "/usr/bin/python3 " PIPE_SOURCE_DIR "/tests/runtime/make_weights.py pth " + dir_->path().string();
        made_ = std::system(command.c_str()) == 0;
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    void SetUp() override {
        if (!pythonCanImport("torch, torchvision"))
            GTEST_SKIP() << "/usr/bin/python3 cannot import torch and torchvision";
        ASSERT_TRUE(made_) << "make_weights.py pth failed";
    }
    static fs::path file(const std::string& name) { return dir_->path() / name; }
    static void write(const fs::path& path, const std::string& bytes) {
        std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    }
    static inline TempDir* dir_ = nullptr;
    static inline bool made_ = false;
};

Section resnetSection(const std::string& weights) {
    return modelSection("backbone = resnet(depth = 18, weights = \"" + weights + "\")");
}

TEST_F(TorchSave, BothFormatsGiveTorchvisionsOutputs) {
    NamedTensors io = readSafetensors(file("resnet18_io.safetensors"));
    for (const char* name : {"resnet18.pth", "resnet18_legacy.pth"}) {
        auto net = buildNetwork(resnetSection(name), imageInfo({3, 64, 64}, 10), dir_->path());
        net->eval();
        torch::NoGradGuard noGrad;
        torch::Tensor y = net->forward(imageBatch(io.tensors[0].second));
        ASSERT_EQ(y.sizes(), io.tensors[1].second.sizes()) << name;
        double diff = (y - io.tensors[1].second).abs().max().item<double>();
        EXPECT_LE(diff, 1e-4) << name;
        std::cout << name << " vs torchvision resnet18 logits: max abs difference " << diff << "\n";
    }
}

TEST_F(TorchSave, ABareNameLoadsFromTorchsCacheOrSaysHowToFetchIt) {
    // As torchvision leaves it: $TORCH_HOME/hub/checkpoints/resnet18-<sha256 digits>.pth.
    std::string name = "resnet18-" + sha256File(file("resnet18.pth")).substr(0, 8) + ".pth";
    fs::path cache = file("torch") / "hub" / "checkpoints";
    fs::create_directories(cache);
    fs::copy_file(file("resnet18.pth"), cache / name, fs::copy_options::overwrite_existing);
    ::setenv("TORCH_HOME", file("torch").c_str(), 1);
    TempDir project;
    auto net = buildNetwork(resnetSection(name), imageInfo({3, 64, 64}, 10), project.path());
    NamedTensors io = readSafetensors(file("resnet18_io.safetensors"));
    net->eval();
    torch::NoGradGuard noGrad;
    EXPECT_LE((net->forward(imageBatch(io.tensors[0].second)) - io.tensors[1].second).abs().max().item<double>(), 1e-4);
    std::string message = errorOf([&] {
        buildNetwork(resnetSection("resnet34-b627a593.pth"), imageInfo({3, 64, 64}, 10), project.path());
    });
    ::unsetenv("TORCH_HOME");
    EXPECT_NE(message.find("download it with `pipe fetch resnet34-b627a593.pth`"), std::string::npos) << message;
}

TEST_F(TorchSave, EveryDtypeAndViewReadsAsSafetensorsHasIt) {
    NamedTensors want = readSafetensors(file("dtypes.safetensors"));
    for (const char* name : {"dtypes.pth", "dtypes_legacy.pth"}) {
        NamedTensors got = readWeights(file(name));
        ASSERT_EQ(got.tensors.size(), want.tensors.size()) << name;
        for (size_t i = 0; i < want.tensors.size(); ++i) {
            const auto& [wantName, wantTensor] = want.tensors[i];
            const auto& [gotName, gotTensor] = got.tensors[i];
            EXPECT_EQ(gotName, wantName) << name;
            EXPECT_EQ(gotTensor.scalar_type(), wantTensor.scalar_type()) << name << " " << wantName;
            EXPECT_EQ(gotTensor.sizes(), wantTensor.sizes()) << name << " " << wantName;
            EXPECT_TRUE(torch::equal(gotTensor, wantTensor)) << name << " " << wantName;
        }
    }
}

TEST_F(TorchSave, WrappedCheckpointsGiveTheirStateDict) {
    NamedTensors plain = readWeights(file("resnet18.pth"));
    NamedTensors wrapped = readWeights(file("wrapped.pt"));  // {"epoch", "state_dict": {"module.…"}}
    ASSERT_EQ(wrapped.tensors.size(), plain.tensors.size());
    for (size_t i = 0; i < plain.tensors.size(); ++i) {
        EXPECT_EQ(wrapped.tensors[i].first, plain.tensors[i].first);
        EXPECT_TRUE(torch::equal(wrapped.tensors[i].second, plain.tensors[i].second)) << plain.tensors[i].first;
    }
}

TEST_F(TorchSave, AWholePickledModelIsRefusedWithWhatToDo) {
    for (const char* name : {"whole.pth", "whole_legacy.pth"}) {
        std::string message = errorOf([&] { readWeights(file(name)); });
        EXPECT_NE(message.find(name), std::string::npos) << message;
        EXPECT_NE(message.find("whole pickled model (`torchvision.models.resnet.ResNet`)"), std::string::npos)
            << message;
        EXPECT_NE(message.find("torch.save(model.state_dict()"), std::string::npos) << message;
    }
}

TEST_F(TorchSave, APickleThatRunsCodeIsRefusedAndNothingRuns) {
    for (const char* name : {"evil.pth", "evil_legacy.pth"}) {
        std::string message = errorOf([&] { readWeights(file(name)); });
        EXPECT_NE(message.find("`posix.system`"), std::string::npos) << message;
        EXPECT_NE(message.find("would run code"), std::string::npos) << message;
        EXPECT_FALSE(fs::exists(file("pwned"))) << "loading " << name << " ran its code";
    }
    // The same file is one Python would run: the marker proves the pickle is live.
    std::string python =
        "/usr/bin/python3 -c \"import torch; torch.load('" + file("evil.pth").string() + "')\" >/dev/null 2>&1";
    std::system(python.c_str());
    EXPECT_TRUE(fs::exists(file("pwned"))) << "the test's pickle does not run code in Python: it proves nothing";
    fs::remove(file("pwned"));
}

TEST_F(TorchSave, ATruncatedFileIsOneErrorNamingIt) {
    for (const char* name : {"dtypes.pth", "dtypes_legacy.pth", "resnet18_legacy.pth"}) {
        std::string bytes = readFile(file(name));
        for (double keep : {0.1, 0.5, 0.97}) {
            fs::path cut = file(std::string("cut_") + name);
            write(cut, bytes.substr(0, size_t(double(bytes.size()) * keep)));
            std::string message = errorOf([&] { readWeights(cut); });
            EXPECT_NE(message.find(cut.string()), std::string::npos) << name << " cut at " << keep << ": " << message;
        }
    }
}

TEST_F(TorchSave, NotAStateDictSaysWhatItHolds) {
    // A zip of PyTorch's format holding a list, written here by hand with LibTorch's own writer.
    std::string pickled =
        "\x80\x02]q\x00(K\x01K\x02"
        "e."s;  // [1, 2], protocol 2
    fs::path path = file("list.pt");
    {
        caffe2::serialize::PyTorchStreamWriter writer(path.string());
        writer.writeRecord("data.pkl", pickled.data(), pickled.size());
    }
    std::string message = errorOf([&] { readWeights(path); });
    EXPECT_NE(message.find("holds a list, not a state dict"), std::string::npos) << message;
}

// Random changes to real files: each load gives tensors or one RuntimeError,
// never a crash, a hang or another exception (ASan would see bad reads).
TEST_F(TorchSave, ScrambledFilesFailCleanly) {
    std::mt19937 rng(11);
    int loaded = 0, refused = 0;
    for (const char* name : {"dtypes_legacy.pth", "evil_legacy.pth"}) {
        std::string original = readFile(file(name));
        for (int round = 0; round < 1500; ++round) {
            std::string bytes = original;
            int changes = 1 + int(rng() % 4);
            for (int c = 0; c < changes; ++c) {
                size_t at = rng() % bytes.size();
                switch (rng() % 3) {
                case 0: bytes[at] = char(rng()); break;
                case 1: bytes.erase(at, 1 + rng() % 8); break;
                default: bytes.insert(at, 1, char(rng())); break;
                }
                if (bytes.empty()) bytes = "\x80";
            }
            fs::path path = file("scrambled.pth");
            write(path, bytes);
            try {
                readWeights(path);
                ++loaded;
            } catch (const RuntimeError&) {
                ++refused;
            }
        }
    }
    EXPECT_GT(refused, 0);
    std::cout << "scrambled: " << loaded << " loaded, " << refused << " refused\n";
}

}  // namespace
}  // namespace pipelang::runtime
