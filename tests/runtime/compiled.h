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
