// The VS Code extension's grammar highlights the registry's built-ins; its
// list of names is generated (scripts/update-editor) and must not go stale.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pipe_cli.h"
#include "stdlib/doc.h"

namespace pipelang {
namespace {

TEST(Editor, GrammarBuiltinsAreUpToDate) {
    std::ifstream in(PIPE_SOURCE_DIR "/editor/vscode/syntaxes/pipe.tmLanguage.json");
    ASSERT_TRUE(in) << "editor/vscode/syntaxes/pipe.tmLanguage.json is missing";
    auto grammar = nlohmann::json::parse(in, nullptr, false);
    ASSERT_FALSE(grammar.is_discarded()) << "the grammar is not valid JSON";
    std::string match = grammar["repository"]["builtin"]["match"].get<std::string>();
    auto begin = match.find("(?:");
    auto end = match.find(')', begin);
    ASSERT_NE(begin, std::string::npos);
    ASSERT_NE(end, std::string::npos);
    std::string names;
    std::stringstream alternatives(match.substr(begin + 3, end - begin - 3));
    for (std::string name; std::getline(alternatives, name, '|');) names += name + "\n";
    EXPECT_EQ(names, stdlib::renderNames())
        << "the built-in names in editor/vscode/syntaxes/pipe.tmLanguage.json are stale: the registry changed. "
           "Regenerate them with scripts/update-editor and commit the grammar.";
}

TEST(Editor, DocNamesListsEveryBuiltinOnce) {
    auto r = testing::runPipe("doc --names");
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, stdlib::renderNames());
    EXPECT_NE(r.out.find("\nadamw\n"), std::string::npos);
    EXPECT_EQ(r.out.find("\ndata\n"), std::string::npos);  // top-level blocks are keywords
    EXPECT_EQ(r.out.find("\nrandom\nrandom\n"), std::string::npos);
    EXPECT_EQ(testing::runPipe("doc --names adamw").code, 2);
}

}  // namespace
}  // namespace pipelang
