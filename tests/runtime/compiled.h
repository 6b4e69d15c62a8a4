// What the runtime tests share to turn a .pipe text into data or a model
// section, and to read the error a call throws.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "interpreter/compile.h"
#include "runtime/data/dataset.h"
#include "runtime/error.h"
#include "tests/runtime/test_files.h"

namespace pipelang::runtime {

// Writes `text` to `path` (making its folder) and returns the path.
inline std::filesystem::path writeText(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

// A .pipe text compiled as if it were `dir/test.pipe`; it must check.
struct Compiled {
    std::unique_ptr<Compilation> compilation;
    const Section* data = nullptr;
};

inline Compiled compile(const std::filesystem::path& dir, const std::string& text, const std::string& name = "d") {
    Compiled c;
    c.compilation = compileText((dir / "test.pipe").string(), text);
    EXPECT_TRUE(c.compilation->ok()) << render(c.compilation->diags);
    c.data = c.compilation->pipeline.find("data", name);
    EXPECT_NE(c.data, nullptr);
    return c;
}

// Data block `d` of `text`, prepared as a run prepares it (no tokenizer stage).
inline std::unique_ptr<PreparedData> prepare(const std::filesystem::path& dir, const std::string& text,
                                             uint64_t seed = 42) {
    auto c = compile(dir, text);
    if (!c.data) return nullptr;
    return prepareData(*c.data, dir, seed);
}

// The model section `m` of a whole .pipe text, which must check.
inline Section checkedModel(const std::string& text, const std::string& path) {
    auto c = compileText(path, text);
    std::string errors;
    for (const auto& d : c->diags.items())
        if (d.severity == Severity::Error) errors += d.message + "\n";
    EXPECT_TRUE(c->ok()) << errors << text;
    const Section* s = c->pipeline.find("model", "m");
    if (!s) throw std::runtime_error("no model section");
    return *s;
}

// The checked `model` section of a small file around `model` (fields only).
inline Section modelSection(const std::string& fields, const std::string& target = "category") {
    std::string text =
        "data d {\n"
        "    source = idx(\"/nonexistent\", train = \"train\", test = \"t10k\")\n"
        "    blocks = (image(channels = 1), " +
        target +
        ")\n"
        "    split  = random(valid = 0.1, seed = 1)\n"
        "}\n"
        "model m { " +
        fields +
        " }\n"
        "train t { model = m  data = d }\n";
    return checkedModel(text, "/tmp/model_test.pipe");
}

inline DataInfo imageInfo(std::vector<int64_t> shape, int64_t classes) {
    DataInfo info;
    info.input = "image";
    info.target = "category";
    info.itemShape = std::move(shape);
    for (int64_t i = 0; i < classes; ++i) info.classes.push_back("c" + std::to_string(i));
    info.outputs = classes;
    return info;
}

inline Batch imageBatch(torch::Tensor x) {
    Batch b;
    b.x = std::move(x);
    return b;
}

// Every batch of one epoch of `split`.
inline std::vector<Batch> epoch(const PreparedData& data, Split split, int64_t batchSize, int64_t workers,
                                int64_t e = 0) {
    auto loader = data.loader(split, batchSize, workers);
    loader->start(e);
    std::vector<Batch> out;
    while (auto b = loader->next()) out.push_back(std::move(*b));
    return out;
}

}  // namespace pipelang::runtime
