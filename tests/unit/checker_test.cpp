// The checker on whole files: the examples check, values derived from the
// data, `--set` overrides, the seed, imports, and every error at once.
// (The wording of each diagnostic is pinned by the golden tests.)
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "interpreter/compile.h"

namespace pipelang {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Compilation> check(const std::string& text, std::vector<std::string> overrides = {}) {
    return compileText("test.pipe", text, CompileOptions{std::move(overrides)});
}

// Compiles text that must check without errors.
std::unique_ptr<Compilation> checkClean(const std::string& text, std::vector<std::string> overrides = {}) {
    auto c = check(text, std::move(overrides));
    EXPECT_TRUE(c->ok()) << render(c->diags) << "\nin:\n" << text;
    return c;
}

std::vector<std::string> codes(const Compilation& c, Severity severity = Severity::Error) {
    std::vector<std::string> out;
    for (const auto& d : c.diags.items())
        if (d.severity == severity) out.push_back(d.code);
    return out;
}

const Section& section(const Compilation& c, const std::string& kind, const std::string& name) {
    const Section* s = c.pipeline.find(kind, name);
    if (!s) throw std::runtime_error("no " + kind + " `" + name + "`");
    return *s;
}

// A data block with the given target block, and a model and train block
// that leave the loss, metrics and head to the checker.
// (`/dev/null` exists, so no warning about missing data.) With `named`, the
// train block names its model and data, so more of them may be added.
std::string withTarget(const std::string& blocks, const std::string& backbone = "mlp()", bool named = false) {
    return "data d {\n"
           "    source = csv(\"/dev/null\")\n"
           "    blocks = " +
           blocks +
           "\n"
           "}\n"
           "model m { backbone = " +
           backbone +
           " }\n"
           "train t { " +
           (named ? "model = m  data = d  " : "") + "schedule = one_cycle(epochs = 2) }\n";
}
std::string named(const std::string& blocks) {
    return withTarget(blocks, "mlp()", true);
}

// ---- the examples ------------------------------------------------------------

TEST(Checker, ExamplesCheckWithoutErrors) {
    int checked = 0;
    for (const auto& entry : fs::directory_iterator(fs::path(PIPE_SOURCE_DIR) / "examples")) {
        if (entry.path().extension() != ".pipe") continue;
        auto c = compileFile(entry.path().string());
        EXPECT_TRUE(c->ok()) << entry.path() << ":\n" << render(c->diags);
        EXPECT_FALSE(c->pipeline.sections.empty()) << entry.path();
        ++checked;
    }
    EXPECT_GE(checked, 5);
}

// ---- defaults from the data --------------------------------------------------

struct TargetDefaults {
    std::string blocks, backbone, loss, metric, head;
};

class CheckerDefaults : public ::testing::TestWithParam<TargetDefaults> {};

TEST_P(CheckerDefaults, LossMetricsAndHeadComeFromTheTarget) {
    const auto& want = GetParam();
    std::string text = withTarget(want.blocks, want.backbone);
    if (want.blocks.find("tokenizer") != std::string::npos) text += "tokenizer spm { load = \"spm.model\" }\n";
    auto c = checkClean(text);
    const Section& train = section(*c, "train", "t");
    const Value* loss = train.field("loss");
    ASSERT_EQ(loss->kind, Value::Kind::Call);
    EXPECT_EQ(loss->text, want.loss);
    EXPECT_EQ(loss->origin, Origin::Derived);
    const Value* metrics = train.field("metrics");
    ASSERT_EQ(metrics->kind, Value::Kind::List);
    EXPECT_EQ(metrics->origin, Origin::Derived);
    ASSERT_EQ(metrics->items.size(), 1u);
    EXPECT_EQ(metrics->items[0].text, want.metric);
    const Value* head = section(*c, "model", "m").field("head");
    ASSERT_EQ(head->kind, Value::Kind::Call);
    EXPECT_EQ(head->text, want.head);
    EXPECT_EQ(head->origin, Origin::Derived);
    // The train block names its only model and data block by itself.
    EXPECT_EQ(train.field("model")->text, "m");
    EXPECT_EQ(train.field("data")->text, "d");
}

INSTANTIATE_TEST_SUITE_P(
    Targets, CheckerDefaults,
    ::testing::Values(
        TargetDefaults{"(tabular(cont = [\"a\"]), category)", "mlp()", "cross_entropy", "accuracy", "classifier"},
        TargetDefaults{"(tabular(cont = [\"a\"]), multi_category)", "mlp()", "bce_with_logits", "f1", "classifier"},
        TargetDefaults{"(tabular(cont = [\"a\"]), number)", "mlp()", "mse", "rmse", "regressor"},
        TargetDefaults{"(tokens(tokenizer = spm))", "lstm()", "cross_entropy", "perplexity", "next_token"}),
    [](const ::testing::TestParamInfo<TargetDefaults>& info) {
        return std::string(info.param.loss) + "_" + info.param.metric;
    });

TEST(Checker, WrittenValuesAreNotReplacedByDerivedOnes) {
    auto c = checkClean(
        named("(tabular(cont = [\"a\"]), category)") +
        "train u { model = m  data = d  loss = cross_entropy(label_smoothing = 0.1)  metrics = [error_rate] }\n");
    const Section& train = section(*c, "train", "u");
    EXPECT_EQ(train.field("loss")->origin, Origin::Written);
    EXPECT_EQ(train.field("metrics")->items.at(0).text, "error_rate");
    // A parameter left out takes the registry's default.
    const Value* optimizer = train.field("optimizer");
    EXPECT_EQ(optimizer->text, "adamw");
    EXPECT_EQ(optimizer->origin, Origin::Default);
}

// normalize() beside pretrained RGB weights takes ImageNet's statistics, not
// the data's; written values, grey images and random weights keep theirs.
TEST(Checker, PretrainedImageWeightsNormaliseAsImageNet) {
    auto text = [](const std::string& normalize, const std::string& image, const std::string& weights) {
        return "data d {\n    source = folder(\"imgs\")\n    blocks = (" + image +
               ", category)\n    label = parent_label\n    split = random(valid = 0.2, seed = 1)\n    batch = [" +
               normalize + "]\n}\nmodel m { backbone = resnet(" + weights + ") }\ntrain t { model = m  data = d }\n";
    };
    auto normalize = [](const Compilation& c) { return section(c, "data", "d").field("batch")->items.at(0); };
    auto c = checkClean(text("normalize()", "image", "weights = \"resnet18-f37072fd.pth\""));
    Value n = normalize(*c);
    EXPECT_EQ(n.arg("mean")->str(), "[0.485, 0.456, 0.406]");
    EXPECT_EQ(n.arg("std")->str(), "[0.229, 0.224, 0.225]");
    EXPECT_EQ(n.arg("mean")->origin, Origin::Weights);
    EXPECT_STREQ(originName(n.arg("std")->origin), "from weights");

    c = checkClean(text("normalize(mean = [0.5, 0.5, 0.5])", "image", "weights = \"w.pth\""));
    EXPECT_EQ(normalize(*c).arg("mean")->origin, Origin::Written);
    EXPECT_EQ(normalize(*c).arg("std")->origin, Origin::Weights);
    c = checkClean(text("normalize()", "image(channels = 1)", "weights = \"w.pth\""));
    EXPECT_TRUE(normalize(*c).arg("mean")->isNone());
    c = checkClean(text("normalize()", "image", ""));
    EXPECT_TRUE(normalize(*c).arg("mean")->isNone());
}

// A transformer given a Hugging Face model folder takes its sizes from the
// folder's config.json (origin "from config.json"); a written size that
// differs, an architecture pipe does not build and a broken file are each
// one error at the `weights` value.
TEST(Checker, AModelFoldersConfigGivesTheTransformersSizes) {
    fs::path dir = fs::temp_directory_path() / ("pipe_config_test_" + std::to_string(::getpid()));
    fs::create_directories(dir / "distil");
    fs::create_directories(dir / "gpt");
    fs::create_directories(dir / "broken");
    std::ofstream(dir / "distil/config.json")
        << R"({"model_type": "distilbert", "dim": 768, "n_layers": 6, "n_heads": 12, "hidden_dim": 3072,
              "vocab_size": 30522, "max_position_embeddings": 512, "activation": "gelu", "dropout": 0.1})";
    std::ofstream(dir / "gpt/config.json") << R"({"model_type": "gpt2", "n_embd": 768})";
    std::ofstream(dir / "broken/config.json") << R"({"model_type": "bert", "hidden_size": 768,)";
    auto text = [](const std::string& args) {
        return "tokenizer spm {\n    train = sentencepiece(vocab = 100)\n    from = d.train.text\n}\n"
               "data d {\n    source = fortunes(\"f\")\n    blocks = (text(tokenizer = spm, max_len = 32), category)\n"
               "    split = random(valid = 0.2, seed = 1)\n}\n"
               "model m { backbone = transformer(" +
               args + ") }\ntrain t { model = m  data = d }\n";
    };
    auto compile = [&](const std::string& args) {
        return compileText((dir / "t.pipe").string(), text(args), CompileOptions{});
    };
    auto c = compile("weights = \"distil\", dropout = 0.2");
    ASSERT_TRUE(c->ok()) << render(c->diags);
    const Value& backbone = *section(*c, "model", "m").field("backbone");
    EXPECT_EQ(backbone.arg("arch")->text, "distilbert");
    EXPECT_EQ(backbone.arg("dim")->integer, 768);
    EXPECT_EQ(backbone.arg("layers")->integer, 6);
    EXPECT_EQ(backbone.arg("heads")->integer, 12);
    EXPECT_EQ(backbone.arg("ffn")->integer, 3072);
    EXPECT_EQ(backbone.arg("vocab")->integer, 30522);
    EXPECT_EQ(backbone.arg("norm")->text, "post");
    EXPECT_STREQ(originName(backbone.arg("dim")->origin), "from config.json");
    // Dropout is the user's to choose; a written one stays.
    EXPECT_EQ(backbone.arg("dropout")->number, 0.2);
    EXPECT_EQ(backbone.arg("dropout")->origin, Origin::Written);

    c = compile("weights = \"distil\", heads = 8");
    ASSERT_EQ(codes(*c), std::vector<std::string>{"model-config"});
    EXPECT_NE(render(c->diags).find("`heads = 8` disagrees with `n_heads = 12`"), std::string::npos)
        << render(c->diags);
    c = compile("weights = \"gpt\"");
    ASSERT_EQ(codes(*c), std::vector<std::string>{"model-config"});
    EXPECT_NE(render(c->diags).find("describes a `gpt2` model; the transformer backbone builds `bert`, `distilbert`"),
              std::string::npos)
        << render(c->diags);
    c = compile("weights = \"broken\"");
    ASSERT_EQ(codes(*c), std::vector<std::string>{"model-config"});
    EXPECT_NE(render(c->diags).find("broken/config.json` is not a JSON object"), std::string::npos) << render(c->diags);
    // Weights that are not a model folder leave the sizes as written.
    c = compile("weights = \"bert.safetensors\", dim = 32, heads = 4");
    ASSERT_TRUE(c->ok()) << render(c->diags);
    EXPECT_EQ(section(*c, "model", "m").field("backbone")->arg("dim")->integer, 32);
    fs::remove_all(dir);
}

TEST(Checker, EvaluateDefaultsToTheStagesMetrics) {
    auto c = checkClean(withTarget("(tabular(cont = [\"a\"]), category)") + "evaluate t on d.valid\n");
    const Value* with = section(*c, "evaluate", "t on d.valid").field("with");
    ASSERT_EQ(with->items.size(), 1u);
    EXPECT_EQ(with->items[0].text, "accuracy");
    EXPECT_EQ(with->origin, Origin::Derived);
}

TEST(Checker, LetConstantsAreSubstituted) {
    auto c = checkClean("let rate = 3e-3\n" + named("(tabular(cont = [\"a\"]), category)") +
                        "train u { model = m  data = d  optimizer = sgd(lr = rate) }\n");
    const Value* lr = section(*c, "train", "u").field("optimizer")->arg("lr");
    ASSERT_EQ(lr->kind, Value::Kind::Float);
    EXPECT_DOUBLE_EQ(lr->number, 3e-3);
    EXPECT_TRUE(codes(*c, Severity::Warning).empty()) << render(c->diags);
}

// ---- overrides ------------------------------------------------------------------

TEST(Checker, OverridesReplaceValuesAndAreMarked) {
    auto c = checkClean(withTarget("(tabular(cont = [\"a\"]), category)"),
                        {"t.optimizer.lr=1e-2", "d.batch_size=32", "t.schedule=cosine(epochs = 3, warmup = 0.1)"});
    const Section& train = section(*c, "train", "t");
    const Value* lr = train.field("optimizer")->arg("lr");
    EXPECT_DOUBLE_EQ(lr->number, 1e-2);
    EXPECT_EQ(lr->origin, Origin::Override);
    const Value* batch = section(*c, "data", "d").field("batch_size");
    EXPECT_EQ(batch->integer, 32);
    EXPECT_EQ(batch->origin, Origin::Override);
    const Value* schedule = train.field("schedule");
    EXPECT_EQ(schedule->text, "cosine");
    EXPECT_EQ(schedule->origin, Origin::Override);
    EXPECT_EQ(schedule->arg("epochs")->integer, 3);
}

TEST(Checker, OverridesAreTypeCheckedLikeTheFile) {
    auto c = check(withTarget("(tabular(cont = [\"a\"]), category)"),
                   {"t.optimizer.lr=\"fast\"", "d.batch_size=0", "t.precision=\"fp8\"", "t.optimizer.lrr=1", "nothing",
                    "t.schedule=fine_tune(epochs = 1, freeze_epochs = 2)"});
    EXPECT_EQ(codes(*c), (std::vector<std::string>{"type", "out-of-range", "not-allowed", "unknown-setting", "override",
                                                   "schedule"}))
        << render(c->diags);
    // A rejected override leaves the written value in place.
    EXPECT_EQ(section(*c, "data", "d").field("batch_size")->integer, 64);
}

TEST(Checker, OverrideErrorsPointIntoTheOverride) {
    auto c = check(withTarget("(tabular(cont = [\"a\"]), category)"), {"t.optimizer.lrr=1"});
    ASSERT_EQ(c->diags.items().size(), 1u);
    const Diagnostic& d = c->diags.items()[0];
    EXPECT_EQ(d.span.file->name, "--set");
    EXPECT_EQ(d.span.text(), "lrr");
    EXPECT_EQ(d.hints.at(0), "did you mean `lr`?");
}

// ---- the seed --------------------------------------------------------------------

TEST(Checker, SeedIsZeroByDefault) {
    auto c = checkClean(withTarget("(tabular(cont = [\"a\"]), category)"));
    EXPECT_EQ(c->pipeline.seed, 0);
    EXPECT_EQ(c->pipeline.seedOrigin, Origin::Default);
}

TEST(Checker, SeedWrittenAndOverridden) {
    auto c = checkClean("seed 42\n" + withTarget("(tabular(cont = [\"a\"]), category)"));
    EXPECT_EQ(c->pipeline.seed, 42);
    EXPECT_EQ(c->pipeline.seedOrigin, Origin::Written);
    c = checkClean("seed 42\n" + withTarget("(tabular(cont = [\"a\"]), category)"), {"seed=7"});
    EXPECT_EQ(c->pipeline.seed, 7);
    EXPECT_EQ(c->pipeline.seedOrigin, Origin::Override);
}

TEST(Checker, BadSeeds) {
    EXPECT_EQ(codes(*check("seed -1\n" + withTarget("(tabular, category)"))), std::vector<std::string>{"seed"});
    EXPECT_EQ(codes(*check("seed 1.5\n" + withTarget("(tabular, category)"))), std::vector<std::string>{"seed"});
    EXPECT_EQ(codes(*check("seed \"x\"\n" + withTarget("(tabular, category)"))), std::vector<std::string>{"seed"});
    EXPECT_EQ(codes(*check("seed 1\nseed 2\n" + withTarget("(tabular, category)"))),
              std::vector<std::string>{"duplicate-seed"});
    EXPECT_EQ(codes(*check(withTarget("(tabular, category)"), {"seed=-3"})), std::vector<std::string>{"seed"});
}

// ---- imports -------------------------------------------------------------------------

class CheckerImports : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("pipe-checker-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "lib");
    }
    void TearDown() override { fs::remove_all(dir_); }
    void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    fs::path dir_;
};

TEST_F(CheckerImports, ImportedBlocksAreVisibleAndComeFirst) {
    write("lib/data.pipe", "seed 1\ndata d { source = csv(\"/dev/null\")  blocks = (tabular, category) }\n");
    write("main.pipe", "import \"lib/data.pipe\"\nseed 9\nmodel m { backbone = mlp() }\ntrain t { data = d }\n");
    auto c = compileFile(path("main.pipe"));
    ASSERT_TRUE(c->ok()) << render(c->diags);
    ASSERT_EQ(c->modules.size(), 2u);
    EXPECT_EQ(c->modules[0].file->name, path("lib/data.pipe"));  // relative to the importing file
    EXPECT_EQ(c->modules[1].file->name, path("main.pipe"));      // the main file last
    EXPECT_EQ(section(*c, "train", "t").field("data")->text, "d");
    EXPECT_EQ(c->pipeline.seed, 9);  // the main file's seed wins over an import's
}

TEST_F(CheckerImports, AFileImportedTwiceIsLoadedOnce) {
    write("lib/data.pipe", "data d { source = csv(\"/dev/null\")  blocks = (tabular, category) }\n");
    write("lib/model.pipe", "import \"data.pipe\"\nmodel m { backbone = mlp() }\n");
    write("main.pipe", "import \"lib/data.pipe\"\nimport \"lib/model.pipe\"\ntrain t { }\n");
    auto c = compileFile(path("main.pipe"));
    EXPECT_TRUE(c->ok()) << render(c->diags);
    EXPECT_EQ(c->modules.size(), 3u);
    EXPECT_EQ(c->pipeline.all("data").size(), 1u);
}

TEST_F(CheckerImports, CompileTextResolvesImportsNextToItsName) {
    write("lib/data.pipe", "data d { source = csv(\"/dev/null\")  blocks = (tabular, category) }\n");
    auto c = compileText(path("main.pipe"), "import \"lib/data.pipe\"\nmodel m { backbone = mlp() }\ntrain t { }\n");
    EXPECT_TRUE(c->ok()) << render(c->diags);
}

TEST_F(CheckerImports, MissingAndCyclicImports) {
    write("a.pipe", "import \"b.pipe\"\n");
    write("b.pipe", "import \"a.pipe\"\n");
    write("main.pipe", "import \"a.pipe\"\nimport \"nowhere.pipe\"\n");
    auto c = compileFile(path("main.pipe"));
    auto found = codes(*c);
    std::sort(found.begin(), found.end());
    EXPECT_EQ(found, (std::vector<std::string>{"import-cycle", "import-missing"})) << render(c->diags);
}

TEST_F(CheckerImports, UnreadableMainFile) {
    auto c = compileFile(path("absent.pipe"));
    EXPECT_EQ(codes(*c), std::vector<std::string>{"read"});
    c = compileFile(dir_.string());
    EXPECT_EQ(codes(*c), std::vector<std::string>{"read"});
}

// ---- every error at once -------------------------------------------------------

TEST(Checker, ReportsEveryIndependentErrorAtOnce) {
    auto c = check(R"(
data d {
    source     = csv("/dev/null")
    blocks     = (tabular, category)
    batch_size = 12.5
}
model m { backbone = mlp(hiden = [10]) }
train t {
    optimizer = adamx(lr = 3e-3)
    schedule  = one_cycle(epochs = 0)
    precision = "fp8"
}
)");
    EXPECT_EQ(c->diags.errorCount(), 5u) << render(c->diags);
    EXPECT_EQ(codes(*c), (std::vector<std::string>{"type", "unknown-parameter", "unknown-builtin", "out-of-range",
                                                   "not-allowed"}));
    // In the order of the file.
    int line = 0;
    for (const auto& d : c->diags.items()) {
        EXPECT_GT(d.span.line(), line);
        line = d.span.line();
    }
}

TEST(Checker, SyntaxErrorsStopTheCheckButAllAreReported) {
    auto c = check("data d { source = csv(\"/dev/null\"  }\nmodel m { backbone = [1 2] }\ntrain t { loss = adamx }\n");
    EXPECT_EQ(c->diags.errorCount(), 2u) << render(c->diags);  // two syntax errors, no check of `adamx`
    EXPECT_TRUE(c->pipeline.sections.empty());
}

TEST(Checker, ErrorsDoNotEcho) {
    // A wrong reference is one error: not also "unused" for the block meant.
    auto c = check(named("(tabular, category)") + "train u { model = mm  data = d }\n");
    EXPECT_EQ(codes(*c), std::vector<std::string>{"unknown-name"}) << render(c->diags);
    EXPECT_TRUE(codes(*c, Severity::Warning).empty()) << render(c->diags);
    // A duplicated name is one error, wherever it is used.
    c = check(named("(tabular, category)") +
              "data m { source = csv(\"/dev/null\")  blocks = (tabular, number) }\n"
              "train u { model = m  data = d }\n");
    EXPECT_EQ(codes(*c), std::vector<std::string>{"duplicate-name"}) << render(c->diags);
}

TEST(Checker, ALongChainOfStagesIsCheckedWithoutRecursion) {
    // Each stage starts from the one before: the stage graph is walked, and
    // each backbone followed to its built-in, once rather than per stage.
    std::string text =
        "data d { source = csv(\"/dev/null\")  blocks = (tabular, category) }\n"
        "model m0 { backbone = cnn() }\ntrain t0 { model = m0  data = d }\n";
    const int links = 5000;
    for (int i = 1; i < links; ++i) {
        std::string n = std::to_string(i), before = std::to_string(i - 1);
        text += "model m" + n + " { backbone = t" + before + ".backbone }\ntrain t" + n + " { model = m" + n +
                "  data = d }\n";
    }
    auto c = check(text);
    // The chain's first backbone does not take tabular input: one error per
    // stage that builds on it, each found at the end of the chain.
    auto errors = codes(*c);
    EXPECT_EQ(errors.size(), size_t(links));
    EXPECT_EQ(std::count(errors.begin(), errors.end(), "does-not-fit"), links);
    // A circle is still found.
    auto circle = check(
        "data d { source = csv(\"/dev/null\")  blocks = (tabular, category) }\n"
        "model a { backbone = tb.backbone }\ntrain ta { model = a  data = d }\n"
        "model b { backbone = ta.backbone }\ntrain tb { model = b  data = d }\n");
    EXPECT_EQ(codes(*circle), std::vector<std::string>{"cycle"}) << render(circle->diags);
}

TEST(Checker, UnusedBlocksAndLetsWarn) {
    auto c = check("let unused = 3\n" + named("(tabular, category)") +
                   "model other { backbone = mlp() }\n"
                   "train u { model = other  data = d }\n"
                   "model spare { backbone = mlp() }\n");
    EXPECT_TRUE(c->ok()) << render(c->diags);
    EXPECT_EQ(codes(*c, Severity::Warning), (std::vector<std::string>{"unused", "unused"})) << render(c->diags);
}

TEST(Checker, ContractsAreCheckedForEveryTargetKind) {
    // Each head, loss and metric that does not accept the target is reported.
    auto c = check(named("(tabular, number)") +
                   "train u { model = m  data = d  loss = cross_entropy  metrics = [accuracy, mae] }\n"
                   "model h { backbone = mlp()  head = classifier }\n"
                   "train v { model = h  data = d }\n");
    EXPECT_EQ(codes(*c), (std::vector<std::string>{"does-not-fit", "does-not-fit", "does-not-fit"}))
        << render(c->diags);
}

}  // namespace
}  // namespace pipelang
