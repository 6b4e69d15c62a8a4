// The train block's options that change how a model learns, each shown
// doing what the reference says, end to end through `pipe run` on tables
// made here: early_stop, accumulate, clip, bf16, and a multi_category target
// trained with binary cross-entropy and scored with roc_auc.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

#include "runtime/data/image.h"
#include "runtime/safetensors.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;

// 200 rows: y = 3·x1 − 2·x2 + noise, and the labels `a` (x1 > 0.5) and `b`
// (x2 > 0.5), space-separated, possibly none.
void writeTable(const fs::path& path) {
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> unit(0, 1);
    std::normal_distribution<double> noise(0, 0.05);
    std::ofstream out(path);
    out << "x1,x2,y,labels\n";
    for (int i = 0; i < 200; ++i) {
        double x1 = unit(rng), x2 = unit(rng);
        std::string labels =
            std::string(x1 > 0.5 ? "a" : "") + (x1 > 0.5 && x2 > 0.5 ? " " : "") + (x2 > 0.5 ? "b" : "");
        out << x1 << "," << x2 << "," << 3 * x1 - 2 * x2 + noise(rng) << "," << labels << "\n";
    }
}

std::string regression(const std::string& optimizer, const std::string& train) {
    return R"(seed 5
data table {
    source     = csv("table.csv")
    blocks     = (tabular(cont = ["x1", "x2"]), number)
    y          = column("y")
    split      = random(valid = 0.2, seed = 1)
    batch_size = 10
}
model net {
    backbone = mlp(hidden = [16], dropout = 0.0)
    head     = regressor()
}
train fit {
    optimizer = )" +
           optimizer + "\n" + train + "\n}\n";
}

class TrainingOptions : public ::testing::Test {
protected:
    void SetUp() override { writeTable(dir_ / "table.csv"); }

    // Runs `text` as NAME.pipe; returns the run directory (empty on failure).
    fs::path run(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / (name + ".pipe")) << text;
        result_ = runPipeCommand("run " + (dir_ / (name + ".pipe")).string() + " --run-dir " +
                                 (dir_ / ("run-" + name)).string() + " --threads 1");
        EXPECT_EQ(result_.status, 0) << result_.output;
        return result_.status == 0 ? dir_ / ("run-" + name) : fs::path();
    }

    TempDir dir_;
    CommandResult result_;
};

// The rows of a CSV file after its header.
std::vector<std::vector<std::string>> csvRows(const fs::path& path, std::vector<std::string>* header = nullptr) {
    std::ifstream in(path);
    std::vector<std::vector<std::string>> rows;
    std::string line, cell;
    for (bool first = true; std::getline(in, line); first = false) {
        std::vector<std::string> cells;
        std::stringstream s(line);
        while (std::getline(s, cell, ',')) cells.push_back(cell);
        if (first && header) *header = cells;
        if (!first) rows.push_back(cells);
    }
    return rows;
}

double lastMetric(const fs::path& metricsCsv, const std::string& name) {
    std::vector<std::string> header;
    auto rows = csvRows(metricsCsv, &header);
    auto at = std::find(header.begin(), header.end(), name);
    if (rows.empty() || at == header.end()) return std::nan("");
    return std::stod(rows.back()[size_t(at - header.begin())]);
}

// The Euclidean distance between two runs' weights, over every tensor.
double distance(const fs::path& a, const fs::path& b) {
    auto wa = readSafetensors(a / "fit" / "weights.safetensors").tensors;
    auto wb = readSafetensors(b / "fit" / "weights.safetensors").tensors;
    double sum = 0;
    for (const auto& [name, tensor] : wa) {
        for (const auto& [other, t] : wb)
            if (other == name) sum += (tensor - t).pow(2).sum().item<double>();
    }
    return std::sqrt(sum);
}

TEST_F(TrainingOptions, EarlyStopEndsTrainingOncePatienceRunsOut) {
    // lr 0: the validation loss never improves after the first epoch.
    fs::path r = run("stop", regression("sgd(lr = 0.0)", R"(schedule = constant(epochs = 10)
    callbacks = [early_stop(monitor = "valid_loss", patience = 2)])"));
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(csvRows(r / "fit" / "metrics.csv").size(), 3u);  // the best epoch, then two without improvement
    EXPECT_NE(result_.output.find("stopping early"), std::string::npos) << result_.output;
}

TEST_F(TrainingOptions, AccumulateIsOneLargerBatch) {
    // Batches of 10 summed four at a time step as batches of 40 do: the same
    // items, each loss divided by 4, one step per 40 items (160 training rows,
    // shuffled the same way whatever the batch size; no dropout, no batch norm).
    std::string tens = regression("sgd(lr = 0.05)", "schedule = constant(epochs = 2)\n    accumulate = 4");
    std::string forties = regression("sgd(lr = 0.05)", "schedule = constant(epochs = 2)");
    forties.replace(forties.find("batch_size = 10"), 15, "batch_size = 40");
    fs::path four = run("four", tens);
    fs::path large = run("large", forties);
    fs::path each = run("each", regression("sgd(lr = 0.05)", "schedule = constant(epochs = 2)"));
    ASSERT_FALSE(four.empty() || large.empty() || each.empty());
    EXPECT_LT(distance(four, large), 1e-5);
    EXPECT_GT(distance(four, each), 1e-3);  // stepping every batch is another path
}

TEST_F(TrainingOptions, ClipBoundsEveryStep) {
    // Plain SGD moves the weights by lr × the gradient's norm, at most
    // lr × clip once clipped: 16 steps of at most 0.1 × 1e-4 each.
    const std::string plain = "sgd(lr = 0.1, momentum = 0.0)";
    fs::path init = run("init", regression("sgd(lr = 0.0)", "schedule = constant(epochs = 1)"));
    fs::path clipped = run("clipped", regression(plain, "schedule = constant(epochs = 1)\n    clip = 0.0001"));
    fs::path free = run("free", regression(plain, "schedule = constant(epochs = 1)"));
    ASSERT_FALSE(init.empty() || clipped.empty() || free.empty());
    double moved = distance(init, clipped);
    EXPECT_GT(moved, 0);
    EXPECT_LE(moved, 16 * 0.1 * 1e-4 * 1.001);
    EXPECT_GT(distance(init, free), 100 * 16 * 0.1 * 1e-4);  // without the clip it moves much further
}

TEST_F(TrainingOptions, Bf16TrainsAndKeepsFloat32Weights) {
    fs::path r =
        run("bf16", regression("adamw(lr = 1e-2)", "schedule = one_cycle(epochs = 8)\n    precision = \"bf16\""));
    ASSERT_FALSE(r.empty());
    auto rows = csvRows(r / "fit" / "metrics.csv");
    ASSERT_EQ(rows.size(), 8u);
    EXPECT_LT(lastMetric(r / "fit" / "metrics.csv", "valid_loss"), 0.2);  // y's variance is about 1.1
    for (const auto& [name, tensor] : readSafetensors(r / "fit" / "weights.safetensors").tensors)
        EXPECT_EQ(tensor.scalar_type(), torch::kFloat) << name;
}

TEST_F(TrainingOptions, MultiCategoryLearnsWithBinaryCrossEntropyAndRocAuc) {
    fs::path r = run("labels", R"(seed 5
data table {
    source     = csv("table.csv")
    blocks     = (tabular(cont = ["x1", "x2"]), multi_category(delimiter = " "))
    y          = column("labels")
    split      = random(valid = 0.2, seed = 1)
    batch_size = 10
}
model net { backbone = mlp(hidden = [16], dropout = 0.0) }
train fit {
    optimizer = adamw(lr = 1e-2)
    schedule  = one_cycle(epochs = 15)
    metrics   = [roc_auc]
}
)");
    ASSERT_FALSE(r.empty());
    std::ifstream plan(r / "plan.txt");
    std::string planText((std::istreambuf_iterator<char>(plan)), std::istreambuf_iterator<char>());
    EXPECT_NE(planText.find("bce_with_logits"), std::string::npos) << planText;  // the loss the target implies
    EXPECT_GT(lastMetric(r / "fit" / "metrics.csv", "roc_auc"), 0.95);
}

TEST_F(TrainingOptions, FreezeKeepsTheBackboneButItsBatchNormsLearn) {
    // Two folders of noise images: enough for a step to change every weight it may.
    std::mt19937 rng(3);
    for (const char* label : {"a", "b"}) {
        fs::create_directories(dir_ / "images" / label);
        for (int i = 0; i < 16; ++i) {
            Image image(1, 8, 8);
            for (auto& p : image.pixels) p = uint8_t(rng() % 256);
            writePng(dir_ / "images" / label / (std::to_string(i) + ".png"), image);
        }
    }
    auto file = [](const std::string& optimizer) {
        return R"(seed 2
data pics {
    source     = folder("images", extensions = [".png"])
    blocks     = (image(channels = 1), category)
    label      = parent_label
    split      = random(valid = 0.25, seed = 1)
    batch_size = 8
}
model net {
    backbone = cnn(channels = [4, 8])
    freeze   = true
}
train fit {
    optimizer = )" +
               optimizer + R"(
    schedule  = constant(epochs = 1)
}
)";
    };
    fs::path init = run("init", file("adamw(lr = 0.0)"));
    fs::path frozen = run("frozen", file("adamw(lr = 1e-2)"));
    ASSERT_FALSE(init.empty() || frozen.empty());
    auto before = readSafetensors(init / "fit" / "weights.safetensors").tensors;
    auto after = readSafetensors(frozen / "fit" / "weights.safetensors").tensors;
    auto find = [](const auto& tensors, const std::string& name) {
        for (const auto& [n, t] : tensors)
            if (n == name) return t;
        return torch::Tensor();
    };
    int convs = 0, norms = 0, others = 0;
    for (const auto& [name, tensor] : before) {
        torch::Tensor now = find(after, name);
        ASSERT_TRUE(now.defined()) << name;
        bool changed = !torch::equal(tensor, now);
        std::string stem = name.substr(0, name.rfind('.'));
        bool batchNorm = find(before, stem + ".running_mean").defined();
        if (batchNorm && name.find("running_") != std::string::npos) {
            // Statistics: the lr 0 run gathers them too, so they are compared with their start (0 and 1).
            torch::Tensor start =
                name.find("mean") != std::string::npos ? torch::zeros_like(now) : torch::ones_like(now);
            EXPECT_FALSE(torch::equal(now, start)) << name << ": a frozen backbone's batch norm still measures";
            ++norms;
        } else if (batchNorm && name.find("num_batches") == std::string::npos) {
            EXPECT_TRUE(changed) << name << ": a frozen backbone's batch norm still learns";
            ++norms;
        } else if (tensor.dim() == 4) {
            EXPECT_FALSE(changed) << name << ": a frozen backbone's convolution stays fixed";
            ++convs;
        } else if (tensor.dim() == 2) {
            EXPECT_TRUE(changed) << name << ": the head learns";
            ++others;
        }
    }
    EXPECT_GE(others, 1);
    EXPECT_EQ(convs, 2);
    EXPECT_GE(norms, 8);  // weight, bias, running mean and variance of two batch norms
}

}  // namespace
}  // namespace pipelang::runtime
