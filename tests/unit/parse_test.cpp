// The parser: tokens (numbers, strings, names), the shapes of expressions and
// statements, keywords used as names, comments, and source spans.
#include "interpreter/parse.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace pipelang {
namespace {

namespace fs = std::filesystem;

struct Parsed {
    SourceManager sources;
    Diagnostics diags;
    ast::Module module;
};

std::unique_ptr<Parsed> parseText(const std::string& text) {
    auto p = std::make_unique<Parsed>();
    p->module = parse(p->sources.add("test.pipe", text), p->diags);
    return p;
}

// Parses text that must be free of syntax errors.
std::unique_ptr<Parsed> parseClean(const std::string& text) {
    auto p = parseText(text);
    EXPECT_FALSE(p->diags.hasErrors()) << render(p->diags) << "in:\n" << text;
    return p;
}

// The dump of one expression, written as the value of a let.
std::string exprDump(const std::string& expr) {
    auto p = parseClean("let x = " + expr + "\n");
    if (p->module.statements.size() != 1 || !p->module.statements[0].value) return "<nothing>";
    return ast::dump(*p->module.statements[0].value);
}

const ast::Expr& letValue(const Parsed& p, size_t i = 0) {
    return *p.module.statements.at(i).value;
}

std::vector<std::string> errorCodes(const Parsed& p) {
    std::vector<std::string> out;
    for (const auto& d : p.diags.items()) out.push_back(d.code);
    return out;
}

// ---- numbers ---------------------------------------------------------------

TEST(Parse, Integers) {
    auto p = parseClean("let a = 42\nlet b = 1_000_000\nlet c = 0\n");
    EXPECT_TRUE(letValue(*p, 0).isInteger);
    EXPECT_EQ(letValue(*p, 0).number, 42);
    EXPECT_EQ(letValue(*p, 1).number, 1000000);
    EXPECT_EQ(letValue(*p, 1).text, "1_000_000");  // as written, for messages and the formatter
    EXPECT_TRUE(letValue(*p, 1).isInteger);
    EXPECT_EQ(letValue(*p, 2).number, 0);
}

TEST(Parse, FloatsAndExponents) {
    struct Case {
        const char* text;
        double value;
    };
    for (auto [text, value] : {Case{"0.1", 0.1}, Case{"3e-4", 3e-4}, Case{"1.5E+3", 1500}, Case{"2e3", 2000},
                               Case{".5", 0.5}, Case{"2.", 2.0}, Case{"1_000.000_1", 1000.0001}, Case{"1e0", 1}}) {
        auto p = parseClean(std::string("let x = ") + text + "\n");
        const ast::Expr& e = letValue(*p);
        EXPECT_EQ(e.kind, ast::Expr::Kind::Number) << text;
        EXPECT_FALSE(e.isInteger) << text << " has a point or an exponent, so it is a float";
        EXPECT_DOUBLE_EQ(e.number, value) << text;
        EXPECT_EQ(e.text, text);
    }
}

TEST(Parse, NegativeNumbers) {
    auto p = parseClean("let a = -3\nlet b = -1e-3\nlet c = [-1, - 2]\n");
    EXPECT_EQ(letValue(*p, 0).number, -3);
    EXPECT_TRUE(letValue(*p, 0).isInteger);
    EXPECT_EQ(letValue(*p, 0).text, "-3");
    EXPECT_DOUBLE_EQ(letValue(*p, 1).number, -1e-3);
    EXPECT_EQ(ast::dump(letValue(*p, 2)), "[int:-1, int:-2]");
    // The span of a negative number covers its sign.
    EXPECT_EQ(letValue(*p, 0).span.text(), "-3");
}

TEST(Parse, NumberErrors) {
    auto p = parseText("let a = 99999999999999999999\n");
    EXPECT_EQ(errorCodes(*p), std::vector<std::string>{"number-range"});
    p = parseText("let a = 1e999\n");
    EXPECT_EQ(errorCodes(*p), std::vector<std::string>{"number-range"});
    p = parseText("let a = 1__0\n");  // one `_` between digits only
    EXPECT_TRUE(p->diags.hasErrors());
    p = parseText("let a = 1e-400\n");  // underflows to zero: not an error
    EXPECT_FALSE(p->diags.hasErrors()) << render(p->diags);
}

// ---- strings ---------------------------------------------------------------

TEST(Parse, StringEscapes) {
    auto p = parseClean(R"(let s = "a\"b\\c\nd\te\r")"
                        "\n");
    EXPECT_EQ(letValue(*p).kind, ast::Expr::Kind::String);
    EXPECT_EQ(letValue(*p).text, "a\"b\\c\nd\te\r");
    p = parseClean("let s = \"\"\nlet t = \"caf\xC3\xA9 \xE2\x86\x92\"\n");
    EXPECT_EQ(letValue(*p, 0).text, "");
    EXPECT_EQ(letValue(*p, 1).text, "caf\xC3\xA9 \xE2\x86\x92");  // UTF-8 kept as is
}

TEST(Parse, BadEscapePointsAtTheEscape) {
    auto p = parseText("let s = \"ab\\qc\"\n");
    ASSERT_EQ(errorCodes(*p), std::vector<std::string>{"bad-escape"});
    const Span& at = p->diags.items()[0].span;
    EXPECT_EQ(at.text(), "\\q");
    EXPECT_EQ(at.column(), 12);
}

TEST(Parse, UnterminatedStringIsOneError) {
    auto p = parseText("data d {\n    source = csv(\"x.csv)\n    blocks = (tabular, category)\n}\n");
    ASSERT_EQ(errorCodes(*p), std::vector<std::string>{"unterminated-string"}) << render(p->diags);
    EXPECT_EQ(p->diags.items()[0].span.line(), 2);
    EXPECT_EQ(p->diags.items()[0].span.column(), 18);
}

// ---- names and keywords ------------------------------------------------------

TEST(Parse, KeywordsAreNamesWhereANameGoes) {
    auto p = parseClean(R"(
train pre { model = lm  data = corpus }
tokenizer spm { from = essays.train.text }
model clf { backbone = pre.backbone }
data train { source = csv(path = "x", header = true) }
let seed = 3
evaluate tune on data.test with [accuracy]
export train to "m.safetensors"
)");
    ASSERT_EQ(p->module.statements.size(), 7u);
    const auto& train = p->module.statements[0];
    EXPECT_EQ(train.fields[0].key.text(), "model");
    EXPECT_EQ(ast::dump(*train.fields[0].value), "ref:lm");
    EXPECT_EQ(train.fields[1].key.text(), "data");
    EXPECT_EQ(ast::dump(*p->module.statements[1].fields[0].value), "ref:essays.train.text");
    EXPECT_EQ(p->module.statements[3].name->text, "train");
    EXPECT_EQ(p->module.statements[4].name->text, "seed");
    EXPECT_EQ(p->module.statements[5].target.text(), "data.test");
    EXPECT_EQ(p->module.statements[6].subject.text(), "train");
}

TEST(Parse, NamesWithDigitsAndUnderscores) {
    EXPECT_EQ(exprDump("_a1.b_2.c3"), "ref:_a1.b_2.c3");
    EXPECT_EQ(exprDump("f_1(x_2 = y3)"), "call:f_1(x_2=ref:y3)");
}

TEST(Parse, NonAsciiNameIsOneError) {
    auto p = parseText("model r\xC3\xA9seau { backbone = cnn() }\n");
    ASSERT_EQ(errorCodes(*p), std::vector<std::string>{"bad-name"}) << render(p->diags);
    EXPECT_EQ(p->diags.items()[0].span.text(), "r\xC3\xA9seau");
}

// ---- expressions ---------------------------------------------------------------

TEST(Parse, Expressions) {
    EXPECT_EQ(exprDump("true"), "true");
    EXPECT_EQ(exprDump("false"), "false");
    EXPECT_EQ(exprDump("[]"), "[]");
    EXPECT_EQ(exprDump("()"), "()");
    EXPECT_EQ(exprDump("f()"), "call:f()");
    EXPECT_EQ(exprDump("f(1, b = \"x\")"), "call:f(int:1, b=\"x\")");
    EXPECT_EQ(exprDump("[[1, 2], (a, b(c = [d]))]"), "[[int:1, int:2], (ref:a, call:b(c=[ref:d]))]");
    EXPECT_EQ(exprDump("a.b.c(d = e.f)"), "call:a.b.c(d=ref:e.f)");
}

TEST(Parse, OneItemTupleIsATuple) {
    auto p = parseClean("let t = (tokens(tokenizer = spm))\n");
    const ast::Expr& e = letValue(*p);
    EXPECT_EQ(e.kind, ast::Expr::Kind::Tuple);
    ASSERT_EQ(e.args.size(), 1u);
    EXPECT_EQ(ast::dump(e), "(call:tokens(tokenizer=ref:spm))");
}

TEST(Parse, TrailingCommas) {
    EXPECT_EQ(exprDump("[1, 2,]"), "[int:1, int:2]");
    EXPECT_EQ(exprDump("(a, b,)"), "(ref:a, ref:b)");
    EXPECT_EQ(exprDump("(a,)"), "(ref:a)");
    EXPECT_EQ(exprDump("f(1, x = 2,)"), "call:f(int:1, x=int:2)");
    EXPECT_EQ(exprDump("[\n  1,\n  2,\n]"), "[int:1, int:2]");
    // A comma alone is not a list.
    EXPECT_TRUE(parseText("let x = [,]\n")->diags.hasErrors());
    EXPECT_TRUE(parseText("let x = f(,)\n")->diags.hasErrors());
}

TEST(Parse, ArgumentsKeepTheirNamesAndOrder) {
    auto p = parseClean("let c = adamw(1e-3, weight_decay = 0.01)\n");
    const ast::Expr& e = letValue(*p);
    ASSERT_EQ(e.args.size(), 2u);
    EXPECT_FALSE(e.args[0].name);
    ASSERT_TRUE(e.args[1].name);
    EXPECT_EQ(e.args[1].name->text, "weight_decay");
    EXPECT_EQ(e.args[1].span.text(), "weight_decay = 0.01");
}

TEST(Parse, ParseExpressionAlone) {
    SourceManager sources;
    Diagnostics diags;
    const SourceFile& file = sources.add("--set", "fit.lr=slice(1e-4, 1e-3)");
    auto e = parseExpression(file, diags, 7);
    ASSERT_TRUE(e) << render(diags);
    EXPECT_EQ(ast::dump(*e), "call:slice(float:0.0001, float:0.001)");
    EXPECT_EQ(e->span.column(), 8);  // spans are in the whole text
    const SourceFile& bad = sources.add("--set", "x=[1, 2");
    EXPECT_FALSE(parseExpression(bad, diags, 2));
    EXPECT_TRUE(diags.hasErrors());
}

// ---- statements ----------------------------------------------------------------

TEST(Parse, EveryStatement) {
    auto p = parseClean(R"(seed 7
import "other.pipe"
let lr = 3e-3
data { source = csv("x.csv") }
model net { backbone = cnn() }
sweep { fit.optimizer.lr = [1e-3, 3e-3] }
evaluate fit on fashion.test
evaluate fit on fashion.valid with [accuracy]
export fit to "fit.safetensors"
)");
    EXPECT_EQ(ast::dump(p->module), R"(seed int:7
import "other.pipe"
let lr = float:0.0030000000000000001
data {
  source = call:csv("x.csv")
}
model net {
  backbone = call:cnn()
}
sweep {
  fit.optimizer.lr = [float:0.001, float:0.0030000000000000001]
}
evaluate fit on fashion.test
evaluate fit on fashion.valid with [ref:accuracy]
export fit to "fit.safetensors"
)");
    EXPECT_FALSE(p->module.statements[3].name);  // an unnamed block
}

TEST(Parse, FieldsOnOneLineOrMany) {
    auto a = parseClean("train { model = lm  data = corpus  schedule = one_cycle(epochs = 5) }\n");
    auto b = parseClean(
        "train {\n    model = lm\n    data = corpus\n    schedule = one_cycle(\n        epochs = 5,\n    )\n}\n");
    EXPECT_EQ(ast::dump(a->module), ast::dump(b->module));
}

TEST(Parse, DesignExampleDump) {
    auto p = parseClean(R"(# examples/fashion.pipe — a small convolutional net on Fashion-MNIST
seed 42

data fashion {
    source     = idx("/usr/share/datasets/fashion-mnist", train = "train", test = "t10k")
    blocks     = (image(channels = 1), category)
    split      = random(valid = 0.1, seed = 42)
    item       = [pad(2), random_crop(28), flip()]
    batch      = [normalize()]               # statistics measured on the training split
    batch_size = 128
}

model net {
    backbone = cnn(channels = [32, 64, 128], batch_norm = true)   # a conv stage per entry
    head     = classifier(dropout = 0.2)      # output size comes from the category block
}

train fit {
    loss      = cross_entropy(label_smoothing = 0.1)
    optimizer = adamw(lr = 3e-3, weight_decay = 0.05)
    schedule  = one_cycle(epochs = 10)
    metrics   = [accuracy, error_rate]
    keep      = best(valid_loss)
}

evaluate fit on fashion.test with [accuracy, confusion_matrix]
export fit to "fashion.safetensors"
)");
    EXPECT_EQ(ast::dump(p->module), R"(seed int:42
data fashion {
  source = call:idx("/usr/share/datasets/fashion-mnist", train="train", test="t10k")
  blocks = (call:image(channels=int:1), ref:category)
  split = call:random(valid=float:0.10000000000000001, seed=int:42)
  item = [call:pad(int:2), call:random_crop(int:28), call:flip()]
  batch = [call:normalize()]
  batch_size = int:128
}
model net {
  backbone = call:cnn(channels=[int:32, int:64, int:128], batch_norm=true)
  head = call:classifier(dropout=float:0.20000000000000001)
}
train fit {
  loss = call:cross_entropy(label_smoothing=float:0.10000000000000001)
  optimizer = call:adamw(lr=float:0.0030000000000000001, weight_decay=float:0.050000000000000003)
  schedule = call:one_cycle(epochs=int:10)
  metrics = [ref:accuracy, ref:error_rate]
  keep = call:best(ref:valid_loss)
}
evaluate fit on fashion.test with [ref:accuracy, ref:confusion_matrix]
export fit to "fashion.safetensors"
)");
}

TEST(Parse, EveryExampleParsesAndDumpsTheSameTwice) {
    int parsed = 0;
    for (const auto& entry : fs::directory_iterator(fs::path(PIPE_SOURCE_DIR) / "examples")) {
        if (entry.path().extension() != ".pipe") continue;
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        auto first = parseText(text.str());
        EXPECT_FALSE(first->diags.hasErrors()) << entry.path() << ":\n" << render(first->diags);
        EXPECT_FALSE(first->module.statements.empty()) << entry.path();
        std::string dump = ast::dump(first->module);
        EXPECT_EQ(dump, ast::dump(parseText(text.str())->module));
        // Every block of the file is in the dump, with its fields.
        for (const auto& s : first->module.statements) {
            if (s.kind != ast::Statement::Kind::Block) continue;
            for (const auto& f : s.fields) EXPECT_NE(dump.find("  " + f.key.text() + " = "), std::string::npos);
        }
        ++parsed;
    }
    EXPECT_GE(parsed, 5);
}

// ---- comments --------------------------------------------------------------------

TEST(Parse, CommentsAttachToTheirNodes) {
    auto p = parseClean(R"(# about the file

# about the data
data d {  # after the brace
    # about the source
    source = csv("x.csv")  # trailing the source
    blocks = (
        text,      # the input
        category,  # the target
    )
    # before the closing brace
}
# at the end
)");
    const auto& data = p->module.statements.at(0);
    EXPECT_EQ(data.comments.leading, (std::vector<std::string>{"# about the file", "", "# about the data"}));
    const auto& source = data.fields.at(0);
    ASSERT_FALSE(source.comments.leading.empty());
    EXPECT_EQ(source.comments.leading.back(), "# about the source");
    EXPECT_EQ(source.comments.trailing, "# trailing the source");
    const auto& blocks = *data.fields.at(1).value;
    ASSERT_EQ(blocks.args.size(), 2u);
    EXPECT_EQ(blocks.args[0].value->comments.trailing, "# the input");
    EXPECT_EQ(blocks.args[1].value->comments.trailing, "# the target");
    EXPECT_EQ(data.danglingComments, (std::vector<std::string>{"# before the closing brace"}));
    EXPECT_EQ(p->module.danglingComments, (std::vector<std::string>{"# at the end"}));
    // Every comment is kept somewhere, the one after `{` included.
    std::string all;
    auto collect = [&](const ast::Comments& c) {
        for (const auto& l : c.leading) all += l + "\n";
        all += c.trailing + "\n";
    };
    collect(data.comments);
    for (const auto& f : data.fields) collect(f.comments);
    EXPECT_NE(all.find("# after the brace"), std::string::npos) << all;
}

TEST(Parse, CommentMarkInsideAStringIsText) {
    auto p = parseClean("let s = \"a # b\"  # real\n");
    EXPECT_EQ(letValue(*p).text, "a # b");
    EXPECT_EQ(p->module.statements[0].comments.trailing, "# real");
}

// ---- spans -------------------------------------------------------------------------

TEST(Parse, SpansGiveLinesAndColumns) {
    auto p = parseClean("seed 1\n\ndata fashion {\n    source = idx(\"x\", train = \"a\")\n}\n");
    const auto& data = p->module.statements.at(1);
    EXPECT_EQ(data.keyword.line(), 3);
    EXPECT_EQ(data.keyword.column(), 1);
    EXPECT_EQ(data.keyword.text(), "data");
    EXPECT_EQ(data.name->span.line(), 3);
    EXPECT_EQ(data.name->span.column(), 6);
    EXPECT_EQ(data.span.line(), 3);
    EXPECT_EQ(data.span.endLine(), 5);
    const auto& field = data.fields.at(0);
    EXPECT_EQ(field.key.span.line(), 4);
    EXPECT_EQ(field.key.span.column(), 5);
    EXPECT_EQ(field.span.text(), "source = idx(\"x\", train = \"a\")");
    const ast::Expr& call = *field.value;
    EXPECT_EQ(call.span.column(), 14);
    EXPECT_EQ(call.path.span.text(), "idx");
    EXPECT_EQ(call.args.at(0).value->span.text(), "\"x\"");
    EXPECT_EQ(call.args.at(1).name->span.column(), 23);
    EXPECT_EQ(call.args.at(1).value->span.column(), 31);
}

TEST(Parse, SpansAreBytesAfterNonAscii) {
    // Columns count bytes; `é` is two.
    auto p = parseClean("let s = \"\xC3\xA9\"  let t = x\n");
    const auto& t = p->module.statements.at(1);
    EXPECT_EQ(t.name->span.column(), 19);
    EXPECT_EQ(t.name->span.text(), "t");
    EXPECT_EQ(t.value->span.text(), "x");
}

TEST(Parse, SpansOfDottedPaths) {
    auto p = parseClean("sweep { fit.optimizer.lr = [1] }\n");
    const auto& key = p->module.statements.at(0).fields.at(0).key;
    ASSERT_EQ(key.parts.size(), 3u);
    EXPECT_EQ(key.span.text(), "fit.optimizer.lr");
    EXPECT_EQ(key.parts[1].span.text(), "optimizer");
    EXPECT_EQ(key.parts[2].span.column(), 23);
}

// ---- syntax errors ---------------------------------------------------------------

TEST(Parse, RecoversToReportSeveralErrors) {
    auto p = parseText(R"(data d {
    source = csv("x.csv"
    blocks = (text, category)
}
model m { backbone = cnn(channels = [32 64]) }
train t {
    schedule    one_cycle(epochs = 2)
}
)");
    EXPECT_EQ(p->diags.errorCount(), 3u) << render(p->diags);
    std::vector<int> lines;
    for (const auto& d : p->diags.items()) lines.push_back(d.span.line());
    EXPECT_EQ(lines, (std::vector<int>{2, 5, 7}));
    // What could be built around the errors is kept.
    EXPECT_EQ(p->module.statements.size(), 3u);
}

TEST(Parse, MissingBraceBeforeTheNextBlockIsOneError) {
    auto p = parseText("data d {\n    source = csv(\"x.csv\")\n\nmodel m {\n    backbone = cnn()\n}\n");
    ASSERT_EQ(errorCodes(*p), std::vector<std::string>{"unclosed-block"}) << render(p->diags);
    EXPECT_EQ(p->diags.items()[0].span.line(), 2);  // where the `}` belongs
    // The next block is parsed as a block, not as a field.
    ASSERT_EQ(p->module.statements.size(), 2u);
    EXPECT_EQ(p->module.statements[1].name->text, "m");
    // A keyword that is a field name is not taken for a new block.
    p = parseText("train t {\n    model lm\n}\n");
    EXPECT_EQ(errorCodes(*p), std::vector<std::string>{"syntax"}) << render(p->diags);
}

TEST(Parse, StrayCharacter) {
    auto p = parseText("data d { batch_size = 1 $ }\n");
    ASSERT_EQ(errorCodes(*p), std::vector<std::string>{"unexpected-character"}) << render(p->diags);
    EXPECT_EQ(p->diags.items()[0].span.text(), "$");
}

TEST(Parse, InvalidUtf8) {
    auto p = parseText("let s = \"caf\xE9\"\n");
    ASSERT_EQ(errorCodes(*p), std::vector<std::string>{"encoding"});
    EXPECT_EQ(p->diags.items()[0].span.column(), 13);
}

TEST(Parse, EmptyAndCommentOnlyFiles) {
    EXPECT_TRUE(parseClean("")->module.statements.empty());
    auto p = parseClean("# nothing but a comment\n");
    EXPECT_TRUE(p->module.statements.empty());
    EXPECT_EQ(p->module.danglingComments, std::vector<std::string>{"# nothing but a comment"});
}

}  // namespace
}  // namespace pipelang
