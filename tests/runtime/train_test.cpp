// The training loop's parts on their own: schedule shapes against fastai's
// formulas, metrics against values worked out by hand, losses by name.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>

#include "interpreter/compile.h"
#include "runtime/threads.h"
#include "runtime/train/loss.h"
#include "runtime/train/metrics.h"
#include "runtime/train/schedule.h"

namespace pipelang::runtime {
namespace {

// The resolved `train` section of a tiny file, with the given train fields.
struct Compiled {
    std::unique_ptr<Compilation> c;
    const Section& train() const { return *c->pipeline.find("train", "fit"); }
};

Compiled compileTrain(const std::string& fields, const std::string& blocks = "(image(channels = 1), category)") {
    std::string text = "data d { source = idx(\"/usr/share/datasets/fashion-mnist\")  blocks = " + blocks +
                       " }\nmodel m { backbone = cnn() }\ntrain fit { " + fields + " }\n";
    Compiled out{compileText("t.pipe", text)};
    EXPECT_TRUE(out.c->ok()) << render(out.c->diags);
    return out;
}

TEST(Schedule, OneCycleRisesThenFalls) {
    EXPECT_NEAR(oneCycle(0, 0.25, 25, 1e5), 1.0 / 25, 1e-12);
    EXPECT_NEAR(oneCycle(0.25, 0.25, 25, 1e5), 1.0, 1e-12);
    EXPECT_NEAR(oneCycle(1, 0.25, 25, 1e5), 1e-5, 1e-12);
    EXPECT_LT(oneCycle(0.1, 0.25, 25, 1e5), oneCycle(0.2, 0.25, 25, 1e5));
    EXPECT_GT(oneCycle(0.5, 0.25, 25, 1e5), oneCycle(0.9, 0.25, 25, 1e5));
}

TEST(Schedule, WarmupThenCosine) {
    EXPECT_NEAR(warmupCosine(0.05, 0.1), 0.5, 1e-12);
    EXPECT_NEAR(warmupCosine(0.1, 0.1), 1.0, 1e-12);
    EXPECT_NEAR(warmupCosine(0.55, 0.1), 0.5, 1e-12);
    EXPECT_NEAR(warmupCosine(1.0, 0.1), 0.0, 1e-12);
    EXPECT_NEAR(warmupLinear(0.55, 0.1), 0.5, 1e-12);
}

TEST(Schedule, FineTuneIsAFrozenPhaseThenDiscriminativeRates) {
    auto compiled = compileTrain("schedule = fine_tune(epochs = 3, freeze_epochs = 1)  optimizer = adam(lr = 2e-3)");
    auto phases = planSchedule(*compiled.train().field("schedule"), {2e-3, 2e-3});
    ASSERT_EQ(phases.size(), 2u);
    EXPECT_TRUE(phases[0].frozen);
    EXPECT_EQ(phases[0].epochs, 1);
    EXPECT_FALSE(phases[1].frozen);
    EXPECT_EQ(phases[1].epochs, 3);
    EXPECT_DOUBLE_EQ(phases[1].peak.hi, 1e-3);        // base_lr / 2
    EXPECT_DOUBLE_EQ(phases[1].peak.lo, 1e-3 / 100);  // base_lr / 2 / lr_mult
}

TEST(Schedule, StepDropsEveryFewEpochs) {
    auto compiled = compileTrain("schedule = step(epochs = 6, every = 2, gamma = 0.5)");
    auto phases = planSchedule(*compiled.train().field("schedule"), {1, 1});
    ASSERT_EQ(phases.size(), 1u);
    EXPECT_DOUBLE_EQ(phases[0].shape(0, 1), 1.0);
    EXPECT_DOUBLE_EQ(phases[0].shape(0, 2), 0.5);
    EXPECT_DOUBLE_EQ(phases[0].shape(0, 5), 0.25);
}

TEST(Metrics, ClassificationByHand) {
    auto compiled = compileTrain("metrics = [accuracy, error_rate, top_k(k = 2), precision, recall, f1, roc_auc]");
    DataInfo info;
    info.target = "category";
    info.classes = {"a", "b", "c"};
    Metrics metrics(*compiled.train().field("metrics"), info);
    // Predictions: 0, 1, 1, 2 against truth 0, 1, 2, 2.
    auto out = torch::tensor({{0.9f, 0.05f, 0.05f}, {0.1f, 0.8f, 0.1f}, {0.1f, 0.5f, 0.4f}, {0.1f, 0.2f, 0.7f}}).log();
    auto y = torch::tensor({0, 1, 2, 2}, torch::kLong);
    metrics.add(out, y);
    auto values = metrics.compute();
    ASSERT_EQ(values.size(), 7u);
    EXPECT_DOUBLE_EQ(values[0].second, 0.75);
    EXPECT_DOUBLE_EQ(values[1].second, 0.25);
    EXPECT_DOUBLE_EQ(values[2].second, 1.0);  // the third item's truth is its second choice
    // per class precision 1, 1/2, 1 → 5/6; recall 1, 1, 1/2 → 5/6; f1 1, 2/3, 2/3 → 7/9
    EXPECT_NEAR(values[3].second, 5.0 / 6, 1e-12);
    EXPECT_NEAR(values[4].second, 5.0 / 6, 1e-12);
    EXPECT_NEAR(values[5].second, 7.0 / 9, 1e-12);
    EXPECT_GT(values[6].second, 0.5);
}

TEST(Metrics, AucOfPerfectAndReversedScores) {
    auto compiled = compileTrain("metrics = [roc_auc]");
    DataInfo info;
    info.target = "category";
    Value auc = compiled.train().field("metrics")->items[0];
    auto y = torch::tensor({0, 0, 1, 1}, torch::kLong);
    auto good = torch::tensor({{0.f, -1.f}, {0.f, -2.f}, {0.f, 1.f}, {0.f, 2.f}});
    EXPECT_DOUBLE_EQ(computeMetric(auc, good, y, "category"), 1.0);
    EXPECT_DOUBLE_EQ(computeMetric(auc, -good, y, "category"), 0.0);
}

TEST(Metrics, Regression) {
    auto compiled = compileTrain("metrics = [mse, rmse, mae, r2]", "(image(channels = 1), number)");
    auto out = torch::tensor({1.f, 2.f, 3.f, 5.f});
    auto y = torch::tensor({1.f, 2.f, 3.f, 4.f});
    const auto& list = compiled.train().field("metrics")->items;
    EXPECT_DOUBLE_EQ(computeMetric(list[0], out, y, "number"), 0.25);
    EXPECT_DOUBLE_EQ(computeMetric(list[1], out, y, "number"), 0.5);
    EXPECT_DOUBLE_EQ(computeMetric(list[2], out, y, "number"), 0.25);
    EXPECT_DOUBLE_EQ(computeMetric(list[3], out, y, "number"), 1 - 1.0 / 5);
}

TEST(Loss, CrossEntropyWithLabelSmoothingMatchesTheFormula) {
    auto compiled = compileTrain("loss = cross_entropy(label_smoothing = 0.1)");
    LossFn loss = makeLoss(*compiled.train().field("loss"));
    auto out = torch::tensor({{2.f, 0.f, -1.f}});
    auto y = torch::tensor({0}, torch::kLong);
    auto logp = out.log_softmax(1);
    double expected = -(0.9 * logp[0][0].item<double>() + 0.1 / 3 * logp.sum().item<double>());
    EXPECT_NEAR(loss(out, y).item<double>(), expected, 1e-6);
}

TEST(Threads, LibTorchGetsTheThreadsAndTheBlasPoolOne) {
    using Get = int (*)();
    auto blasThreads = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    if (!blasThreads) GTEST_SKIP() << "the BLAS behind LibTorch is not OpenBLAS";
    if (std::getenv("OPENBLAS_NUM_THREADS")) GTEST_SKIP() << "OPENBLAS_NUM_THREADS is set, and stands";
    const int before = torch::get_num_threads();
    useThreads(1);
    EXPECT_EQ(torch::get_num_threads(), 1);
    EXPECT_EQ(blasThreads(), 1);
    useThreads(2);
    EXPECT_EQ(torch::get_num_threads(), 2);
    EXPECT_EQ(blasThreads(), 1);
    useThreads(before);
}

}  // namespace
}  // namespace pipelang::runtime
