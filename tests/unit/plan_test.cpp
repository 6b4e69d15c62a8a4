// `pipe plan`: every setting shown once, with the right origin, in a layout
// that stays put.
#include "interpreter/plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "interpreter/compile.h"
#include "pipe_cli.h"

namespace pipelang {
namespace {

const std::string kExamples = PIPE_SOURCE_DIR "/examples/";

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// The plan of a compilation that must check.
std::string planOf(const Compilation& c) {
    EXPECT_TRUE(c.ok()) << render(c.diags);
    return renderPlan(c.pipeline);
}

std::string planOfExample(const std::string& name, const CompileOptions& options = {}) {
    return planOf(*compileText(kExamples + name, readFile(kExamples + name), options));
}

// The plan line `setting = value`, or "" when there is none. Settings are
// aligned, so spaces between the name and `=` are skipped.
std::string lineOf(const std::string& plan, const std::string& setting, const std::string& value) {
    for (const auto& line : lines(plan)) {
        auto at = line.find(setting + " ");
        if (at == std::string::npos || line.find_first_not_of(' ') != at) continue;
        auto eq = line.find_first_not_of(' ', at + setting.size());
        if (line.compare(eq, 2 + value.size(), "= " + value) == 0) return line;
    }
    return "";
}

std::string originOf(const std::string& plan, const std::string& setting, const std::string& value) {
    std::string line = lineOf(plan, setting, value);
    auto hash = line.rfind("# ");
    return hash == std::string::npos ? "(no such line)" : line.substr(hash + 2);
}

TEST(Plan, MarksWrittenDefaultAndDerivedValues) {
    std::string plan = planOfExample("fashion.pipe");
    EXPECT_EQ(originOf(plan, "label_smoothing", "0.1"), "written") << plan;
    EXPECT_EQ(originOf(plan, "eps", "1e-08"), "default") << plan;
    EXPECT_EQ(originOf(plan, "batch_size", "128"), "written") << plan;
    EXPECT_EQ(originOf(plan, "workers", "4"), "default") << plan;
    EXPECT_EQ(originOf(plan, "clip", "none"), "default") << plan;    // optional and unset
    EXPECT_EQ(originOf(plan, "model", "net"), "from data") << plan;  // the only model
    EXPECT_EQ(plan.rfind("seed 42 ", 0), 0u) << plan;
}

TEST(Plan, ShowsTheLossChosenFromTheTarget) {
    std::string plan = planOfExample("emotions.pipe");  // a category target, no loss written
    EXPECT_EQ(originOf(plan, "loss", "cross_entropy(...)"), "from data") << plan;
    EXPECT_EQ(originOf(plan, "label_smoothing", "0.0"), "default") << plan;
    EXPECT_EQ(originOf(plan, "head", "classifier(...)"), "from data") << plan;
}

TEST(Plan, MarksOverrides) {
    std::string plan = planOfExample("fashion.pipe", CompileOptions{{"fit.optimizer.lr=0.01"}});
    EXPECT_EQ(originOf(plan, "lr", "0.01"), "override") << plan;
    EXPECT_EQ(originOf(plan, "weight_decay", "0.05"), "written") << plan;  // its neighbour is untouched
}

TEST(Plan, NestsCallsAndListsOfCalls) {
    std::string plan = planOfExample("fashion.pipe");
    EXPECT_NE(plan.find("    item       = [...]"), std::string::npos) << plan;
    EXPECT_NE(plan.find("\n        - flip(...)"), std::string::npos) << plan;
    EXPECT_NE(plan.find("\n            p        = 0.5 "), std::string::npos) << plan;
    EXPECT_NE(plan.find("\n            vertical = false "), std::string::npos) << plan;
    EXPECT_NE(plan.find("    metrics    = [accuracy(), error_rate()] "), std::string::npos) << plan;
}

// Every field of every block is shown, each once, under its block's heading.
TEST(Plan, ShowsEveryFieldOfEveryBlock) {
    auto c = compileFile(kExamples + "ulmfit.pipe");
    std::string plan = planOf(*c);
    for (const auto& s : c->pipeline.sections) {
        auto heading = plan.find("\n" + (s.named ? s.kind + " " + s.name : s.kind) + "\n");
        ASSERT_NE(heading, std::string::npos) << s.name << "\n" << plan;
        std::string block = plan.substr(heading, plan.find("\n\n", heading + 1) - heading);
        for (const auto& [name, value] : s.fields)
            EXPECT_FALSE(lineOf(block, name, value.isNone() ? "none" : "").empty()) << s.name << "." << name << "\n"
                                                                                    << plan;
    }
}

// Origins stand in one column, so a reader scans them down the page.
TEST(Plan, AlignsTheOriginColumn) {
    std::string plan = planOfExample("fashion.pipe");
    size_t column = std::string::npos;
    for (const auto& line : lines(plan)) {
        if (line.empty() || line[0] != ' ') continue;  // blank lines and headings carry no origin
        auto hash = line.rfind("  # ");
        ASSERT_NE(hash, std::string::npos) << "no origin: " << line;
        if (column == std::string::npos) column = hash;
        EXPECT_EQ(hash, column) << line;
        EXPECT_NE(line.back(), ' ') << line;
    }
}

// A small image file whose train block is `train`.
std::string planWithTrain(const std::string& backbone, const std::string& train) {
    std::string text =
        "data d {\n"
        "    source = idx(\"/usr/share/datasets/fashion-mnist\", train = \"train\", test = \"t10k\")\n"
        "    blocks = (image(channels = 1), category)\n"
        "}\n"
        "model m { backbone = " +
        backbone + " }\ntrain fit { " + train + " }\n";
    return planOf(*compileText("groups.pipe", text));
}

TEST(Plan, ShowsEachLayerGroupsRateUnderSlice) {
    std::string plan = planWithTrain("resnet(stem = \"small\")", "optimizer = adamw(lr = slice(1e-5, 1e-3))");
    EXPECT_EQ(originOf(plan, "conv1..layer2", "1e-05"), "layer group") << plan;
    EXPECT_EQ(originOf(plan, "layer3..layer4", "0.0001"), "layer group") << plan;
    EXPECT_EQ(originOf(plan, "head", "0.001"), "layer group") << plan;
    // Beneath the slice, after its own lo and hi.
    auto all = lines(plan);
    auto at = std::find_if(all.begin(), all.end(), [](const std::string& l) { return l.find("hi = 0.001") != l.npos; });
    ASSERT_NE(at, all.end()) << plan;
    EXPECT_NE((at + 1)->find("conv1..layer2"), std::string::npos) << plan;
    EXPECT_EQ((at + 1)->find_first_not_of(' '), at->find_first_not_of(' ')) << plan;

    std::string cnn = planWithTrain("cnn(channels = [8, 16, 32])", "optimizer = sgd(lr = slice(1e-4, 1e-2))");
    EXPECT_EQ(originOf(cnn, "features.0", "0.0001"), "layer group") << cnn;
    EXPECT_EQ(originOf(cnn, "features.1", "0.000464"), "layer group") << cnn;  // 1e-4 · 100^(1/3)
    EXPECT_EQ(originOf(cnn, "features.2", "0.00215"), "layer group") << cnn;
    EXPECT_EQ(originOf(cnn, "head", "0.01"), "layer group") << cnn;
}

TEST(Plan, ShowsNoGroupsForOneRate) {
    std::string plan = planWithTrain("resnet()", "optimizer = adamw(lr = 1e-3)  schedule = one_cycle(epochs = 2)");
    EXPECT_EQ(plan.find("layer group"), std::string::npos) << plan;
}

// fine_tune's unfrozen epochs are discriminative whatever the optimizer's lr:
// base_lr / 2 / lr_mult .. base_lr / 2, shown beneath it.
TEST(Plan, ShowsFineTunesRatesBeneathIt) {
    std::string plan = planWithTrain("resnet()", "optimizer = adam(lr = 2e-3)  schedule = fine_tune(epochs = 2)");
    EXPECT_EQ(originOf(plan, "conv1..layer2", "1e-05"), "layer group") << plan;
    EXPECT_EQ(originOf(plan, "layer3..layer4", "0.0001"), "layer group") << plan;
    EXPECT_EQ(originOf(plan, "head", "0.001"), "layer group") << plan;

    // A transferred backbone has the groups of the backbone it is.
    std::string transfer = planOfExample("transfer.pipe");
    EXPECT_EQ(originOf(transfer, "rnn.l1", "0.00232"), "layer group") << transfer;
    EXPECT_EQ(originOf(transfer, "embedding", "0.0005"), "layer group") << transfer;
}

// A mistyped size is no reason to print (or make) a line per layer.
TEST(Plan, ListsNoGroupsOfAnUnbuildableBackbone) {
    std::string text =
        "tokenizer spm { train = sentencepiece(vocab = 100)  from = d.train.text }\n"
        "data d { source = fortunes(\"/nonexistent\")  blocks = (text(tokenizer = spm, max_len = 32), category) }\n"
        "model m { backbone = transformer(layers = 2000000000) }\n"
        "train fit { optimizer = adamw(lr = slice(1e-5, 1e-3)) }\n";
    std::string plan = planOf(*compileText("huge.pipe", text));
    EXPECT_EQ(plan.find("layer group"), std::string::npos) << plan;
    EXPECT_NE(plan.find("layers"), std::string::npos) << plan;
    std::string channels = "8";
    for (int i = 1; i < 300; ++i) channels += ", 8";
    std::string cnn = planWithTrain("cnn(channels = [" + channels + "])", "optimizer = sgd(lr = slice(1e-4, 1e-2))");
    EXPECT_EQ(cnn.find("layer group"), std::string::npos);
}

TEST(Plan, JsonHasTheLayerGroupsRates) {
    auto c = compileText(kExamples + "essays.pipe", readFile(kExamples + "essays.pipe"));
    ASSERT_TRUE(c->ok()) << render(c->diags);
    auto json = nlohmann::json::parse(renderPlanJson(c->pipeline));
    nlohmann::json groups;
    for (const auto& section : json["sections"])
        if (section["kind"] == "train") groups = section["fields"]["optimizer"]["args"]["lr"]["layer_groups"];
    ASSERT_EQ(groups.size(), 6u) << json.dump(2);  // embeddings, 4 blocks, the head
    EXPECT_EQ(groups[0]["group"], "embeddings");
    EXPECT_DOUBLE_EQ(groups[0]["lr"].get<double>(), 2e-5);
    EXPECT_EQ(groups[4]["group"], "encoder.layer.3");
    EXPECT_EQ(groups[5]["group"], "head");
    EXPECT_DOUBLE_EQ(groups[5]["lr"].get<double>(), 1e-3);
}

TEST(Plan, JsonGivesTheSameTree) {
    auto c =
        compileText("fashion.pipe", readFile(kExamples + "fashion.pipe"), CompileOptions{{"fit.optimizer.lr=0.01"}});
    ASSERT_TRUE(c->ok()) << render(c->diags);
    auto json = nlohmann::json::parse(renderPlanJson(c->pipeline));
    EXPECT_EQ(json["seed"]["value"], 42);
    EXPECT_EQ(json["seed"]["origin"], "written");
    const auto& train = json["sections"][2];
    EXPECT_EQ(train["kind"], "train");
    EXPECT_EQ(train["name"], "fit");
    const auto& smoothing = train["fields"]["loss"]["args"]["label_smoothing"];
    EXPECT_EQ(smoothing["origin"], "written");
    EXPECT_DOUBLE_EQ(smoothing["value"].get<double>(), 0.1);
    EXPECT_EQ(smoothing["at"]["line"], 19);
    const auto& optimizer = train["fields"]["optimizer"];
    EXPECT_EQ(optimizer["call"], "adamw");
    EXPECT_EQ(optimizer["family"], "optimizer");
    EXPECT_EQ(optimizer["args"]["lr"]["origin"], "override");
    EXPECT_EQ(optimizer["args"]["eps"]["origin"], "default");
    EXPECT_EQ(train["fields"]["metrics"]["items"][1]["call"], "error_rate");
    EXPECT_TRUE(train["fields"]["clip"]["value"].is_null());
}

TEST(PlanCli, PrintsThePlanAndMarksOverrides) {
    auto r = testing::runPipe("plan examples/fashion.pipe --set fit.optimizer.lr=0.01");
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(originOf(r.out, "lr", "0.01"), "override") << r.out;
    r = testing::runPipe("plan --json examples/fashion.pipe");
    EXPECT_EQ(r.code, 0);
    EXPECT_TRUE(nlohmann::json::accept(r.out)) << r.out;
}

TEST(PlanCli, ExitsTwoOnAFileThatDoesNotCheck) {
    auto r = testing::runPipe("plan examples/fashion.pipe --set fit.optimizer.lr=fast", true);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("error:"), std::string::npos) << r.out;
    EXPECT_EQ(testing::runPipe("plan no/such/file.pipe").code, 2);
    EXPECT_EQ(testing::runPipe("plan").code, 2);  // no file
}

TEST(PlanCli, Help) {
    auto r = testing::runPipe("plan --help");
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("--set"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--json"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace pipelang
