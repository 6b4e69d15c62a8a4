// Sweeps without running anything: a sweep block's points (grid, seeded
// random), the ranked table with the best point marked, the CSV, and
// cross-validation's pooling of out-of-fold predictions.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "interpreter/compile.h"
#include "record/cross_validation.h"
#include "record/sweep.h"

namespace pipelang::record {
namespace {

namespace fs = std::filesystem;

const std::vector<SweepAxis> kAxes = {{"fit.optimizer.lr", {"0.001", "0.003", "0.01"}},
                                      {"net.backbone.hidden", {"[16]", "[64, 32]"}}};

TEST(Sweep, GridTakesEveryCombinationLastAxisFastest) {
    auto points = gridPoints(kAxes);
    ASSERT_EQ(points.size(), 6u);
    EXPECT_EQ(points[0], (SweepPoint{{"fit.optimizer.lr", "0.001"}, {"net.backbone.hidden", "[16]"}}));
    EXPECT_EQ(points[1], (SweepPoint{{"fit.optimizer.lr", "0.001"}, {"net.backbone.hidden", "[64, 32]"}}));
    EXPECT_EQ(points[5], (SweepPoint{{"fit.optimizer.lr", "0.01"}, {"net.backbone.hidden", "[64, 32]"}}));
    std::set<SweepPoint> distinct(points.begin(), points.end());
    EXPECT_EQ(distinct.size(), 6u);
}

TEST(Sweep, RandomDrawsDistinctPointsRepeatablyFromItsSeed) {
    auto a = randomPoints(kAxes, 4, 7), b = randomPoints(kAxes, 4, 7);
    ASSERT_EQ(a.size(), 4u);
    EXPECT_EQ(a, b);
    std::set<SweepPoint> distinct(a.begin(), a.end());
    EXPECT_EQ(distinct.size(), 4u);
    auto grid = gridPoints(kAxes);
    for (const auto& p : a) EXPECT_NE(std::find(grid.begin(), grid.end(), p), grid.end());
    // Another seed draws another sample (for these seeds; 15 samples of 4 in 6).
    bool differs = false;
    for (int64_t seed = 0; seed < 5 && !differs; ++seed) differs = randomPoints(kAxes, 4, seed) != a;
    EXPECT_TRUE(differs);
    EXPECT_EQ(randomPoints(kAxes, 10, 1), grid);  // more trials than points: every point once
}

TEST(Sweep, ThePlanOfTheExampleSweep) {
    auto c = compileFile(PIPE_SOURCE_DIR "/examples/sweep.pipe");
    ASSERT_TRUE(c->ok()) << render(c->diags);
    ASSERT_TRUE(hasSweep(c->pipeline));
    SweepPlan plan = sweepPlan(c->pipeline);
    EXPECT_FALSE(plan.random);
    EXPECT_EQ(plan.metric, "accuracy");
    ASSERT_EQ(plan.axes.size(), 2u);
    EXPECT_EQ(plan.axes[0].key, "fit.optimizer.lr");
    EXPECT_EQ(plan.axes[0].values.size(), 3u);
    EXPECT_EQ(plan.axes[1].values[0], "[16, 32]");
    EXPECT_EQ(points(plan).size(), 6u);

    auto r = compileText("r.pipe", R"(
data d { source = csv("x.csv")  blocks = (tabular(cont = ["a"]), number)  y = column("y") }
model { backbone = mlp()  head = regressor() }
train fit { metrics = [mae] }
sweep { fit.optimizer.lr = [0.1, 0.2, 0.3]  seed = [1, 2]  strategy = random(trials = 4, seed = 3)  metric = mae }
)");
    SweepPlan random = sweepPlan(r->pipeline);
    EXPECT_TRUE(random.random);
    EXPECT_EQ(random.trials, 4);
    EXPECT_EQ(random.seed, 3);
    EXPECT_EQ(points(random).size(), 4u);
}

PointResult point(const std::string& run, double loss, double accuracy, const std::string& status = "finished") {
    PointResult r;
    r.run = run;
    r.point = {{"fit.optimizer.lr", run == "p1" ? "0.1" : "0.2"}};
    r.status = status;
    if (status == "finished")
        r.metrics = {{"train_loss", 1.0}, {"valid_loss", loss}, {"accuracy", accuracy}};
    else
        r.error = "data `d`: cannot read `missing.csv`";
    return r;
}

TEST(Sweep, RanksByTheMetricInItsDirectionFailuresLast) {
    std::vector<PointResult> results = {point("p1", 0.5, 0.80), point("p2", 0.3, 0.70), point("p3", 0, 0, "failed"),
                                        point("p4", 0.4, 0.90)};
    EXPECT_EQ(rankPoints(results, "valid_loss"), (std::vector<size_t>{1, 3, 0, 2}));  // lower is better
    EXPECT_EQ(rankPoints(results, "accuracy"), (std::vector<size_t>{3, 0, 1, 2}));    // higher is better

    auto order = rankPoints(results, "accuracy");
    std::string table = renderSweepTable(results, order, "accuracy");
    std::vector<std::string> lines;
    std::istringstream in(table);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    ASSERT_GE(lines.size(), 6u) << table;
    EXPECT_EQ(lines[1].rfind("*  p4", 0), 0u) << table;  // the best, marked
    EXPECT_EQ(lines[2].find('*'), std::string::npos);
    EXPECT_NE(lines[4].find("failed: data `d`: cannot read `missing.csv`"), std::string::npos) << table;
    EXPECT_NE(table.find("ranked by accuracy (higher is better); * best: p4, accuracy 0.900000"), std::string::npos);

    std::string csv = sweepCsv(results, order);
    EXPECT_EQ(csv.substr(0, csv.find('\n')),
              "rank,best,run,status,fit.optimizer.lr,train_loss,valid_loss,accuracy,seconds,error");
    EXPECT_NE(csv.find("\n1,1,p4,finished,0.2,"), std::string::npos) << csv;
    EXPECT_NE(csv.find("\n4,0,p3,failed,0.2,,,,0.00,data `d`: cannot read `missing.csv`"), std::string::npos) << csv;
}

TEST(Sweep, NoFinishedPointMeansNoBest) {
    std::vector<PointResult> results = {point("p1", 0, 0, "failed")};
    std::string table = renderSweepTable(results, rankPoints(results, "valid_loss"), "valid_loss");
    EXPECT_EQ(table.find("best"), std::string::npos) << table;
}

class CrossValidationTest : public ::testing::Test {
protected:
    fs::path root = fs::temp_directory_path() / ("pipe-cv-test-" + std::to_string(::getpid()));
    void SetUp() override { fs::create_directories(root); }
    void TearDown() override { fs::remove_all(root); }
    PointResult fold(const std::string& run, const std::string& predictions, double mae) {
        fs::create_directories(root / run / "fit");
        std::ofstream(root / run / "fit" / "valid_predictions.csv") << predictions;
        PointResult r;
        r.run = run;
        r.metrics = {{"valid_loss", mae}, {"mae", mae}};
        return r;
    }
};

TEST_F(CrossValidationTest, PoolsTheFoldsIntoOutOfFoldPredictionsAndScoresThem) {
    std::vector<PointResult> folds = {fold("p1", "row,target,prediction\n0,1,2\n3,4,4\n", 0.5),
                                      fold("p2", "row,target,prediction\n2,3,3\n1,2,0\n", 1.0)};
    CrossValidation cv = crossValidate(folds, root, "fit");
    EXPECT_EQ(cv.items, 4);
    EXPECT_EQ(cv.oofCsv, "row,fold,target,prediction\n0,0,1,2\n1,1,2,0\n2,1,3,3\n3,0,4,4\n");
    // Errors 1, -2, 0, 0: mae 0.75, mse 1.25; targets 1..4 vary by 5 in all, so r2 = 1 - 5/5 = 0.
    EXPECT_NE(cv.table.find("mean         0.750000    0.750000"), std::string::npos) << cv.table;
    EXPECT_NE(cv.table.find("std          0.353553    0.353553"), std::string::npos) << cv.table;
    EXPECT_NE(cv.csv.find("pooled,oof,,0.750000"), std::string::npos) << cv.csv;
}

TEST_F(CrossValidationTest, CategoriesScoreAccuracyAndOverlappingFoldsAreRefused) {
    std::vector<PointResult> folds = {fold("p1", "row,target,prediction,p_a,p_b\n0,a,a,0.9,0.1\n1,b,a,0.6,0.4\n", 0.5),
                                      fold("p2", "row,target,prediction,p_a,p_b\n2,b,b,0.2,0.8\n", 0.5)};
    folds[0].metrics = folds[1].metrics = {{"accuracy", 0.5}};
    CrossValidation cv = crossValidate(folds, root, "fit");
    EXPECT_NE(cv.csv.find("pooled,oof,0.666667"), std::string::npos) << cv.csv;

    folds.push_back(fold("p3", "row,target,prediction,p_a,p_b\n2,b,a,0.6,0.4\n", 0.5));
    try {
        crossValidate(folds, root, "fit");
        FAIL() << "overlapping folds were pooled";
    } catch (const RecordError& e) {
        EXPECT_EQ(std::string(e.what()), "row 2 was predicted by folds 1 and 2: the folds overlap");
    }
}

TEST(CrossValidationPlan, FoldsOfTheLastTrainStagesDataOrAClearError) {
    auto c = compileText("cv.pipe", R"(
data d { source = csv("x.csv")  blocks = (tabular(cont = ["a"]), number)  y = column("y")  split = kfold(k = 3) }
model { backbone = mlp()  head = regressor() }
train fit { metrics = [mae] }
)");
    ASSERT_TRUE(c->ok()) << render(c->diags);
    FoldsPlan plan = foldsPlan(c->pipeline);
    EXPECT_EQ(plan.data, "d");
    EXPECT_EQ(plan.stage, "fit");
    EXPECT_EQ(plan.k, 3);
    EXPECT_EQ(foldPoints(plan), (std::vector<SweepPoint>{{{"d.fold", "0"}}, {{"d.fold", "1"}}, {{"d.fold", "2"}}}));

    auto random = compileText("r.pipe", R"(
data d { source = csv("x.csv")  blocks = (tabular(cont = ["a"]), number)  y = column("y") }
model { backbone = mlp()  head = regressor() }
train fit { metrics = [mae] }
)");
    EXPECT_THROW(foldsPlan(random->pipeline), RecordError);
}

}  // namespace
}  // namespace pipelang::record
