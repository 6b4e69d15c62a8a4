// `evaluate STAGE on DATA.SPLIT [with METRICS] [tta N]`: parsed, checked,
// formatted and shown by the plan as the evaluate section's `tta` field.
#include <gtest/gtest.h>

#include "interpreter/compile.h"
#include "interpreter/format.h"
#include "interpreter/parse.h"

namespace pipelang {
namespace {

const char* kHead = R"(data fashion {
    source = idx("/nonexistent", train = "train", test = "t10k")
    blocks = (image(channels = 1), category)
    item   = [aug_transforms()]
}
model net { backbone = cnn() }
train fit { schedule = one_cycle(epochs = 1) }
)";

int64_t ttaOf(const std::string& statement, std::string* errors = nullptr) {
    auto c = compileText("/tmp/tta_syntax_test.pipe", std::string(kHead) + statement + "\n");
    if (errors) *errors = render(c->diags);
    auto all = c->pipeline.all("evaluate");
    if (all.empty() || !all.front()->field("tta")) return -1;
    return all.front()->field("tta")->integer;
}

TEST(TtaSyntax, AfterTheSplitOrTheMetrics) {
    EXPECT_EQ(ttaOf("evaluate fit on fashion.test"), 0);  // the default: none
    EXPECT_EQ(ttaOf("evaluate fit on fashion.test tta 4"), 4);
    EXPECT_EQ(ttaOf("evaluate fit on fashion.test with [accuracy] tta 8"), 8);
    std::string errors;
    ttaOf("evaluate fit on fashion.test tta 65", &errors);
    EXPECT_NE(errors.find("must be between 0 and 64, not 65"), std::string::npos) << errors;
    ttaOf("evaluate fit on fashion.test tta \"many\"", &errors);
    EXPECT_NE(errors.find("error"), std::string::npos) << errors;
    ttaOf("evaluate fit on fashion.test tta", &errors);
    EXPECT_NE(errors.find("error"), std::string::npos) << errors;
    // `tta` stays a name elsewhere, as the other keywords do.
    auto c = compileText("/tmp/tta_syntax_test.pipe",
                         std::string(kHead) + "let tta = 3\nevaluate fit on fashion.test tta tta\n");
    EXPECT_TRUE(c->ok()) << render(c->diags);
}

TEST(TtaSyntax, FormatsOnTheStatementsLine) {
    SourceManager sources;
    Diagnostics diags;
    std::string text = std::string(kHead) + "evaluate   fit on fashion.test  with [accuracy]   tta  4 # four copies\n";
    auto module = parse(sources.add("t.pipe", text), diags);
    ASSERT_FALSE(diags.hasErrors()) << render(diags);
    std::string once = format(module);
    EXPECT_NE(once.find("evaluate fit on fashion.test with [accuracy] tta 4  # four copies\n"), std::string::npos)
        << once;
    auto again = parse(sources.add("u.pipe", once), diags);
    EXPECT_EQ(format(again), once);
}

}  // namespace
}  // namespace pipelang
