// Sweeps that search, without running anything: the ranges a sweep draws
// from (bounds, statistics, log scales), the plan read from a file, TPE
// against random sampling on a cheap objective, its repeatability, and
// ASHA's rung decisions from hand-made reports.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "interpreter/compile.h"
#include "record/asha.h"
#include "record/search.h"
#include "record/sweep.h"
#include "record/sweep_run.h"
#include "record/tpe.h"

namespace pipelang::record {
namespace {

namespace fs = std::filesystem;

SweepAxis rangeAxis(const std::string& key, SweepRange range) {
    SweepAxis axis{key, {}};
    axis.range = range;
    return axis;
}

std::vector<double> draws(const SweepAxis& axis, size_t n, int64_t seed) {
    Draws d(seed);
    std::vector<double> out;
    for (size_t i = 0; i < n; ++i) out.push_back(std::stod(drawValue(axis, d)));
    return out;
}

TEST(SweepRanges, UniformStaysWithinItsBoundsEvenlyAndToFourDigits) {
    auto xs = draws(rangeAxis("fit.optimizer.weight_decay", {"uniform", 0.01, 0.3}), 4000, 1);
    double mean = 0;
    std::vector<int> bins(10, 0);
    for (double x : xs) {
        ASSERT_GE(x, 0.01);
        ASSERT_LE(x, 0.3);
        mean += x / double(xs.size());
        ++bins[std::min(9, int((x - 0.01) / 0.029))];
        char four[32];
        std::snprintf(four, sizeof four, "%.4g", x);
        EXPECT_EQ(std::stod(four), x);  // kept to 4 significant digits
    }
    EXPECT_NEAR(mean, 0.155, 0.005);  // (0.01 + 0.3) / 2; its sd over 4000 is 0.0013
    for (int b : bins) EXPECT_NEAR(b, 400, 80) << "a tenth of the range";  // 400 ± 4 sd
}

TEST(SweepRanges, LogUniformIsEvenPerDecade) {
    auto xs = draws(rangeAxis("fit.optimizer.lr", {"loguniform", 1e-5, 1e-1, true}), 4000, 2);
    std::vector<int> decades(4, 0);
    double meanLog = 0;
    for (double x : xs) {
        ASSERT_GE(x, 1e-5);
        ASSERT_LE(x, 1e-1);
        ++decades[std::min(3, int(std::floor(std::log10(x) + 5)))];
        meanLog += std::log10(x) / double(xs.size());
    }
    for (int d : decades) EXPECT_NEAR(d, 1000, 110);  // a quarter of the draws in each decade
    EXPECT_NEAR(meanLog, -3.0, 0.05);
}

TEST(SweepRanges, IntRangeTakesEveryWholeNumberItsBoundsIncluded) {
    auto xs = draws(rangeAxis("fashion.batch_size", {"int_range", 2, 6, false, true}), 5000, 3);
    std::map<int, int> counts;
    for (double x : xs) {
        ASSERT_EQ(x, std::round(x));
        ++counts[int(x)];
    }
    ASSERT_EQ(counts.size(), 5u);
    EXPECT_EQ(counts.begin()->first, 2);
    EXPECT_EQ(counts.rbegin()->first, 6);
    for (const auto& [value, n] : counts) EXPECT_NEAR(n, 1000, 120) << value;  // the ends get their full share

    // On a log scale, 8..16 as likely as 16..32 (each bound half a step wider).
    auto logs = draws(rangeAxis("fashion.batch_size", {"int_range", 8, 32, true, true}), 4000, 4);
    int low = 0;
    for (double x : logs) {
        ASSERT_GE(x, 8);
        ASSERT_LE(x, 32);
        low += x < 16;
    }
    EXPECT_NEAR(low, 4000 * std::log(15.5 / 7.5) / std::log(32.5 / 7.5), 150);  // about half
}

TEST(SweepRanges, TheSameSeedDrawsTheSameValuesAnotherSeedOthers) {
    SweepAxis axis = rangeAxis("fit.optimizer.lr", {"loguniform", 1e-4, 1e-2, true});
    EXPECT_EQ(draws(axis, 20, 7), draws(axis, 20, 7));
    EXPECT_NE(draws(axis, 20, 7), draws(axis, 20, 8));
    std::vector<SweepAxis> axes = {axis, {"net.backbone.hidden", {"[16]", "[32]"}}};
    EXPECT_EQ(randomPoints(axes, 6, 3), randomPoints(axes, 6, 3));
    EXPECT_EQ(randomPoints(axes, 6, 3).size(), 6u);
}

TEST(SweepRanges, AGridTakesEveryNumberOfAnIntRangeButNoRangeOfReals) {
    std::vector<SweepAxis> axes = {rangeAxis("fit.schedule.epochs", {"int_range", 2, 4, false, true}),
                                   {"net.backbone.hidden", {"[16]", "[32]"}}};
    auto grid = gridPoints(axes);
    ASSERT_EQ(grid.size(), 6u);
    EXPECT_EQ(grid[0], (SweepPoint{{"fit.schedule.epochs", "2"}, {"net.backbone.hidden", "[16]"}}));
    EXPECT_EQ(grid[5], (SweepPoint{{"fit.schedule.epochs", "4"}, {"net.backbone.hidden", "[32]"}}));
    EXPECT_EQ(finiteSize(axes), 6u);
    // random over finite axes: distinct combinations, as before ranges.
    auto drawn = randomPoints(axes, 4, 1);
    EXPECT_EQ(std::set<SweepPoint>(drawn.begin(), drawn.end()).size(), 4u);

    axes.push_back(rangeAxis("fit.optimizer.lr", {"uniform", 0.001, 0.01}));
    EXPECT_FALSE(finiteSize(axes));
    EXPECT_THROW(gridPoints(axes), RecordError);
}

TEST(SweepRanges, ThePlanReadsEachRange) {
    const std::string text = R"(
data d { source = csv("x.csv")  blocks = (tabular(cont = ["a"]), number)  y = column("y") }
model net { backbone = mlp()  head = regressor() }
train fit { metrics = [mae] }
sweep {
    fit.optimizer.lr           = loguniform(1e-4, 1e-2)
    fit.optimizer.weight_decay = uniform(0, 0.1)
    d.batch_size               = int_range(16, 64, log = true)
    net.backbone.hidden        = choice([[16], [32, 16]])
    strategy                   = tpe(trials = 12, seed = 5)
    metric                     = mae
}
)";
    auto c = compileText("r.pipe", text);
    ASSERT_TRUE(c->ok()) << render(c->diags);
    SweepPlan plan = sweepPlan(c->pipeline);
    ASSERT_EQ(plan.axes.size(), 4u);
    ASSERT_TRUE(plan.axes[0].range);
    EXPECT_TRUE(plan.axes[0].range->log);
    EXPECT_EQ(plan.axes[0].range->str(), "loguniform(0.0001, 0.01)");
    EXPECT_FALSE(plan.axes[1].range->log);
    EXPECT_EQ(plan.axes[1].range->hi, 0.1);
    EXPECT_TRUE(plan.axes[2].range->integer);
    EXPECT_TRUE(plan.axes[2].range->log);
    EXPECT_FALSE(plan.axes[3].range);
    EXPECT_EQ(plan.axes[3].values, (std::vector<std::string>{"[16]", "[32, 16]"}));
    Strategy s = strategyOf(plan);
    EXPECT_EQ(s.count, 12u);
    EXPECT_TRUE(s.adaptive);
    EXPECT_FALSE(s.rungs);
    EXPECT_THROW(points(plan), RecordError);  // tpe chooses each point as it starts

    // A drawn point checks like any --set.
    SweepPoint first = s.propose(0, {});
    std::vector<std::string> overrides;
    for (const auto& [key, value] : first) overrides.push_back(key + "=" + value);
    auto again = compileText("r.pipe", text, CompileOptions{overrides});
    EXPECT_TRUE(again->ok()) << render(again->diags);
}

// ---- TPE ------------------------------------------------------------------

// A cheap objective with its best at lr 3e-3, dropout 0.25 and `[64]`
// (lower is better), on the axes a user would write for it.
const std::vector<SweepAxis> kSpace = {
    rangeAxis("fit.optimizer.lr", {"loguniform", 1e-5, 1e-1, true}),
    rangeAxis("net.backbone.dropout", {"uniform", 0.0, 0.9}),
    {"net.backbone.hidden", {"[16]", "[32]", "[64]", "[128]"}},
};

double objective(const SweepPoint& p) {
    double lr = std::stod(p[0].second), dropout = std::stod(p[1].second);
    double hidden = p[2].second == "[64]" ? 0 : p[2].second == "[32]" || p[2].second == "[128]" ? 0.3 : 0.8;
    double d = std::log10(lr) - std::log10(3e-3);
    return d * d + 4 * (dropout - 0.25) * (dropout - 0.25) + hidden;
}

// Runs a TPE search one point after another, as --jobs 1 does.
std::vector<SweepPoint> tpeSearch(size_t trials, int64_t seed, double& best) {
    TpeSettings settings;
    settings.seed = seed;
    SweepHistory history;
    std::vector<SweepPoint> points;
    best = INFINITY;
    for (size_t k = 0; k < trials; ++k) {
        SweepPoint p = tpePoint(kSpace, k, history, settings);
        double value = objective(p);
        best = std::min(best, value);
        history.started.push_back(p);
        history.finished.push_back({p, value});
        points.push_back(p);
    }
    return points;
}

TEST(Tpe, BeatsRandomSamplingOnAverageOverSeeds) {
    const size_t trials = 40;
    double tpe = 0, random = 0;
    int tpeWins = 0;
    const int seeds = 20;
    for (int64_t seed = 0; seed < seeds; ++seed) {
        double bestTpe = 0;
        tpeSearch(trials, seed, bestTpe);
        double bestRandom = INFINITY;
        for (const auto& p : drawnPoints(kSpace, trials, seed + 1000)) bestRandom = std::min(bestRandom, objective(p));
        tpe += bestTpe / seeds;
        random += bestRandom / seeds;
        tpeWins += bestTpe < bestRandom;
    }
    EXPECT_LT(tpe, 0.6 * random) << "mean best after " << trials << " points: tpe " << tpe << ", random " << random;
    EXPECT_GE(tpeWins, 14) << "of " << seeds << " seeds";
}

TEST(Tpe, TheSameSeedAndHistoryProposeTheSamePoints) {
    double a = 0, b = 0, c = 0;
    auto first = tpeSearch(25, 3, a);
    EXPECT_EQ(first, tpeSearch(25, 3, b));
    EXPECT_EQ(a, b);
    EXPECT_NE(first, tpeSearch(25, 4, c));
    // Its first points (startup) are drawn at random; then it follows the results.
    EXPECT_EQ(tpeGood(1), 1u);
    EXPECT_EQ(tpeGood(10), 1u);
    EXPECT_EQ(tpeGood(11), 2u);
    EXPECT_EQ(tpeGood(1000), 25u);
}

TEST(Tpe, DoesNotProposeAPointTriedBeforeWhileAFiniteSpaceHasOthers) {
    std::vector<SweepAxis> axes = {{"a", {"1", "2", "3"}}, {"b", {"x", "y"}}};
    TpeSettings settings;
    settings.startup = 2;
    SweepHistory history;
    std::set<SweepPoint> seen;
    for (size_t k = 0; k < 6; ++k) {
        SweepPoint p = tpePoint(axes, k, history, settings);
        EXPECT_TRUE(seen.insert(p).second) << "point " << k << " again";
        history.started.push_back(p);
        history.finished.push_back({p, double(std::stoi(p[0].second)) + (p[1].second == "x" ? 0.5 : 0)});
    }
    EXPECT_EQ(seen.size(), 6u);  // every combination once
}

// ---- ASHA -----------------------------------------------------------------

TEST(Asha, RungsAreMinEpochsTimesPowersOfTheReduction) {
    Rungs rungs{1, 3};
    EXPECT_EQ(rungs.rungAt(1), 1);
    EXPECT_EQ(rungs.rungAt(2), 0);
    EXPECT_EQ(rungs.rungAt(3), 2);
    EXPECT_EQ(rungs.rungAt(9), 3);
    EXPECT_EQ(rungs.rungAt(27), 4);
    Rungs later{2, 2};
    EXPECT_EQ(later.rungAt(1), 0);
    EXPECT_EQ(later.rungAt(2), 1);
    EXPECT_EQ(later.rungAt(4), 2);
    EXPECT_EQ(later.rungAt(6), 0);
    EXPECT_EQ(later.rungAt(8), 3);
}

TEST(Asha, KeepsTheTopOneOverReductionOfThoseAtTheRung) {
    // Lower is better (a loss): of 6 reported with reduction 3, the best 2 go on.
    std::vector<double> losses = {0.9, 0.5, 0.7, 0.4, 0.8, 0.6};
    auto d = decideAtRung(losses, 0.5, 3, false);
    EXPECT_TRUE(d.keep);
    EXPECT_EQ(d.reported, 6u);
    EXPECT_EQ(d.kept, 2u);
    EXPECT_EQ(d.cutoff, 0.5);
    EXPECT_FALSE(decideAtRung(losses, 0.6, 3, false).keep);
    // Higher is better (accuracy): the largest go on.
    std::vector<double> accuracy = {0.7, 0.9, 0.8};
    EXPECT_TRUE(decideAtRung(accuracy, 0.9, 3, true).keep);
    EXPECT_FALSE(decideAtRung(accuracy, 0.8, 3, true).keep);
    // The first points at a rung go on only while they are the best so far.
    EXPECT_TRUE(decideAtRung({0.5}, 0.5, 3, false).keep);
    EXPECT_FALSE(decideAtRung({0.5, 0.6}, 0.6, 3, false).keep);
    EXPECT_TRUE(decideAtRung({0.5, 0.4}, 0.4, 3, false).keep);
    // A point whose metric is NaN (it diverged) never goes on.
    EXPECT_FALSE(decideAtRung({0.5, NAN}, NAN, 2, false).keep);
}

class AshaFile : public ::testing::Test {
protected:
    fs::path dir = fs::temp_directory_path() / ("pipe-asha-test-" + std::to_string(::getpid()));
    void SetUp() override { fs::create_directories(dir); }
    void TearDown() override { fs::remove_all(dir); }
};

TEST_F(AshaFile, EveryPointDecidesFromWhatAllReportedBeforeIt) {
    Rungs rungs{1, 2};
    // Four points reach rung 1 in turn: p1 (alone, the best), p2 worse, p3
    // better than both, p4 worse than the top half.
    EXPECT_TRUE(reportAtRung(dir, rungs, 1, 1, "p1", 0.50, false).keep);
    auto p2 = reportAtRung(dir, rungs, 1, 1, "p2", 0.70, false);
    EXPECT_FALSE(p2.keep);
    EXPECT_EQ(p2.reported, 2u);
    EXPECT_TRUE(reportAtRung(dir, rungs, 1, 1, "p3", 0.40, false).keep);
    auto p4 = reportAtRung(dir, rungs, 1, 1, "p4", 0.60, false);
    EXPECT_FALSE(p4.keep);  // the top 2 of 4 are 0.40 and 0.50
    EXPECT_EQ(p4.cutoff, 0.50);
    // Rung 2 is judged among those that reached it only.
    EXPECT_TRUE(reportAtRung(dir, rungs, 2, 2, "p1", 0.45, false).keep);
    // A point resumed reports again: counted once.
    auto again = reportAtRung(dir, rungs, 1, 1, "p3", 0.40, false);
    EXPECT_EQ(again.reported, 4u);

    std::ifstream in(dir / "asha.csv");
    std::vector<std::string> rows;
    for (std::string line; std::getline(in, line);) rows.push_back(line);
    ASSERT_EQ(rows.size(), 6u);
    EXPECT_EQ(rows[0], "rung,epochs,run,value");
    EXPECT_EQ(rows[2], "1,1,p2,0.69999999999999996");

    std::string why = stopReason(rungs, 1, 1, "valid_loss", 0.6, p4);
    EXPECT_EQ(why, "after 1 epoch: valid_loss 0.6 is not in the top 1/2 of the 4 points at rung 1 (the cutoff is 0.5)");
}

TEST_F(AshaFile, APointsHistoryIsWhatThePointsBeforeItRecorded) {
    // Two points the directory holds: one finished, one running.
    fs::create_directories(dir / "p1");
    fs::create_directories(dir / "p2");
    std::ofstream(dir / "p1" / "point.toml")
        << "index = 0\nrun = \"p1\"\nstatus = \"finished\"\nerror = \"\"\nseconds = 1.5\nepochs = 3\nexit = 0\n"
           "values = [[\"fit.optimizer.lr\", \"0.003\"]]\nmetrics = [[\"valid_loss\", \"0.5\"], [\"accuracy\", "
           "\"0.75\"]]\n";
    std::ofstream(dir / "p2" / "point.toml") << "index = 1\nrun = \"p2\"\nstatus = \"running\"\nerror = \"\"\n"
                                                "seconds = 0\nepochs = 0\nexit = 0\nvalues = [[\"fit.optimizer.lr\", "
                                                "\"0.01\"]]\nmetrics = []\n";
    SweepHistory h = readHistory(dir, 3, 3, "accuracy");
    ASSERT_EQ(h.started.size(), 2u);
    ASSERT_EQ(h.finished.size(), 1u);
    EXPECT_EQ(h.finished[0].first, (SweepPoint{{"fit.optimizer.lr", "0.003"}}));
    EXPECT_EQ(h.finished[0].second, -0.75);                            // higher is better: negated
    EXPECT_EQ(readHistory(dir, 1, 3, "accuracy").started.size(), 1u);  // only the points before it

    auto results = readPointResults(dir, 3);
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(results[0].status, "finished");
    EXPECT_EQ(results[0].epochs, 3);
    EXPECT_EQ(results[1].status, "running");
    EXPECT_EQ(results[2].status, "not run");
}

}  // namespace
}  // namespace pipelang::record
