// The front end's limits (interpreter/limits.h, docs/limits.md): inputs far past
// each one are refused with one error that names the place, without crashing,
// and inputs at the limit still go through every pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "interpreter/compile.h"
#include "interpreter/format.h"
#include "interpreter/limits.h"
#include "interpreter/parse.h"
#include "interpreter/plan.h"
#include "test_files.h"

namespace pipelang {
namespace {

namespace fs = std::filesystem;

std::string repeat(const std::string& s, size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (size_t i = 0; i < n; ++i) out += s;
    return out;
}

// `let x = [[[...1...]]]`, `depth` brackets deep.
std::string nestedLet(size_t depth, const std::string& open = "[", const std::string& close = "]") {
    return "let x = " + repeat(open, depth) + "1" + repeat(close, depth) + "\n";
}

// The errors' codes, in order.
std::vector<std::string> errorCodes(const Diagnostics& diags) {
    std::vector<std::string> out;
    for (const auto& d : diags.items())
        if (d.severity == Severity::Error) out.push_back(d.code);
    return out;
}

using Codes = std::vector<std::string>;

TEST(Limits, DeepBracketsAreOneErrorNotACrash) {
    for (auto [open, close] : {std::pair{"[", "]"}, {"(", ")"}, {"f(", ")"}}) {
        auto c = compileText("deep.pipe", "seed 1\n" + nestedLet(20000, open, close));
        ASSERT_EQ(errorCodes(c->diags), Codes{"too-deep"}) << render(c->diags);
        const Diagnostic& d = c->diags.items()[0];
        EXPECT_EQ(d.span.line(), 2);
        // The first bracket past the limit; `f(` is two characters, the bracket its second.
        int width = int(std::string(open).size());
        EXPECT_EQ(d.span.column(), 9 + limits::kMaxNesting * width + width - 1);
        EXPECT_NE(render(d).find("deep.pipe:2:"), std::string::npos);
        EXPECT_NE(render(d).find("docs/limits.md"), std::string::npos);
    }
    // Unclosed brackets count as much as closed ones.
    auto c = compileText("open.pipe", "let x = " + repeat("[", 20000));
    EXPECT_EQ(errorCodes(c->diags), Codes{"too-deep"});
}

TEST(Limits, BracketsInsideABlockCountItsBrace) {
    auto block = [](size_t depth) {
        return "train t {\n    metrics = " + repeat("[", depth) + "accuracy" + repeat("]", depth) + "\n}\n";
    };
    auto c = compileText("t.pipe", block(limits::kMaxNesting));
    EXPECT_EQ(errorCodes(c->diags), Codes{"too-deep"});
    c = compileText("t.pipe", block(limits::kMaxNesting - 1));
    for (const auto& d : c->diags.items()) EXPECT_NE(d.code, "too-deep") << render(d);
}

TEST(Limits, BracketsInStringsAndCommentsAreNotCounted) {
    std::string text = "let s = \"" + repeat("[", 1000) + "\"  # " + repeat("(", 1000) + "\nseed 1\n";
    auto c = compileText("s.pipe", text);
    for (const auto& d : c->diags.items()) EXPECT_NE(d.code, "too-deep") << render(d);
}

TEST(Limits, EveryPassRunsAtTheLimit) {
    // The deepest value the parser accepts goes through parsing, the checker,
    // the formatter and the plan.
    std::string text = nestedLet(limits::kMaxNesting);
    SourceManager sources;
    Diagnostics diags;
    ast::Module module = parse(sources.add("at.pipe", text), diags);
    ASSERT_FALSE(diags.hasErrors()) << render(diags);
    ASSERT_EQ(module.statements.size(), 1u);
    std::string formatted = format(module);
    Diagnostics again;
    ast::Module reparsed = parse(sources.add("at.pipe", formatted), again);
    ASSERT_FALSE(again.hasErrors()) << render(again);
    EXPECT_EQ(ast::dump(reparsed), ast::dump(module));
    auto c = compileText("at.pipe", text);
    EXPECT_EQ(errorCodes(c->diags), Codes{});
    renderPlan(c->pipeline);

    auto over = compileText("over.pipe", nestedLet(limits::kMaxNesting + 1));
    EXPECT_EQ(errorCodes(over->diags), Codes{"too-deep"});
}

TEST(Limits, DeepOverridesAreOneError) {
    auto c = compileText("t.pipe", "train t { }\n", CompileOptions{{"t.metrics=" + repeat("[", 20000)}});
    auto codes = errorCodes(c->diags);
    EXPECT_EQ(std::count(codes.begin(), codes.end(), "too-deep"), 1) << render(c->diags);
}

TEST(Limits, ALongChainOfLetsIsOneErrorNotACrash) {
    // Each `let` names the one before: no brackets, but each link is a level
    // the checker recurses through.
    std::string text = "let x0 = 3e-3\n";
    for (int i = 1; i <= 20000; ++i) text += "let x" + std::to_string(i) + " = x" + std::to_string(i - 1) + "\n";
    text += "train t { optimizer = adamw(lr = x20000) }\n";
    auto c = compileText("chain.pipe", text);
    auto codes = errorCodes(c->diags);
    EXPECT_EQ(std::count(codes.begin(), codes.end(), "too-deep"), 1) << render(c->diags).substr(0, 4000);
    for (const auto& d : c->diags.items())
        if (d.code == "too-deep") {
            EXPECT_TRUE(d.notes.empty());
        }

    // A short chain is fine.
    auto ok = compileText("short.pipe", "let a = 1e-3\nlet b = a\nlet c = b\ntrain t { optimizer = adamw(lr = c) }\n");
    for (const auto& d : ok->diags.items()) EXPECT_NE(d.code, "too-deep") << render(d);
}

TEST(Limits, LongLinesAreOneErrorWithAShortExcerpt) {
    std::string text = "seed 1\nlet x = [" + repeat("1, ", limits::kMaxLineBytes / 3 + 10) + "1]\n";
    auto c = compileText("long.pipe", text);
    ASSERT_EQ(errorCodes(c->diags), Codes{"line-too-long"});
    std::string shown = render(c->diags);
    EXPECT_NE(shown.find("long.pipe:2:" + std::to_string(limits::kMaxLineBytes + 1) + ":"), std::string::npos) << shown;
    EXPECT_LT(shown.size(), 1000u) << "the excerpt of a long line is clipped";
    EXPECT_NE(shown.find("..."), std::string::npos);

    // Just at the limit, the line is read.
    std::string at = "let x = \"" + std::string(limits::kMaxLineBytes - 10, 'a') + "\"\n";
    ASSERT_EQ(at.size() - 1, limits::kMaxLineBytes);
    EXPECT_EQ(errorCodes(compileText("at.pipe", at)->diags), Codes{});
}

TEST(Limits, ExcerptsOfLongLinesKeepTheCaretUnderItsPlace) {
    std::string line = "let x = [" + repeat("1, ", 200) + "zz]";
    SourceFile f("e.pipe", line + "\n");
    uint32_t at = uint32_t(line.find("zz"));
    Diagnostic d;
    d.message = "here";
    d.span = Span{&f, at, at + 2};
    std::string shown = render(d);
    // The caret line is the third; `zz` sits right above the caret.
    std::vector<std::string> lines;
    std::stringstream in(shown);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    ASSERT_GE(lines.size(), 3u);
    size_t caret = lines[2].find("^~");
    ASSERT_NE(caret, std::string::npos) << shown;
    EXPECT_EQ(lines[1].substr(caret, 2), "zz") << shown;
    EXPECT_TRUE(lines[1].starts_with("    ...")) << shown;
}

TEST(Limits, LargeFilesAreOneError) {
    std::string text = repeat("seed 1\n", limits::kMaxFileBytes / 7 + 1);
    ASSERT_GT(text.size(), limits::kMaxFileBytes);
    auto c = compileText("big.pipe", text);
    ASSERT_EQ(errorCodes(c->diags), Codes{"too-large"});
    EXPECT_NE(render(c->diags).find("big.pipe:" + std::to_string(limits::kMaxFileBytes / 7 + 1) + ":"),
              std::string::npos)
        << render(c->diags);
}

TEST(Limits, TooManyStatementsAreOneError) {
    auto c = compileText("many.pipe", repeat("seed 1\n", limits::kMaxStatements + 1));
    ASSERT_EQ(errorCodes(c->diags), Codes{"too-many-statements"});
    EXPECT_EQ(c->diags.items()[0].span.line(), int(limits::kMaxStatements) + 1);
}

TEST(Limits, DeepImportChainsAreOneError) {
    fs::path dir = fs::temp_directory_path() / "pipe-limits-imports";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const int files = limits::kMaxImportDepth + 5;
    for (int i = 0; i < files; ++i)
        std::ofstream(dir / ("f" + std::to_string(i) + ".pipe"))
            << (i + 1 < files ? "import \"f" + std::to_string(i + 1) + ".pipe\"\n" : "seed 1\n");
    auto c = compileFile((dir / "f0.pipe").string());
    EXPECT_EQ(errorCodes(c->diags), Codes{"import-depth"}) << render(c->diags);
    EXPECT_EQ(c->modules.size(), size_t(limits::kMaxImportDepth));
    fs::remove_all(dir);
}

TEST(Limits, TheDocumentStatesTheLimitsOfTheCode) {
    std::string doc = testing::readFile(fs::path(PIPE_SOURCE_DIR) / "docs/limits.md");
    auto row = [&](const std::string& code) {
        std::smatch m;
        std::regex re("\\| ([^|]+) \\| `" + code + "` \\|");
        return std::regex_search(doc, m, re) ? m[1].str() : std::string("(no row)");
    };
    EXPECT_EQ(row("too-large"), std::to_string(limits::kMaxFileBytes >> 20) + " MiB");
    EXPECT_EQ(row("line-too-long"), std::to_string(limits::kMaxLineBytes >> 10) + " KiB");
    EXPECT_EQ(row("too-deep"), std::to_string(limits::kMaxNesting));
    EXPECT_EQ(row("too-many-statements"), "50,000");
    EXPECT_EQ(limits::kMaxStatements, 50000u);
    EXPECT_EQ(row("import-depth"), std::to_string(limits::kMaxImportDepth));
}

}  // namespace
}  // namespace pipelang
