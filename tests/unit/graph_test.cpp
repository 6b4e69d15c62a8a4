// The execution graph: the right stages, the right artifacts between them,
// a run order that respects them, and DOT that Graphviz accepts.
#include "interpreter/graph.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "interpreter/compile.h"
#include "pipe_cli.h"

namespace pipelang {
namespace {

namespace fs = std::filesystem;

const std::string kExamples = PIPE_SOURCE_DIR "/examples/";

std::unique_ptr<Compilation> compileChecked(const std::string& path) {
    auto c = compileFile(path);
    EXPECT_TRUE(c->ok()) << render(c->diags);
    return c;
}

// The index of stage `kind name`; fails the test when it is missing.
size_t stageIndex(const Graph& g, StageKind kind, const std::string& name) {
    auto i = g.find(kind, name);
    EXPECT_TRUE(i.has_value()) << stageKindName(kind) << " " << name << " missing\n" << renderText(g);
    return i.value_or(0);
}

// The artifact stage `to` takes from stage `from`, or "" when it takes none.
std::string artifact(const Graph& g, size_t from, size_t to) {
    for (const auto& in : g.stages[to].inputs)
        if (in.stage == from) return in.artifact;
    return "";
}

void expectTopological(const Graph& g) {
    for (size_t i = 0; i < g.stages.size(); ++i)
        for (const auto& in : g.stages[i].inputs)
            EXPECT_LT(in.stage, i) << g.stages[i].title() << " runs before its input\n" << renderText(g);
}

std::vector<fs::path> examples() {
    std::vector<fs::path> out;
    for (const auto& entry : fs::directory_iterator(kExamples))
        if (entry.path().extension() == ".pipe") out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

TEST(Graph, UlmfitTransfersThePretrainedBackbone) {
    auto c = compileChecked(kExamples + "ulmfit.pipe");
    Graph g = buildGraph(c->pipeline);
    size_t loadCorpus = stageIndex(g, StageKind::Load, "corpus");
    size_t spm = stageIndex(g, StageKind::Tokenizer, "spm");
    size_t prepareCorpus = stageIndex(g, StageKind::Prepare, "corpus");
    size_t prepareTopics = stageIndex(g, StageKind::Prepare, "topics");
    size_t pre = stageIndex(g, StageKind::Train, "pre");
    size_t tune = stageIndex(g, StageKind::Train, "tune");
    EXPECT_EQ(artifact(g, pre, tune), "backbone weights");
    EXPECT_EQ(artifact(g, prepareTopics, tune), "vocab + stats");
    EXPECT_EQ(artifact(g, loadCorpus, spm), "items + split");  // learns from corpus.train.text
    EXPECT_EQ(artifact(g, spm, prepareCorpus), "tokenizer model");
    EXPECT_EQ(artifact(g, spm, prepareTopics), "tokenizer model");  // the same tokenizer, shared
    EXPECT_EQ(artifact(g, prepareCorpus, pre), "vocab + stats");
    EXPECT_EQ(g.stages[pre].inputs.size(), 1u);
    EXPECT_EQ(g.stages.size(), 7u) << renderText(g);  // 2 × (load, prepare), tokenizer, 2 × train
    expectTopological(g);
    EXPECT_EQ(g.stages[tune].section, c->pipeline.find("train", "tune"));
}

TEST(Graph, FashionRunsInFileOrderAndPrintsStably) {
    auto c = compileChecked(kExamples + "fashion.pipe");
    Graph g = buildGraph(c->pipeline);
    EXPECT_EQ(renderText(g),
              "1. load fashion\n"
              "2. prepare fashion\n"
              "     <- 1. load fashion (items + split)\n"
              "3. train fit\n"
              "     <- 2. prepare fashion (vocab + stats)\n"
              "4. evaluate fit on fashion.test\n"
              "     <- 3. train fit (weights)\n"
              "     <- 2. prepare fashion (vocab + stats)\n"
              "5. export fit\n"
              "     <- 3. train fit (weights)\n");
}

TEST(Graph, OrdersStagesByDependencyNotByFileOrder) {
    // The fine-tuning stage is written before the stage whose weights it starts from.
    auto c = compileText("order.pipe", R"(
data d { source = idx("/usr/share/datasets/fashion-mnist")  blocks = (image(channels = 1), category) }
model clf { backbone = pre.backbone }
train tune { model = clf  data = d }
model base { backbone = cnn(channels = [8]) }
train pre { model = base  data = d }
)");
    ASSERT_TRUE(c->ok()) << render(c->diags);
    Graph g = buildGraph(c->pipeline);
    expectTopological(g);
    EXPECT_LT(stageIndex(g, StageKind::Train, "pre"), stageIndex(g, StageKind::Train, "tune")) << renderText(g);
}

TEST(Graph, SweepsAreNotStages) {
    auto sweep = compileChecked(kExamples + "sweep.pipe");
    auto fashion = compileChecked(kExamples + "fashion.pipe");
    EXPECT_EQ(renderText(buildGraph(sweep->pipeline)), renderText(buildGraph(fashion->pipeline)));
}

TEST(Graph, DotLabelsShowTheKeySettings) {
    auto c = compileChecked(kExamples + "ulmfit.pipe");
    std::string dot = renderDot(buildGraph(c->pipeline));
    EXPECT_EQ(dot.rfind("digraph pipeline {\n", 0), 0u) << dot;
    EXPECT_NE(dot.find("backbone: lstm(dim = 256, layers = 2)"), std::string::npos) << dot;
    EXPECT_NE(dot.find("schedule: one_cycle(epochs = 5)"), std::string::npos) << dot;
    EXPECT_NE(dot.find("backbone: pre.backbone"), std::string::npos) << dot;
    EXPECT_NE(dot.find("[label=\"backbone weights\"]"), std::string::npos) << dot;
    EXPECT_NE(dot.find(R"(kind = \"unigram\")"), std::string::npos) << "quotes are escaped\n" << dot;
}

TEST(Graph, EveryExampleRendersWithGraphviz) {
    if (!fs::exists("/usr/bin/dot")) GTEST_SKIP() << "Graphviz is not installed";
    fs::path dir = fs::temp_directory_path() / ("pipe-graph-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    for (const auto& example : examples()) {
        SCOPED_TRACE(example.string());
        auto c = compileChecked(example.string());
        fs::path file = dir / (example.stem().string() + ".dot");
        std::ofstream(file) << renderDot(buildGraph(c->pipeline));
        std::string command = "/usr/bin/dot -Tsvg '" + file.string() + "' -o /dev/null";
        EXPECT_EQ(std::system(command.c_str()), 0) << command;
    }
    fs::remove_all(dir);
}

TEST(GraphCli, TextDotAndExitCodes) {
    auto r = testing::runPipe("graph examples/ulmfit.pipe");
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("train tune\n     <- "), std::string::npos) << r.out;
    r = testing::runPipe("graph --dot examples/fashion.pipe");
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out.rfind("digraph", 0), 0u) << r.out;
    EXPECT_EQ(testing::runPipe("graph no/such/file.pipe").code, 2);
    EXPECT_EQ(testing::runPipe("graph --bogus examples/fashion.pipe").code, 2);
    r = testing::runPipe("graph --help");
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("--dot"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace pipelang
