// Time series: windows cut exactly, scaling measured on the training span
// only, no value after the split reaching training (a planted spike), the
// naive baselines, a clear error for each kind of bad series, the backbones
// over windows, and a whole `pipe run`.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <toml.hpp>

#include "runtime/data/series.h"
#include "runtime/models/network.h"
#include "runtime/train/fit.h"
#include "tests/runtime/compiled.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"

namespace pipelang::runtime {

namespace series_test {

// A daily series from 2024-01-01: columns date, y, x.
std::string dailyCsv(const std::vector<double>& y, const std::vector<double>& x) {
    std::ostringstream out;
    out << "date,y,x\n";
    for (size_t i = 0; i < y.size(); ++i) {
        using namespace std::chrono;
        year_month_day day{sys_days{2024y / January / 1} + days{i}};
        char date[16];
        std::snprintf(date, sizeof date, "%04d-%02u-%02u", int(day.year()), unsigned(day.month()), unsigned(day.day()));
        out << date << "," << y[i] << "," << x[i] << "\n";
    }
    return out.str();
}

std::string seriesPipe(const std::string& block, const std::string& split) {
    return "data d {\n"
           "    source = csv(\"series.csv\")\n"
           "    blocks = (" +
           block +
           ")\n"
           "    split  = " +
           split +
           "\n"
           "}\n"
           "model m { backbone = lstm(dim = 4) }\n"
           "train t { model = m  data = d }\n";
}

// Every value of a split's batches, inputs and targets, in loader order.
struct Seen {
    std::vector<float> x, y;
};
Seen seen(const PreparedData& data, Split split, int64_t batchSize = 1) {
    Seen out;
    for (const Batch& b : epoch(data, split, batchSize, 0)) {
        torch::Tensor x = b.x.contiguous(), y = b.y.contiguous();
        out.x.insert(out.x.end(), x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
        out.y.insert(out.y.end(), y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
    }
    return out;
}

std::vector<double> range(double from, int n, double step = 1) {
    std::vector<double> out;
    for (int i = 0; i < n; ++i) out.push_back(from + step * i);
    return out;
}

}  // namespace series_test

using namespace series_test;

TEST(Series, WindowsOfASmallSeriesExactly) {
    // 10 steps, the last 3 validate: training windows end by step 6, and a
    // window whose two targets straddle steps 6 and 7 belongs to neither.
    std::vector<Side> sides(10, Side::Train);
    for (int r = 7; r < 10; ++r) sides[size_t(r)] = Side::Valid;
    WindowOrigins origins = windowOrigins(sides, 3, 2);
    EXPECT_EQ(origins[0], (std::vector<int64_t>{3, 4, 5}));
    EXPECT_EQ(origins[1], (std::vector<int64_t>{7, 8}));
    EXPECT_TRUE(origins[2].empty());

    TempDir dir;
    writeText(dir / "series.csv", dailyCsv(range(10, 10), range(100, 10)));
    auto d =
        prepare(dir.path(), seriesPipe("series(time = \"date\", targets = [\"y\"], inputs = [\"x\"], lookback = 3, "
                                       "horizon = 2, scale = \"none\")",
                                       "last(valid = 0.3)"));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->size(Split::Train), 3);
    EXPECT_EQ(d->size(Split::Valid), 2);
    EXPECT_EQ(d->info().input, "series");
    EXPECT_EQ(d->info().itemShape, (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(d->info().outputs, 2);
    Seen valid = seen(*d, Split::Valid);
    // Window at step 7: steps 4, 5, 6 of (y, x); targets y at steps 7 and 8. Then the window at step 8.
    EXPECT_EQ(valid.x, (std::vector<float>{14, 104, 15, 105, 16, 106, 15, 105, 16, 106, 17, 107}));
    EXPECT_EQ(valid.y, (std::vector<float>{17, 18, 18, 19}));
    // Training windows, in whatever order the loader shuffles them, are those at 3, 4 and 5.
    Seen train = seen(*d, Split::Train);
    std::vector<float> firstY;
    for (size_t i = 0; i < train.y.size(); i += 2) firstY.push_back(train.y[i]);
    std::sort(firstY.begin(), firstY.end());
    EXPECT_EQ(firstY, (std::vector<float>{13, 14, 15}));
}

TEST(Series, ScaledWithTheTrainingSpansStatisticsOnly) {
    TempDir dir;
    // Steps 0..6 train (y 10..16: mean 13, population deviation 2); the rest are much larger.
    std::vector<double> y = range(10, 7);
    for (double v : {500.0, 600.0, 700.0}) y.push_back(v);
    writeText(dir / "series.csv", dailyCsv(y, range(0, 10, 2)));
    auto d =
        prepare(dir.path(), seriesPipe("series(time = \"date\", targets = [\"y\"], inputs = [\"x\"], lookback = 2)",
                                       "before(\"2024-01-08\")"));
    ASSERT_TRUE(d);
    const DataInfo& info = d->info();
    ASSERT_EQ(info.seriesMean.size(), 1u);
    EXPECT_DOUBLE_EQ(info.seriesMean[0], 13.0);
    EXPECT_DOUBLE_EQ(info.seriesStd[0], 2.0);
    // Validation windows at steps 7, 8 and 9, scaled by the training statistics (x's mean 6,
    // deviation 4): the first sees steps 5 and 6, y (15 − 13)/2, (16 − 13)/2 and x (10 − 6)/4,
    // (12 − 6)/4; the next steps 6 and 7, y (500 − 13)/2 and x (14 − 6)/4 at step 7; and so on.
    Seen valid = seen(*d, Split::Valid);
    EXPECT_EQ(valid.x, (std::vector<float>{1, 1, 1.5, 1.5, 1.5, 1.5, 243.5, 2, 243.5, 2, 293.5, 2.5}));
    EXPECT_EQ(valid.y, (std::vector<float>{243.5, 293.5, 343.5}));

    // The pure function agrees, and measures nothing off the training span.
    SeriesSpec spec;
    spec.time = "date";
    spec.targets = {"y"};
    Series series = readSeries(parseCsv(dailyCsv(y, range(0, 10, 2)), "s.csv"), spec);
    std::vector<Side> sides(10, Side::Valid);
    for (int r = 0; r < 7; ++r) sides[size_t(r)] = Side::Train;
    SeriesScaling scaling = measureScaling(series, sides, true);
    EXPECT_DOUBLE_EQ(scaling.mean[0], 13.0);
    EXPECT_DOUBLE_EQ(scaling.std[0], 2.0);
    SeriesScaling none = measureScaling(series, sides, false);
    EXPECT_EQ(none.mean[0], 0.0);
    EXPECT_EQ(none.std[0], 1.0);
}

TEST(Series, SplitsInTimeWithATestSpan) {
    TempDir dir;
    writeText(dir / "series.csv", dailyCsv(range(1, 10), range(0, 10)));
    std::string block = "series(time = \"date\", targets = [\"y\"], lookback = 2, scale = \"none\")";
    // Steps 0..4 train, 5..7 validate, 8 and 9 test; windows of one step after two.
    auto d = prepare(dir.path(), seriesPipe(block, "before(\"2024-01-06\", test = \"2024-01-09\")"));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->size(Split::Train), 3);
    EXPECT_EQ(d->size(Split::Valid), 3);
    EXPECT_EQ(d->size(Split::Test), 2);
    EXPECT_EQ(seen(*d, Split::Test).y, (std::vector<float>{9, 10}));
    EXPECT_EQ(seen(*d, Split::Valid).y, (std::vector<float>{6, 7, 8}));
    // The same spans as shares: 3 of 10 steps validate, the last 2 test.
    auto shares = prepare(dir.path(), seriesPipe(block, "last(valid = 0.3, test = 0.2)"));
    ASSERT_TRUE(shares);
    EXPECT_EQ(seen(*shares, Split::Test).y, (std::vector<float>{9, 10}));
    EXPECT_EQ(seen(*shares, Split::Valid).y, (std::vector<float>{6, 7, 8}));
    // A test span must come after validation.
    auto c = compile(dir.path(), seriesPipe(block, "before(\"2024-01-06\", test = \"2024-01-03\")"));
    std::string message = errorOf([&] { prepareData(*c.data, dir.path(), 1); });
    EXPECT_NE(message.find("the test span starts at `2024-01-03`, not after validation's `2024-01-06`"),
              std::string::npos)
        << message;
}

// A spike planted after the split, in a target and in an input: nothing the
// training split serves, and no statistic, may have seen it; validation must.
TEST(Series, NoValueAfterTheSplitReachesTraining) {
    // Both splits put steps 0..17 or 0..19 in training, the spikes (steps 21 and 22) after.
    for (const std::string split : {"before(\"2024-01-21\")", "last(valid = 0.25)"}) {
        SCOPED_TRACE(split);
        TempDir dir;
        std::vector<double> y, x;
        for (int i = 0; i < 24; ++i) {
            y.push_back(20 + 3 * std::sin(i * 0.7));
            x.push_back(5 + (i % 3));
        }
        y[21] = 1e6;
        x[22] = -1e6;
        writeText(dir / "series.csv", dailyCsv(y, x));
        auto d = prepare(dir.path(), seriesPipe("series(time = \"date\", targets = [\"y\"], inputs = [\"x\"], "
                                                "lookback = 4, horizon = 2)",
                                                split));
        ASSERT_TRUE(d);
        // Statistics: those of steps 0..17 or 0..19 alone (never near the spike's scale).
        const DataInfo& info = d->info();
        EXPECT_NEAR(info.seriesMean[0], 20, 1.0);
        EXPECT_LT(info.seriesStd[0], 3.0);
        // Every training input and target is a plain value in scaled units.
        Seen train = seen(*d, Split::Train);
        ASSERT_FALSE(train.x.empty());
        for (float v : train.x) EXPECT_LT(std::fabs(v), 5.0f);
        for (float v : train.y) EXPECT_LT(std::fabs(v), 5.0f);
        // And the spike is there to be seen after the split: the test could fail.
        Seen valid = seen(*d, Split::Valid);
        float largest = 0;
        for (float v : valid.y) largest = std::max(largest, std::fabs(v));
        for (float v : valid.x) largest = std::max(largest, std::fabs(v));
        EXPECT_GT(largest, 1e4f);
    }
}

TEST(Series, NaiveBaselinesOfTheSameWindows) {
    TempDir dir;
    // A season of 3 steps: 1, 5, 9, 1, 5, 9, ... plus 10 per season, on 15 steps.
    std::vector<double> y;
    for (int i = 0; i < 15; ++i) y.push_back(1 + 4 * (i % 3) + 10 * (i / 3));
    writeText(dir / "series.csv", dailyCsv(y, range(0, 15)));
    auto d = prepare(dir.path(), seriesPipe("series(time = \"date\", targets = [\"y\"], lookback = 3, horizon = 2, "
                                            "season = 3)",
                                            "last(valid = 0.2)"));
    ASSERT_TRUE(d);
    // Validation: steps 12, 13, 14; windows at 12 and 13.
    ASSERT_EQ(d->size(Split::Valid), 2);
    auto baselines = d->baselines(Split::Valid);
    ASSERT_EQ(baselines.size(), 2u);
    const DataInfo& info = d->info();
    auto units = [&](const torch::Tensor& t) {
        std::vector<double> out;
        torch::Tensor c = t.contiguous();
        for (int64_t i = 0; i < c.numel(); ++i)
            out.push_back(std::round(c.data_ptr<float>()[i] * info.seriesStd[0] + info.seriesMean[0]));
        return out;
    };
    EXPECT_EQ(baselines[0].name, "last_value");
    EXPECT_EQ(units(baselines[0].output), (std::vector<double>{39, 39, 41, 41}));  // y[11], y[12]
    EXPECT_EQ(baselines[1].name, "seasonal_naive");
    // Step 12 takes step 9's value, 13 step 10's (for the window at 12); then 13 → 10, 14 → 11.
    EXPECT_EQ(units(baselines[1].output), (std::vector<double>{31, 35, 35, 39}));
    EXPECT_EQ(units(baselines[0].target), (std::vector<double>{41, 45, 45, 49}));
    // mase's scale: training steps 0..11 against 3 steps before: always 10.
    ASSERT_EQ(info.naiveScale.size(), 1u);
    EXPECT_DOUBLE_EQ(info.naiveScale[0], 10.0);

    // Scored as a model would be: the seasonal naive is off by 10 at each step, so mase 1, mae 10.
    auto c = compile(dir.path(), seriesPipe("series(time = \"date\", targets = [\"y\"], lookback = 3, horizon = 2, "
                                            "season = 3)",
                                            "last(valid = 0.2)"));
    const Section* train = c.compilation->pipeline.find("train", "t");
    ASSERT_TRUE(train);
    BaselineComparison table = compareWithBaselines(*d, Split::Valid, *train->field("metrics"),
                                                    {{"mae", 1.0}, {"rmse", 1.0}, {"smape", 1.0}, {"mase", 0.1}});
    ASSERT_EQ(table.lines.size(), 4u);  // header, model, last_value, seasonal_naive
    std::map<std::string, double> scores(table.scores.begin(), table.scores.end());
    EXPECT_NEAR(scores.at("seasonal_naive_mae"), 10.0, 1e-4);
    EXPECT_NEAR(scores.at("seasonal_naive_mase"), 1.0, 1e-5);
    EXPECT_NEAR(scores.at("last_value_mae"), (2 + 6 + 4 + 8) / 4.0, 1e-4);
    EXPECT_EQ(scores.at("model_mase"), 0.1);
}

TEST(Series, BadSeriesAreOneClearError) {
    TempDir dir;
    auto errorFor = [&](const std::string& csv, const std::string& block = "lookback = 2",
                        const std::string& split = "last(valid = 0.25)") {
        writeText(dir / "series.csv", csv);
        auto c = compile(dir.path(), seriesPipe("series(time = \"date\", targets = [\"y\"], " + block + ")", split));
        if (!c.data) return std::string("does not check");
        return errorOf([&] { prepareData(*c.data, dir.path(), 1); });
    };
    // A gap: 2024-01-04 is missing.
    std::string gap = errorFor("date,y,x\n2024-01-01,1,0\n2024-01-02,2,0\n2024-01-03,3,0\n2024-01-05,5,0\n");
    EXPECT_NE(gap.find("series.csv` line 5"), std::string::npos) << gap;
    EXPECT_NE(gap.find("jumps from `2024-01-03` (line 4) to `2024-01-05`, 2 days where its step is 1 day"),
              std::string::npos)
        << gap;
    EXPECT_NE(gap.find("add the missing rows"), std::string::npos) << gap;
    // Out of order, and repeated.
    std::string unsorted = errorFor("date,y,x\n2024-01-01,1,0\n2024-01-03,2,0\n2024-01-02,3,0\n");
    EXPECT_NE(unsorted.find("series.csv` line 4: the time `2024-01-02` comes before `2024-01-03` on line 3"),
              std::string::npos)
        << unsorted;
    EXPECT_NE(unsorted.find("sort the file by `date`"), std::string::npos) << unsorted;
    std::string repeated = errorFor("date,y,x\n2024-01-01,1,0\n2024-01-02,2,0\n2024-01-02,3,0\n");
    EXPECT_NE(repeated.find("line 4: the time `2024-01-02` is also on line 3"), std::string::npos) << repeated;
    EXPECT_NE(repeated.find("remove or merge the repeated rows"), std::string::npos) << repeated;
    // A time that is no time.
    std::string notTime = errorFor("date,y,x\n2024-01-01,1,0\nyesterday,2,0\n");
    EXPECT_NE(notTime.find("line 3: the time `yesterday` in column `date` is not a date"), std::string::npos)
        << notTime;
    // A target that is not a number, and one missing.
    std::string text = errorFor("date,y,x\n2024-01-01,1,0\n2024-01-02,n/a?,0\n2024-01-03,3,0\n");
    EXPECT_NE(text.find("series.csv` line 3: the target column `y` holds `n/a?`, not a number"), std::string::npos)
        << text;
    std::string empty = errorFor("date,y,x\n2024-01-01,1,0\n2024-01-02,,0\n2024-01-03,3,0\n");
    EXPECT_NE(empty.find("line 3: the target column `y` is empty"), std::string::npos) << empty;
    // A window longer than the series' training span.
    std::string longWindow = errorFor(dailyCsv(range(1, 8), range(0, 8)), "lookback = 6, horizon = 2");
    EXPECT_NE(longWindow.find("a window of 6 steps (`lookback`) and 2 to predict (`horizon`) needs 8 steps, but the "
                              "training span of"),
              std::string::npos)
        << longWindow;
    EXPECT_NE(longWindow.find("has 6 (of 8 rows); lower `lookback` or `horizon`"), std::string::npos) << longWindow;
    // A validation span shorter than the horizon.
    std::string shortValid =
        errorFor(dailyCsv(range(1, 20), range(0, 20)), "lookback = 2, horizon = 4", "last(valid = 0.1)");
    EXPECT_NE(shortValid.find("the valid span of"), std::string::npos) << shortValid;
    EXPECT_NE(shortValid.find("has 2 steps, fewer than the 4 each window predicts"), std::string::npos) << shortValid;
    // A split date outside the series, or not a date.
    std::string late = errorFor(dailyCsv(range(1, 8), range(0, 8)), "lookback = 2", "before(\"2030-01-01\")");
    EXPECT_NE(late.find("after the series' last step `2024-01-08`"), std::string::npos) << late;
    std::string notDate = errorFor(dailyCsv(range(1, 8), range(0, 8)), "lookback = 2", "before(\"soon\")");
    EXPECT_NE(notDate.find("is not a time like the series' `2024-01-01`"), std::string::npos) << notDate;
}

// Debian's hourly Seattle temperatures skip 3:00 on the night clocks went
// forward (2010-03-14): a real gap, named where it is.
TEST(Series, RealGapInDebiansHourlyTemperatures) {
    const std::filesystem::path file = "/usr/lib/python3/dist-packages/vega_datasets/_data/seattle-temps.csv";
    if (!std::filesystem::exists(file)) GTEST_SKIP() << "python3-vega-datasets is not installed";
    SeriesSpec spec;
    spec.time = "date";
    spec.targets = {"temp"};
    std::string message = errorOf([&] { readSeries(readCsv(file), spec); });
    EXPECT_NE(message.find("seattle-temps.csv` line 1733: the series jumps from `2010/03/14 02:00` (line 1732) to "
                           "`2010/03/14 04:00`, 2 hours where its step is 1 hour"),
              std::string::npos)
        << message;
    // Its daily weather has a row for every day of 2012 to 2015.
    spec.targets = {"temp_max"};
    Series weather =
        readSeries(readCsv("/usr/lib/python3/dist-packages/vega_datasets/_data/seattle-weather.csv"), spec);
    EXPECT_EQ(weather.rows(), 1461);
    EXPECT_EQ(weather.time.step, "1 day");
}

TEST(Series, TimesAsDatesMonthsAndNumbers) {
    auto month = parseTime("2014-03");
    ASSERT_TRUE(month && month->date);
    EXPECT_EQ(month->month, 2014 * 12 + 2);
    auto withTime = parseTime("2010/03/14 01:30:15");
    ASSERT_TRUE(withTime);
    EXPECT_DOUBLE_EQ(withTime->secondOfDay, 5415);
    EXPECT_DOUBLE_EQ(parseTime("1970-01-02")->key, 86400);
    EXPECT_FALSE(parseTime("2014-02-30"));
    EXPECT_FALSE(parseTime("Jan 1 2000"));
    auto number = parseTime("1958");
    ASSERT_TRUE(number);
    EXPECT_FALSE(number->date);
    // Monthly rows step by months, whatever the months' lengths.
    SeriesSpec spec;
    spec.time = "month";
    spec.targets = {"v"};
    Series monthly = readSeries(parseCsv("month,v\n2014-01-01,1\n2014-02-01,2\n2014-03-01,3\n", "m.csv"), spec);
    EXPECT_EQ(monthly.time.step, "1 month");
    std::string gap =
        errorOf([&] { readSeries(parseCsv("month,v\n2014-01-01,1\n2014-02-01,2\n2014-04-01,3\n", "m.csv"), spec); });
    EXPECT_NE(gap.find("2 months where its step is 1 month"), std::string::npos) << gap;
}

// Each backbone takes a series' windows and the regressor gives horizon × targets outputs.
TEST(Series, BackbonesOverWindows) {
    TempDir dir;
    std::vector<double> y, x;
    for (int i = 0; i < 40; ++i) y.push_back(std::sin(i)), x.push_back(std::cos(i));
    writeText(dir / "series.csv", dailyCsv(y, x));
    std::string block = "series(time = \"date\", targets = [\"y\", \"x\"], lookback = 8, horizon = 3)";
    auto d = prepare(dir.path(), seriesPipe(block, "last(valid = 0.25)"));
    ASSERT_TRUE(d);
    Batch batch = epoch(*d, Split::Valid, 5, 0).front();
    for (const std::string backbone : {"lstm(dim = 8, layers = 2)", "gru(dim = 8, bidirectional = true)",
                                       "transformer(layers = 1, dim = 8, heads = 2)", "cnn(channels = [4, 8])"}) {
        SCOPED_TRACE(backbone);
        std::string text = seriesPipe(block, "last(valid = 0.25)");
        text.replace(text.find("lstm(dim = 4)"), 13, backbone);
        auto c = compile(dir.path(), text);
        const Section* model = c.compilation->pipeline.find("model", "m");
        ASSERT_TRUE(model);
        auto network = buildNetwork(*model, d->info(), dir.path());
        torch::Tensor out = network->forward(batch);
        EXPECT_EQ(out.sizes(), (std::vector<int64_t>{5, 6}));
        // Every parameter is in one layer group.
        int64_t grouped = 0;
        for (const auto& g : network->layerGroups()) grouped += int64_t(g.parameters.size());
        EXPECT_EQ(grouped, int64_t(network->parameters().size()));
    }
}

// The whole run: trained, scored beside the naive forecasts on the same
// windows, printed and recorded.
TEST(Series, PipeRunPrintsAndRecordsTheBaselines) {
    TempDir dir;
    std::vector<double> y, x;
    for (int i = 0; i < 120; ++i) y.push_back(10 + 5 * std::sin(i * 2 * M_PI / 12) + 0.1 * i), x.push_back(i % 7);
    std::ostringstream csv;  // the time is a step count
    csv << "step,y,x\n";
    for (int i = 0; i < 120; ++i) csv << i << "," << y[size_t(i)] << "," << x[size_t(i)] << "\n";
    writeText(dir / "series.csv", csv.str());
    writeText(dir / "run.pipe",
              "seed 7\n"
              "data d {\n"
              "    source = csv(\"series.csv\")\n"
              "    blocks = (series(time = \"step\", targets = [\"y\"], inputs = [\"x\"], lookback = 12, horizon = 3, "
              "season = 12))\n"
              "    split  = last(valid = 0.2, test = 0.1)\n"
              "    batch_size = 16\n"
              "}\n"
              "model m { backbone = gru(dim = 16) }\n"
              "train fit { optimizer = adamw(lr = 1e-2)  schedule = one_cycle(epochs = 3)  keep = best(valid_loss) }\n"
              "evaluate fit on d.test\n");
    TrainedRun run = trainRun(dir / "run.pipe", dir / "runs");
    ASSERT_EQ(run.result.status, 0) << run.result.output;
    const std::string& out = run.result.output;
    EXPECT_NE(out.find("valid: the model beside naive forecasts of the same"), std::string::npos) << out;
    EXPECT_NE(out.find("test: the model beside naive forecasts of the same"), std::string::npos) << out;
    for (const char* row : {"forecast", "model", "last_value", "seasonal_naive"})
        EXPECT_NE(out.find(std::string("\n") + row), std::string::npos) << row << "\n" << out;
    toml::value record = toml::parse((run.dir / "record.toml").string());
    // The train stage's comparison on validation, and the evaluation's on test.
    const auto& stages = toml::find(record, "stages").as_table();
    std::string names;
    int comparisons = 0;
    for (const auto& [name, _] : stages) {
        names += name + " ";
        comparisons += name.ends_with("_baselines");
    }
    ASSERT_TRUE(stages.count("fit_baselines")) << names;
    EXPECT_EQ(comparisons, 2) << names;
    for (const char* key : {"model_mae", "last_value_mae", "seasonal_naive_mae", "model_mase", "seasonal_naive_mase"})
        EXPECT_TRUE(toml::find(record, "stages", "fit_baselines", "metrics").contains(key)) << key;
    // The seasonal naive forecast of a 12-step sine with a trend is close but not exact: its mase is near 1.
    double naive = toml::find<double>(record, "stages", "fit_baselines", "metrics", "seasonal_naive_mase");
    EXPECT_GT(naive, 0.5);
    EXPECT_LT(naive, 2.0);
    EXPECT_TRUE(std::filesystem::exists(run.dir / "d" / "stats.json"));

    // `pipe show` lists the first training batch's windows, `pipe interpret` the worst validation windows.
    CommandResult shown = runPipeCommand("show " + (dir / "run.pipe").string() + " --out " + (dir / "show").string());
    ASSERT_EQ(shown.status, 0) << shown.output;
    EXPECT_NE(shown.output.find("y last"), std::string::npos) << shown.output;
    std::ifstream batchCsv(dir / "show" / "batch.csv");
    std::string header;
    std::getline(batchCsv, header);
    EXPECT_EQ(header, "#,item,y last,x last,label");
    CommandResult interpreted = runPipeCommand("interpret " + run.dir.string());
    ASSERT_EQ(interpreted.status, 0) << interpreted.output;
    EXPECT_NE(interpreted.output.find("series.csv line "), std::string::npos) << interpreted.output;

    // `pipe predict` forecasts the horizon after a table's last row, in the target's units.
    CommandResult predicted = runPipeCommand("predict " + run.dir.string() + " " + (dir / "series.csv").string());
    ASSERT_EQ(predicted.status, 0) << predicted.output;
    EXPECT_NE(predicted.output.find("series.csv after 119 (steps of 1):\n  +1 y "), std::string::npos)
        << predicted.output;
    size_t third = predicted.output.find("\n  +3 y ");
    ASSERT_NE(third, std::string::npos) << predicted.output;
    double forecast = std::stod(predicted.output.substr(third + 9));
    EXPECT_GT(forecast, 0.0);  // the series lies between 5 and 27
    EXPECT_LT(forecast, 35.0);
    writeText(dir / "short.csv", "step,y,x\n0,1,2\n1,2,3\n");
    CommandResult tooShort = runPipeCommand("predict " + run.dir.string() + " " + (dir / "short.csv").string());
    EXPECT_EQ(tooShort.status, 1) << tooShort.output;
    EXPECT_NE(tooShort.output.find("short.csv` has 2 rows, but the model forecasts from the last 12 steps"),
              std::string::npos)
        << tooShort.output;
}

}  // namespace pipelang::runtime
