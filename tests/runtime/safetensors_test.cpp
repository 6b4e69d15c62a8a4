// safetensors: round trips for every dtype, files written by hand and by
// Python, every kind of corruption rejected with a message naming the file,
// and atomic replacement.
#include "runtime/safetensors.h"
#include "tests/runtime/temp_dir.h"
#include "tests/runtime/test_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "runtime/error.h"

namespace fs = std::filesystem;
using namespace pipelang::runtime;

namespace {

std::string le64(uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return s;
}

void writeBytes(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file from a header (JSON text) and its data bytes.
std::string file(const std::string& header, const std::string& data = "") {
    return le64(header.size()) + header + data;
}

std::string floats(std::initializer_list<float> values) {
    std::string s;
    for (float v : values) s.append(reinterpret_cast<const char*>(&v), 4);  // the tests run on little-endian machines
    return s;
}

// The message of the RuntimeError that reading `bytes` raises ("" if none).
std::string readError(const TempDir& dir, const std::string& bytes) {
    fs::path path = dir / "bad.safetensors";
    writeBytes(path, bytes);
    try {
        readSafetensors(path);
    } catch (const RuntimeError& e) {
        return e.what();
    }
    return "";
}

// The tensors every dtype test uses; the same values as make_weights.py.
NamedTensors everyDtype() {
    NamedTensors t;
    auto base = torch::tensor({0.5, -1.25, 3.0, -0.0, 1024.0, -7.5}, torch::kFloat64).reshape({2, 3});
    t.tensors = {
        {"f32", base.to(torch::kFloat32)},
        {"f64", base / 3},
        {"f16", base.to(torch::kFloat16)},
        {"bf16", base.to(torch::kBFloat16)},
        {"i64", torch::tensor({-(int64_t{1} << 40), int64_t{0}, (int64_t{1} << 40) + 3}, torch::kInt64)},
        {"i32", torch::tensor({-70000, 1, 70000}, torch::kInt32)},
        {"i16", torch::tensor({-300, 2, 300}, torch::kInt16)},
        {"i8", torch::tensor({-128, 0, 127}, torch::kInt8)},
        {"u8", torch::tensor({0, 128, 255}, torch::kUInt8)},
        {"bool", torch::tensor({true, false, true}, torch::kBool)},
        {"scalar", torch::tensor(2.5, torch::kFloat32)},
        {"empty", torch::zeros({0, 4}, torch::kFloat32)},
    };
    return t;
}

void expectSame(const NamedTensors& expected, const NamedTensors& actual, bool sameOrder = true) {
    ASSERT_EQ(expected.tensors.size(), actual.tensors.size());
    for (size_t i = 0; i < expected.tensors.size(); ++i) {
        const auto& [name, want] = expected.tensors[i];
        const torch::Tensor* got = nullptr;
        for (const auto& [n, t] : actual.tensors)
            if (n == name) got = &t;
        ASSERT_NE(got, nullptr) << name;
        if (sameOrder) {
            EXPECT_EQ(actual.tensors[i].first, name);
        }
        EXPECT_EQ(got->scalar_type(), want.scalar_type()) << name;
        EXPECT_EQ(got->sizes(), want.sizes()) << name;
        EXPECT_TRUE(torch::equal(*got, want)) << name << "\n" << *got << "\n" << want;
    }
}

}  // namespace

TEST(Safetensors, RoundTripsEveryDtype) {
    TempDir dir;
    NamedTensors data = everyDtype();
    data.metadata = {{"format", "pt"}, {"note", "ünïcode ✓"}};
    writeSafetensors(dir / "all.safetensors", data);
    NamedTensors back = readSafetensors(dir / "all.safetensors");
    expectSame(data, back);
    EXPECT_EQ(back.metadata, data.metadata);
}

TEST(Safetensors, WritesTheStandardLayout) {
    TempDir dir;
    NamedTensors data;
    // Not contiguous: written in logical order.
    data.tensors = {{"a", torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({2, 2}).t()}, {"b", torch::tensor({7.0f})}};
    writeSafetensors(dir / "x.safetensors", data);
    std::string bytes = readFile(dir / "x.safetensors");
    ASSERT_GE(bytes.size(), 8u);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
    EXPECT_EQ(n % 8, 0u) << "the data starts 8-byte aligned";
    auto header = nlohmann::json::parse(bytes.substr(8, n));
    EXPECT_EQ(header["a"]["dtype"], "F32");
    EXPECT_EQ(header["a"]["shape"], nlohmann::json::array({2, 2}));
    EXPECT_EQ(header["a"]["data_offsets"], nlohmann::json::array({0, 16}));
    EXPECT_EQ(header["b"]["data_offsets"], nlohmann::json::array({16, 20}));
    EXPECT_FALSE(header.contains("__metadata__"));
    EXPECT_EQ(bytes.substr(8 + n), floats({1, 3, 2, 4, 7}));
}

TEST(Safetensors, ReadsAFileWrittenByHand) {
    TempDir dir;
    std::string header = R"({"__metadata__":{"k":"v"},)"
                         R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},)"
                         R"("s":{"dtype":"I64","shape":[],"data_offsets":[24,32]},)"
                         R"("v":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("z":{"dtype":"U8","shape":[0],"data_offsets":[32,32]}})";
    int64_t scalar = -5;
    std::string data = floats({9, 8}) + floats({1, 2, 3, 4}) + std::string(reinterpret_cast<const char*>(&scalar), 8);
    writeBytes(dir / "hand.safetensors", file(header + "   ", data));  // trailing spaces are allowed padding
    NamedTensors t = readSafetensors(dir / "hand.safetensors");
    ASSERT_EQ(t.tensors.size(), 4u);
    // File order is the order of the data.
    EXPECT_EQ(t.tensors[0].first, "v");
    EXPECT_EQ(t.tensors[1].first, "w");
    EXPECT_TRUE(torch::equal(t.tensors[0].second, torch::tensor({9.0f, 8.0f})));
    EXPECT_TRUE(torch::equal(t.tensors[1].second, torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({2, 2})));
    EXPECT_EQ(t.tensors[2].first, "s");
    EXPECT_EQ(t.tensors[2].second.dim(), 0);
    EXPECT_EQ(t.tensors[2].second.item<int64_t>(), -5);
    EXPECT_EQ(t.tensors[3].second.numel(), 0);
    EXPECT_EQ(t.metadata.at("k"), "v");
}

TEST(Safetensors, ReadsAFileWrittenByPython) {
    if (!pythonCanImport("torch, torchvision")) GTEST_SKIP() << "/usr/bin/python3 cannot import torch and torchvision";
    TempDir dir;
    std::string command = "/usr/bin/python3 " PIPE_SOURCE_DIR "/tests/runtime/make_weights.py dtypes " +
                          (dir / "dtypes.safetensors").string();
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    NamedTensors back = readSafetensors(dir / "dtypes.safetensors");
    expectSame(everyDtype(), back, /*sameOrder=*/true);
    EXPECT_EQ(back.metadata.at("made_by"), "make_weights.py");
}

TEST(Safetensors, RejectsCorruptFiles) {
    TempDir dir;
    const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    struct Case {
        const char* what;
        std::string bytes;
        const char* message;
    };
    std::vector<Case> cases = {
        {"empty", "", "truncated"},
        {"short length", "\x05\x00\x00", "truncated"},
        {"header past the end", le64(500) + "{}", "the header needs 500 bytes"},
        {"huge header", le64(uint64_t{1} << 40) + "{}", "larger than the limit"},
        {"not JSON", file("{\"a\": nope}"), "not valid JSON"},
        {"not an object", file("[1, 2]"), "not a JSON object"},
        {"unknown dtype", file(R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", "x"),
         "unsupported dtype `F8_E4M3`"},
        {"no dtype", file(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", floats({1})), "has no dtype"},
        {"no shape", file(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", floats({1})), "has no shape"},
        {"negative size", file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", floats({1})),
         "not a list of sizes"},
        {"no offsets", file(R"({"a":{"dtype":"F32","shape":[1]}})", floats({1})), "no valid data_offsets"},
        {"extra field", file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", floats({1})),
         "unknown header field `x`"},
        {"truncated data", file(ok, floats({1}) + "ab"), "truncated or corrupt: tensor `a` needs bytes [0, 8)"},
        {"wrong size", file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", floats({1, 2})),
         "has 8 bytes of data but its dtype F32 and shape need 12"},
        {"backwards", file(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", floats({1, 2})),
         "end before they begin"},
        {"overlap",
         file(
             R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
             floats({1, 2, 3})),
         "`a` and `b` overlap"},
        {"overlap past an empty one",
         file(
             R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
             floats({1, 2, 3})),
         "overlap"},
        {"duplicate",
         file(
             R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
             floats({1})),
         "names `a` twice"},
        {"bad bool", file(R"({"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", std::string("\x01\x02", 2)),
         "BOOL"},
        {"bad metadata", file(R"({"__metadata__":{"n":1}})"), "metadata `n` is not a string"},
        {"huge shape",
         file(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})", floats({1})),
         "impossibly large"},
    };
    for (const auto& c : cases) {
        std::string message = readError(dir, c.bytes);
        EXPECT_NE(message.find(c.message), std::string::npos) << c.what << ": " << message;
        EXPECT_NE(message.find((dir / "bad.safetensors").string()), std::string::npos) << c.what << ": " << message;
    }
    EXPECT_EQ(readError(dir, file(ok, floats({1, 2}))), "");
}

TEST(Safetensors, EveryTruncationIsAnError) {
    TempDir dir;
    NamedTensors data;
    data.tensors = {{"a", torch::arange(6, torch::kFloat32)}, {"b", torch::ones({2}, torch::kInt64)}};
    writeSafetensors(dir / "whole.safetensors", data);
    std::string bytes = readFile(dir / "whole.safetensors");
    for (size_t n = 0; n < bytes.size(); ++n)
        EXPECT_NE(readError(dir, bytes.substr(0, n)), "") << "cut at " << n << " of " << bytes.size();
}

TEST(Safetensors, MissingFileIsNamed) {
    try {
        readSafetensors("/nonexistent/w.safetensors");
        FAIL() << "no error";
    } catch (const RuntimeError& e) {
        EXPECT_EQ(std::string(e.what()), "weights file `/nonexistent/w.safetensors` does not exist");
    }
}

TEST(Safetensors, WritesAtomically) {
    TempDir dir;
    fs::path path = dir / "w.safetensors";
    NamedTensors first;
    first.tensors = {{"a", torch::ones({3})}};
    writeSafetensors(path, first);
    NamedTensors second;
    second.tensors = {{"b", torch::zeros({5}, torch::kInt32)}};
    writeSafetensors(path, second);
    expectSame(second, readSafetensors(path));

    // A write that fails leaves the old file whole, and no temporary behind.
    NamedTensors bad;
    bad.tensors = {{"ok", torch::ones({2})}, {"c", torch::ones({2}, torch::kComplexFloat)}};
    EXPECT_THROW(writeSafetensors(path, bad), RuntimeError);
    NamedTensors twice;
    twice.tensors = {{"x", torch::ones({1})}, {"x", torch::ones({1})}};
    EXPECT_THROW(writeSafetensors(path, twice), RuntimeError);
    expectSame(second, readSafetensors(path));
    size_t files = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++files;
    EXPECT_EQ(files, 1u);

    // The file is an ordinary one (not mkstemp's 0600).
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(st.st_mode & S_IRGRP);

    // Into a folder that does not exist: one error naming the file.
    try {
        writeSafetensors(dir / "no" / "w.safetensors", second);
        FAIL() << "no error";
    } catch (const RuntimeError& e) {
        EXPECT_NE(std::string(e.what()).find((dir / "no" / "w.safetensors").string()), std::string::npos) << e.what();
    }
}
