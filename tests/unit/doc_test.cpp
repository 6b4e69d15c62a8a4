// `pipe doc`: every registry entry documented, in both forms, and the
// committed docs/reference.md kept in step with the registry.
#include "stdlib/doc.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "pipe_cli.h"

namespace pipelang::stdlib {
namespace {

const Builtin& entry(Family family, const std::string& name) {
    const Builtin* b = registry().find(family, name);
    if (!b) throw std::logic_error("no " + name + " in the registry");
    return *b;
}

size_t count(const std::string& text, const std::string& word) {
    size_t n = 0;
    for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
    return n;
}

TEST(Doc, ReferenceListsEveryEntryAndParameter) {
    std::string md = renderReference();
    std::string text = renderTextReference();
    EXPECT_EQ(count(md, "\n### `"), registry().entries().size());
    for (const auto& b : registry().entries()) {
        SCOPED_TRACE(std::string(familyName(b.family)) + " " + b.name);
        EXPECT_NE(md.find("### `" + b.name + "`\n\n```\n" + signature(b) + "\n```\n\n" + b.doc), std::string::npos);
        EXPECT_NE(text.find(b.name + " (" + familyName(b.family) + ")\n"), std::string::npos);
        std::string own = renderText({&b});
        for (const auto& p : b.params) {
            EXPECT_NE(own.find("\n    " + p.name + " "), std::string::npos) << own;
            EXPECT_NE(own.find(p.doc), std::string::npos) << own;
        }
    }
    for (Family f : allFamilies()) EXPECT_NE(md.find(std::string("\n## ") + familyTitle(f) + "\n"), std::string::npos);
}

TEST(Doc, Signatures) {
    EXPECT_EQ(signature(entry(Family::Loss, "cross_entropy")), "cross_entropy(label_smoothing: float = 0.0)");
    EXPECT_EQ(signature(entry(Family::Block, "category")), "category");                   // written as a bare name
    EXPECT_EQ(signature(entry(Family::Source, "idx")).rfind("idx(path: path, ", 0), 0u);  // required: no default
    std::string adamw = signature(entry(Family::Optimizer, "adamw"));
    EXPECT_NE(adamw.find("\n    lr: float|range = 1e-3,\n"), std::string::npos) << adamw;  // long: one per line
    std::string data = signature(entry(Family::Section, "data"));
    EXPECT_EQ(data.rfind("data {\n    source: source\n", 0), 0u) << data;
    EXPECT_EQ(data.back(), '}');
}

TEST(Doc, AllowedValuesDefaultsAndContracts) {
    std::string train = renderText({&entry(Family::Section, "train")});
    EXPECT_NE(train.find(R"(one of "fp32", "bf16")"), std::string::npos) << train;
    EXPECT_NE(train.find("1 to 4096"), std::string::npos) << train;  // accumulate
    std::string data = renderText({&entry(Family::Section, "data")});
    EXPECT_NE(data.find("    source      source              required"), std::string::npos) << data;
    std::string loss = renderText({&entry(Family::Loss, "cross_entropy")});
    EXPECT_NE(loss.find("0 to 1"), std::string::npos) << loss;
    EXPECT_NE(loss.find("    accepts: category, tokens\n"), std::string::npos) << loss;
    EXPECT_NE(loss.find("    default for: category, tokens\n"), std::string::npos) << loss;
    std::string category = renderMarkdown({&entry(Family::Block, "category")});
    EXPECT_NE(category.find("**Produces:** `category` · **Used as:** `target`"), std::string::npos) << category;
    std::string adamw = renderMarkdown({&entry(Family::Optimizer, "adamw")});
    EXPECT_NE(adamw.find("| `lr` | `float\\|range` | `1e-3` | >= 0 |"), std::string::npos) << adamw;
}

TEST(Doc, CommittedReferenceIsUpToDate) {
    std::ifstream in(PIPE_SOURCE_DIR "/docs/reference.md");
    ASSERT_TRUE(in) << "docs/reference.md is missing: run scripts/update-docs";
    std::stringstream committed;
    committed << in.rdbuf();
    EXPECT_TRUE(committed.str() == renderReference())
        << "docs/reference.md is stale: the registry changed. Regenerate it with scripts/update-docs "
           "(or `build/pipe doc --markdown > docs/reference.md`) and commit it.";
}

TEST(DocCli, NamesFamiliesAndUnknownNames) {
    auto r = testing::runPipe("doc adamw");
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, renderText({&entry(Family::Optimizer, "adamw")}));
    r = testing::runPipe("doc random");  // a splitter and a sweep strategy
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("random (splitter)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("random (strategy)"), std::string::npos) << r.out;
    r = testing::runPipe("doc optimizer");  // a family
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(count(r.out, " (optimizer)\n"), registry().all(Family::Optimizer).size()) << r.out;
    r = testing::runPipe("doc adamx", true);
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("unknown built-in `adamx`; did you mean `adam"), std::string::npos) << r.out;
}

TEST(DocCli, MarkdownAndHelp) {
    auto r = testing::runPipe("doc --markdown");
    EXPECT_EQ(r.code, 0);
    EXPECT_TRUE(r.out == renderReference());
    r = testing::runPipe("doc --help");
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("--markdown"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace pipelang::stdlib
