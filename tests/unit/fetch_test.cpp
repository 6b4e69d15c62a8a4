// `pipe fetch` against a file server the test starts on 127.0.0.1
// (serve_files.py): a download lands in $TORCH_HOME/hub/checkpoints checked
// against the SHA-256 digits in its name, an interrupted one resumes with a
// Range request, and a wrong or missing file leaves nothing behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "hub/locations.h"
#include "record/sha256.h"
#include "tests/unit/pipe_cli.h"
#include "tests/unit/test_files.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using pipelang::testing::runPipe;

class Fetch : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("pipe-fetch-test-" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "served");
        // Three megabytes of noise, named as torchvision names its files.
        std::mt19937 rng(5);
        payload_.resize(3 << 20);
        for (auto& c : payload_) c = char(rng());
        fs::path raw = dir_ / "served" / "raw";
        write(raw, payload_);
        name_ = "tiny-" + pipelang::record::sha256File(raw).substr(0, 8) + ".pth";
        fs::rename(raw, dir_ / "served" / name_);
        write(dir_ / "served" / "wrong-00000000.pth", "not the promised bytes");

        std::string server = PIPE_SOURCE_DIR "/tests/unit/serve_files.py";
        std::vector<std::string> argv = {"/usr/bin/python3", server, (dir_ / "served").string(),
                                         (dir_ / "port").string(), (dir_ / "requests.log").string()};
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        ASSERT_EQ(posix_spawn(&server_, args[0], nullptr, nullptr, args.data(), environ), 0);
        for (int i = 0; i < 100 && !fs::exists(dir_ / "port"); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ASSERT_TRUE(fs::exists(dir_ / "port")) << "the test's file server did not start";
        mirror_ = "http://127.0.0.1:" + pipelang::testing::readFile(dir_ / "port") + "/";
    }
    void TearDown() override {
        if (server_ > 0) {
            ::kill(server_, SIGTERM);
            ::waitpid(server_, nullptr, 0);
        }
        fs::remove_all(dir_);
    }
    static void write(const fs::path& path, const std::string& bytes) {
        std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    }
    pipelang::testing::CliResult fetch(const std::string& name) {
        return runPipe("fetch " + name + " --mirror " + mirror_, true);
    }
    fs::path cache() const { return dir_ / "torch" / "hub" / "checkpoints"; }
    std::string requests() const { return pipelang::testing::readFile(dir_ / "requests.log"); }

    fs::path dir_;
    std::string payload_, name_, mirror_;
    pid_t server_ = -1;
};

// pipe fetch runs as a child of runPipe's shell: TORCH_HOME is set in the
// test's environment, which the child inherits.
struct TorchHome {
    explicit TorchHome(const fs::path& home) { ::setenv("TORCH_HOME", home.c_str(), 1); }
    ~TorchHome() { ::unsetenv("TORCH_HOME"); }
};

TEST_F(Fetch, DownloadsIntoTorchsCacheCheckedByTheNamesDigits) {
    TorchHome home(dir_ / "torch");
    EXPECT_EQ(pipelang::hub::torchCheckpoints(), cache());
    auto result = fetch(name_);
    ASSERT_EQ(result.code, 0) << result.out;
    EXPECT_NE(result.out.find("fetched " + name_ + " (3.1 MB"), std::string::npos) << result.out;
    EXPECT_EQ(pipelang::testing::readFile(cache() / name_), payload_);
    EXPECT_FALSE(fs::exists(cache() / (name_ + ".partial")));
    EXPECT_EQ(requests(), "-\n");

    auto again = fetch(name_);
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_NE(again.out.find("already in the cache"), std::string::npos) << again.out;
    EXPECT_EQ(requests(), "-\n") << "a file in the cache is not downloaded again";
}

TEST_F(Fetch, AnInterruptedDownloadResumes) {
    TorchHome home(dir_ / "torch");
    fs::create_directories(cache());
    size_t half = payload_.size() / 2;
    write(cache() / (name_ + ".partial"), payload_.substr(0, half));
    auto result = fetch(name_);
    ASSERT_EQ(result.code, 0) << result.out;
    EXPECT_NE(result.out.find("resumed after 1.6 MB"), std::string::npos) << result.out;
    EXPECT_EQ(requests(), "bytes=" + std::to_string(half) + "-\n");
    EXPECT_EQ(pipelang::testing::readFile(cache() / name_), payload_);
    EXPECT_FALSE(fs::exists(cache() / (name_ + ".partial")));
}

TEST_F(Fetch, AFileThatIsNotThePublishedOneLeavesNothing) {
    TorchHome home(dir_ / "torch");
    auto result = fetch("wrong-00000000.pth");
    EXPECT_EQ(result.code, 1) << result.out;
    EXPECT_NE(result.out.find("but its name promises 00000000"), std::string::npos) << result.out;
    EXPECT_FALSE(fs::exists(cache() / "wrong-00000000.pth"));
    EXPECT_FALSE(fs::exists(cache() / "wrong-00000000.pth.partial"));
}

TEST_F(Fetch, AMissingFileIsTheServersAnswer) {
    TorchHome home(dir_ / "torch");
    auto result = fetch("missing-12345678.pth");
    EXPECT_EQ(result.code, 1) << result.out;
    EXPECT_NE(result.out.find("the server answered HTTP 404"), std::string::npos) << result.out;
    EXPECT_FALSE(fs::exists(cache() / "missing-12345678.pth.partial"));
}

TEST_F(Fetch, ANameWithoutDigitsIsRefused) {
    TorchHome home(dir_ / "torch");
    auto result = fetch("resnet18.pth");
    EXPECT_EQ(result.code, 2) << result.out;
    EXPECT_NE(result.out.find("is not a name pipe can fetch"), std::string::npos) << result.out;
    EXPECT_EQ(requests(), "") << "nothing was asked of the server";
}

// org/name from a Hub the test serves: the listing (api/models/ORG/NAME/revision/main)
// names the commit and files; config, tokenizer and one format of weights land
// in Hugging Face's layout, checked against the listing's SHA-256, and refs/main
// is written last, so findWeights finds the model only once it is whole.
TEST_F(Fetch, AHuggingFaceModelLandsInItsCacheLayout) {
    const std::string commit = "0123456789abcdef0123456789abcdef01234567";
    write(dir_ / "served" / "config.json", R"({"model_type": "bert"})");
    write(dir_ / "served" / "vocab.txt", "[PAD]\n[UNK]\n");
    write(dir_ / "served" / "model.safetensors", payload_);
    write(dir_ / "served" / "tf_model.h5", "not fetched");
    auto listing = [&](const std::string& sha) {
        return R"({"id": "tests/tiny", "sha": ")" + commit + R"(", "siblings": [
            {"rfilename": "config.json"}, {"rfilename": "vocab.txt"}, {"rfilename": "tf_model.h5"},
            {"rfilename": "pytorch_model.bin"},
            {"rfilename": "model.safetensors", "lfs": {"sha256": ")" +
               sha + R"(", "size": 3145728}}]})";
    };
    fs::path hf = dir_ / "hf";
    ::setenv("HF_HUB_CACHE", hf.c_str(), 1);
    // A file that differs from the listing's SHA-256 is removed, and the model is not in the cache.
    write(dir_ / "served" / "main", listing(std::string(64, 'a')));
    auto wrong = fetch("tests/tiny");
    EXPECT_EQ(wrong.code, 1) << wrong.out;
    EXPECT_NE(wrong.out.find("but the Hub's listing promises aaaaaaaaaaaaaaaa"), std::string::npos) << wrong.out;
    fs::path snapshot = hf / "models--tests--tiny" / "snapshots" / commit;
    EXPECT_FALSE(fs::exists(snapshot / "model.safetensors"));
    EXPECT_FALSE(fs::exists(snapshot / "model.safetensors.partial"));
    EXPECT_FALSE(pipelang::hub::findWeights("tests/tiny", dir_).path);

    write(dir_ / "served" / "main", listing(pipelang::record::sha256File(dir_ / "served" / "model.safetensors")));
    auto result = fetch("tests/tiny");
    ASSERT_EQ(result.code, 0) << result.out;
    EXPECT_NE(result.out.find("fetched tests/tiny at 0123456789ab"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("model.safetensors"), std::string::npos) << result.out;
    EXPECT_EQ(pipelang::testing::readFile(snapshot / "model.safetensors"), payload_);
    EXPECT_EQ(pipelang::testing::readFile(snapshot / "vocab.txt"), "[PAD]\n[UNK]\n");
    EXPECT_TRUE(fs::exists(snapshot / "config.json"));
    EXPECT_FALSE(fs::exists(snapshot / "tf_model.h5")) << "only what pipe reads";
    EXPECT_FALSE(fs::exists(snapshot / "pytorch_model.bin")) << "one format of weights";
    EXPECT_EQ(pipelang::testing::readFile(hf / "models--tests--tiny" / "refs" / "main"), commit);
    EXPECT_EQ(pipelang::hub::findWeights("tests/tiny", dir_).path, snapshot);
    auto again = fetch("tests/tiny");
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_NE(again.out.find("already in the cache"), std::string::npos) << again.out;
    // A name the Hub does not know is its answer (the test's server has no listing now).
    fs::remove(dir_ / "served" / "main");
    auto missing = fetch("tests/none");
    EXPECT_EQ(missing.code, 1) << missing.out;
    EXPECT_NE(missing.out.find("the server answered HTTP 404"), std::string::npos) << missing.out;
    EXPECT_FALSE(fs::exists(hf / "models--tests--none" / "refs"));
    ::unsetenv("HF_HUB_CACHE");
}

TEST(WeightsLookup, ABareNameIsLookedUpInTorchsCache) {
    fs::path dir = fs::temp_directory_path() / ("pipe-lookup-test-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "torch" / "hub" / "checkpoints");
    std::ofstream(dir / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth") << "x";
    ::setenv("TORCH_HOME", (dir / "torch").c_str(), 1);
    auto found = pipelang::hub::findWeights("resnet18-f37072fd.pth", dir / "project");
    EXPECT_EQ(found.path, dir / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth");
    auto missing = pipelang::hub::findWeights("resnet34-b627a593.pth", dir / "project");
    EXPECT_FALSE(missing.path);
    EXPECT_EQ(pipelang::hub::notFound("resnet34-b627a593.pth", missing),
              "weights `resnet34-b627a593.pth` not found: looked at `" +
                  (dir / "project/resnet34-b627a593.pth").string() + "` and `" +
                  (dir / "torch/hub/checkpoints/resnet34-b627a593.pth").string() +
                  "`; download it with `pipe fetch resnet34-b627a593.pth`");
    // A path with a folder is a path only.
    EXPECT_EQ(pipelang::hub::findWeights("weights/resnet18-f37072fd.pth", dir / "project").looked.size(), 1u);
    ::unsetenv("TORCH_HOME");
    // org/name: Hugging Face's cache, at the snapshot refs/main names.
    fs::path repo = dir / "hf" / "models--org--bert-tiny";
    fs::create_directories(repo / "refs");
    fs::create_directories(repo / "snapshots" / "c0ffee");
    std::ofstream(repo / "refs" / "main") << "c0ffee";
    ::setenv("HF_HUB_CACHE", (dir / "hf").c_str(), 1);
    EXPECT_EQ(pipelang::hub::findWeights("org/bert-tiny", dir / "project").path, repo / "snapshots" / "c0ffee");
    auto absent = pipelang::hub::findWeights("org/other", dir / "project");
    EXPECT_FALSE(absent.path);
    EXPECT_NE(pipelang::hub::notFound("org/other", absent).find("`pipe fetch org/other`"), std::string::npos);
    // A relative path to a weights file is a path, not a model's name.
    EXPECT_EQ(pipelang::hub::findWeights("weights/model.safetensors", dir / "project").looked.size(), 1u);
    ::unsetenv("HF_HUB_CACHE");
    ::setenv("XDG_CACHE_HOME", "/somewhere", 1);
    EXPECT_EQ(pipelang::hub::torchCheckpoints(), fs::path("/somewhere/torch/hub/checkpoints"));
    EXPECT_EQ(pipelang::hub::huggingFaceHub(), fs::path("/somewhere/huggingface/hub"));
    ::unsetenv("XDG_CACHE_HOME");
    fs::remove_all(dir);
}

}  // namespace
