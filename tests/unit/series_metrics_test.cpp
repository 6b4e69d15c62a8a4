// The forecast metrics against values worked out by hand: mae and rmse in the
// targets' units, and smape and mase as the M4 competition defines them
// (Makridakis et al. 2020, "The M4 Competition: 100,000 time series and 61
// forecasting methods", equations 1 and 2): sMAPE = mean of 200·|y − ŷ| /
// (|y| + |ŷ|), and MASE = mean |y − ŷ| over the in-sample mean absolute
// error of the seasonal naive forecast.
#include <gtest/gtest.h>

#include <cmath>

#include "metrics/predictions.h"

using pipelang::metrics::MetricError;
using pipelang::metrics::Predictions;

namespace {

double score(const std::string& name, const Predictions& p) {
    const pipelang::Value* call = pipelang::metrics::defaultCall(name);
    EXPECT_NE(call, nullptr) << name;
    return pipelang::metrics::score(*call, p);
}

// Two windows of a horizon of 2, one target column.
Predictions twoWindows() {
    Predictions p;
    p.target = "series";
    p.rows = 2;
    p.columns = 2;
    p.seriesColumns = 1;
    p.targets = {10, 20, 30, 0};
    p.outputs = {12, 18, 27, 0};
    p.naiveScale = {2.0};
    return p;
}

}  // namespace

TEST(SeriesMetrics, MaeAndRmseInTheTargetsUnits) {
    Predictions p = twoWindows();
    EXPECT_DOUBLE_EQ(score("mae", p), (2.0 + 2.0 + 3.0 + 0.0) / 4);
    EXPECT_DOUBLE_EQ(score("mse", p), (4.0 + 4.0 + 9.0 + 0.0) / 4);
    EXPECT_DOUBLE_EQ(score("rmse", p), std::sqrt(17.0 / 4));
}

TEST(SeriesMetrics, SmapeAsM4WithAPerfectZeroCountingZero) {
    Predictions p = twoWindows();
    // 200·2/(10+12), 200·2/(20+18), 200·3/(30+27), and 0 for 0 forecast as 0.
    double expected = (400.0 / 22 + 400.0 / 38 + 600.0 / 57 + 0.0) / 4;
    EXPECT_NEAR(score("smape", p), expected, 1e-5);
    EXPECT_NEAR(expected, 9.808612, 1e-6);
    p.outputs = p.targets;
    EXPECT_DOUBLE_EQ(score("smape", p), 0.0);
    // The largest it can be: every forecast of the opposite sign.
    p.outputs = {-10, -20, -30, 1};
    EXPECT_NEAR(score("smape", p), 200.0, 1e-9);
}

TEST(SeriesMetrics, MaseDividesEachColumnByItsNaiveError) {
    Predictions p = twoWindows();
    EXPECT_DOUBLE_EQ(score("mase", p), 1.75 / 2.0);
    // Two target columns, step-major: column j is target j % 2, with scales 1 and 10.
    Predictions two;
    two.target = "series";
    two.rows = 1;
    two.columns = 4;
    two.seriesColumns = 2;
    two.targets = {2, 30, 2, 20};
    two.outputs = {1, 10, 2, 20};
    two.naiveScale = {1.0, 10.0};
    EXPECT_DOUBLE_EQ(score("mase", two), (1.0 / 1 + 20.0 / 10 + 0 + 0) / 4);
    // A naive forecast without error on the training span leaves mase undefined.
    two.naiveScale = {0.0, 10.0};
    EXPECT_TRUE(std::isnan(score("mase", two)));
}

TEST(SeriesMetrics, ForecastMetricsRefuseOtherTargets) {
    Predictions p = twoWindows();
    p.target = "number";
    EXPECT_THROW(score("smape", p), MetricError);
    EXPECT_THROW(score("mase", p), MetricError);
    p.target = "series";
    p.naiveScale.clear();
    EXPECT_THROW(score("mase", p), MetricError);
}
