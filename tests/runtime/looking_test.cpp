// `pipe show`, `pipe interpret` and `pipe lr-find` end to end on data made
// here: solid-coloured images whose colour is their class (so a picture's
// pixels can be traced to the batch), stripes a small network learns, and a
// small table.
#include <gtest/gtest.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "record/pictures.h"
#include "runtime/data/image.h"
#include "runtime/look/lr_find.h"
#include "tests/runtime/compiled.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"
#include "tests/runtime/test_files.h"
#include "tests/runtime/trained_once.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;

using Rgb = std::array<uint8_t, 3>;
const std::map<std::string, Rgb> kColours = {{"red", {200, 30, 30}}, {"blue", {30, 60, 200}}};

// Twelve 12×10 images of each colour; a flip or a crop leaves them the same.
void makeColours(const fs::path& root) {
    for (const auto& [name, rgb] : kColours) {
        fs::create_directories(root / "images" / name);
        for (int i = 0; i < 12; ++i) {
            Image image(3, 10, 12);
            for (int c = 0; c < 3; ++c) std::fill_n(image.plane(c), 120, rgb[size_t(c)]);
            writePng(root / "images" / name / (std::to_string(i) + ".png"), image);
        }
    }
}

struct Rgba {
    int width = 0, height = 0;
    std::vector<uint8_t> pixels;  // RGB, interleaved
};

Rgba readRgb(const fs::path& path) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    Rgba out;
    if (!png_image_begin_read_from_file(&image, path.c_str())) return out;
    image.format = PNG_FORMAT_RGB;
    out.pixels.resize(PNG_IMAGE_SIZE(image));
    if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) return {};
    out.width = int(image.width);
    out.height = int(image.height);
    return out;
}

int64_t countColour(const Rgba& image, const Rgb& rgb) {
    int64_t n = 0;
    for (size_t i = 0; i + 2 < image.pixels.size(); i += 3)
        n += image.pixels[i] == rgb[0] && image.pixels[i + 1] == rgb[1] && image.pixels[i + 2] == rgb[2];
    return n;
}

std::vector<std::vector<std::string>> readCsv(const fs::path& path) {
    std::ifstream in(path);
    std::vector<std::vector<std::string>> rows;
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> cells;
        std::stringstream split(line);
        for (std::string cell; std::getline(split, cell, ',');) cells.push_back(cell);
        rows.push_back(cells);
    }
    return rows;
}

const char* kColoursPipe = R"(seed 5
data colours {
    source     = folder("images", extensions = [".png"])
    blocks     = (image, category)
    label      = parent_label
    split      = random(valid = 0.25, seed = 1)
    item       = [flip()]
    batch      = [normalize()]
    batch_size = 8
}
model net { backbone = cnn(channels = [4]) }
train fit { schedule = one_cycle(epochs = 1) }
)";

TEST(Show, SavesTheFirstTrainingBatchAsACaptionedGridOfItsPixels) {
    TempDir dir("pipe-show");
    makeColours(dir.path());
    fs::path file = writeText(dir / "colours.pipe", kColoursPipe);
    fs::path out = dir / "shown";
    CommandResult r = runPipeCommand("show " + file.string() + " --out " + out.string() + " --n 6");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find((out / "batch.png").string()), std::string::npos) << r.output;

    // batch.csv names six items; each tile is exactly its item's colour
    // (normalisation undone), and the label is the item's folder.
    auto rows = readCsv(out / "batch.csv");
    ASSERT_EQ(rows.size(), 7u);
    EXPECT_EQ(rows[0], (std::vector<std::string>{"#", "item", "label"}));
    std::map<std::string, int> shown;
    for (size_t i = 1; i < rows.size(); ++i) {
        const std::string& label = rows[i][2];
        ASSERT_TRUE(kColours.count(label)) << label;
        EXPECT_EQ(fs::path(rows[i][1]).parent_path().filename().string(), label) << rows[i][1];
        char tile[32];
        std::snprintf(tile, sizeof tile, "%03d.png", int(i - 1));
        Rgba pixels = readRgb(out / "tiles" / tile);
        ASSERT_EQ(pixels.width, 12);
        ASSERT_EQ(pixels.height, 10);
        EXPECT_EQ(countColour(pixels, kColours.at(label)), 120) << tile;
        ++shown[label];
    }

    // The grid is a PNG of the size its layout gives, and most of each tile's
    // square is that item's colour.
    Rgba grid = readRgb(out / "batch.png");
    record::GridLayout layout = record::gridLayout(6, 1);
    ASSERT_EQ(grid.width, layout.width);
    ASSERT_EQ(grid.height, layout.height);
    const double tileArea = double(layout.cell) * layout.cell * 10 / 12;  // 12×10 kept in shape
    for (const auto& [label, rgb] : kColours)
        EXPECT_GE(double(countColour(grid, rgb)), 0.8 * tileArea * shown[label]) << label;
    EXPECT_TRUE(fs::exists(out / "batch.gp"));
}

TEST(Show, ListsATablesRowsWithTheirCategoriesNamed) {
    TempDir dir("pipe-show-table");
    writeText(dir / "houses.csv",
              "area,city,price\n50,north,100\n60,south,150\n70,north,140\n80,east,160\n90,south,170\n100,east,200\n");
    fs::path file = writeText(dir / "houses.pipe", R"(data houses {
    source     = csv("houses.csv")
    blocks     = (tabular(cont = ["area"], cat = ["city"]), number)
    y          = column("price")
    split      = random(valid = 0.2, seed = 1)
    batch_size = 4
}
)");
    CommandResult r = runPipeCommand("show " + file.string() + " --out " + (dir / "shown").string());
    ASSERT_EQ(r.status, 0) << r.output;
    auto rows = readCsv(dir / "shown" / "batch.csv");
    ASSERT_EQ(rows.size(), 5u) << r.output;
    EXPECT_EQ(rows[0], (std::vector<std::string>{"#", "item", "area", "city", "label"}));
    // Every row is a line of the table, scaled back and decoded.
    std::ifstream table(dir / "houses.csv");
    std::vector<std::string> lines;
    for (std::string line; std::getline(table, line);) lines.push_back(line);
    for (size_t i = 1; i < rows.size(); ++i) {
        std::string item = rows[i][1];
        size_t at = item.rfind(" line ");
        ASSERT_NE(at, std::string::npos) << item;
        int line = std::stoi(item.substr(at + 6));
        ASSERT_GE(line, 2);
        std::string expected = rows[i][2] + "," + rows[i][3] + "," + rows[i][4];
        EXPECT_EQ(lines[size_t(line - 1)], expected);
    }
    EXPECT_FALSE(fs::exists(dir / "shown" / "batch.png"));
}

const char* kStripesPipe = R"(seed 3
data stripes {
    source     = folder("images", extensions = [".png"])
    blocks     = (image(channels = 1), category)
    label      = parent_label
    split      = random(valid = 0.25, seed = 1)
    batch      = [normalize()]
    batch_size = 8
}
model net { backbone = cnn(channels = [8, 16]) }
train fit {
    optimizer = adamw(lr = 1e-2)
    schedule  = one_cycle(epochs = 2)
    metrics   = [accuracy]
}
)";

// A run of the stripes pipeline, trained once for the interpret tests.
struct StripesRun {
    static constexpr const char* kName = "pipe-interpret";
    static fs::path write(const TempDir& dir) {
        makeStripes(dir.path(), 40);
        return writeText(dir / "stripes.pipe", kStripesPipe);
    }
};
using Interpret = TrainedOnce<StripesRun>;

TEST_F(Interpret, ConfusionMatrixAndTopLossesOfTheValidSplit) {
    CommandResult r = runPipeCommand("interpret " + run_.string() + " --top 5");
    ASSERT_EQ(r.status, 0) << r.output;
    fs::path out = run_ / "interpret";

    // The matrix counts each of the 20 valid items once, and its diagonal is
    // the accuracy the training loop measured after its last epoch.
    auto matrix = readCsv(out / "valid-confusion.csv");
    ASSERT_EQ(matrix.size(), 3u);
    EXPECT_EQ(matrix[0], (std::vector<std::string>{"true \\ predicted", "horizontal", "vertical"}));
    int64_t total = 0, right = 0;
    for (size_t i = 1; i < 3; ++i)
        for (size_t j = 1; j < 3; ++j) {
            total += std::stoi(matrix[i][j]);
            if (i == j) right += std::stoi(matrix[i][j]);
        }
    EXPECT_EQ(total, 20);
    auto metrics = readCsv(run_ / "fit" / "metrics.csv");
    double accuracy = std::stod(metrics.back()[3]);
    EXPECT_NEAR(double(right) / double(total), accuracy, 1e-6);
    EXPECT_NE(r.output.find("confusion matrix"), std::string::npos) << r.output;

    // Top losses: five, sorted, each naming its file, whose folder is the
    // true label; predicted labels are classes.
    auto top = readCsv(out / "valid-top-losses.csv");
    ASSERT_EQ(top.size(), 6u);
    EXPECT_EQ(top[0], (std::vector<std::string>{"rank", "item", "true", "predicted", "probability", "loss"}));
    for (size_t i = 1; i < top.size(); ++i) {
        EXPECT_TRUE(fs::exists(top[i][1])) << top[i][1];
        EXPECT_EQ(fs::path(top[i][1]).parent_path().filename().string(), top[i][2]);
        EXPECT_TRUE(top[i][3] == "horizontal" || top[i][3] == "vertical") << top[i][3];
        double probability = std::stod(top[i][4]);
        EXPECT_GE(probability, 0.5);
        EXPECT_LE(probability, 1.0);
        if (i > 1) {
            EXPECT_GE(std::stod(top[i - 1][5]), std::stod(top[i][5]));
        }
    }
    for (const char* picture : {"valid-confusion.png", "valid-top-losses.png"}) {
        Rgba png = readRgb(out / picture);
        EXPECT_GT(png.width, 0) << picture;
    }
    Rgba grid = readRgb(out / "valid-top-losses.png");
    EXPECT_EQ(grid.width, record::gridLayout(5, 2).width);
    EXPECT_EQ(grid.height, record::gridLayout(5, 2).height);
}

TEST_F(Interpret, ClearErrorsForASplitTheDataLacksAndARunWithoutWeights) {
    CommandResult test = runPipeCommand("interpret " + run_.string() + " --split test");
    EXPECT_EQ(test.status, 1) << test.output;
    EXPECT_NE(test.output.find("has no test items"), std::string::npos) << test.output;

    CommandResult unknown = runPipeCommand("interpret " + run_.string() + " --split train");
    EXPECT_EQ(unknown.status, 1) << unknown.output;
    EXPECT_NE(unknown.output.find("unknown split `train`"), std::string::npos) << unknown.output;

    CommandResult notRun = runPipeCommand("interpret " + (*dir_ / "images").string());
    EXPECT_EQ(notRun.status, 1) << notRun.output;
    EXPECT_NE(notRun.output.find("is not a run directory"), std::string::npos) << notRun.output;

    fs::path copy = *dir_ / "copy";
    fs::copy(run_, copy, fs::copy_options::recursive);
    fs::remove(copy / "fit" / "weights.safetensors");
    CommandResult noWeights = runPipeCommand("interpret " + copy.string());
    EXPECT_EQ(noWeights.status, 1) << noWeights.output;
    EXPECT_NE(noWeights.output.find("weights.safetensors` is missing"), std::string::npos) << noWeights.output;
    EXPECT_EQ(noWeights.output.find("terminate"), std::string::npos) << noWeights.output;
}

TEST(LrFind, ValleyAndSuggestionsFollowFastai) {
    // Values worked out with fastai's own `valley` on the same lists.
    EXPECT_EQ(valleyIndex({5, 4, 3, 2, 1, 2, 3}), 0u);
    EXPECT_EQ(valleyIndex({3, 3.1, 2.9, 2.5, 2.6, 2.0, 1.5, 1.4, 1.6, 1.2, 0.9, 1.5, 3, 9}), 5u);
    std::vector<LrStep> steps;
    for (int i = 0; i < 100; ++i) {
        double lr = 1e-7 * std::pow(1e8, i / 100.0);
        double loss = 2.3 - 2 * std::exp(-std::pow((i - 60) / 15.0, 2)) + (i > 60 ? 0.002 * (i - 60) * (i - 60) : 0);
        steps.push_back({lr, loss, loss});
    }
    auto suggestions = suggestRates(steps, 100);
    ASSERT_EQ(suggestions.size(), 3u);
    EXPECT_EQ(suggestions[0].name, "valley");
    EXPECT_DOUBLE_EQ(suggestions[0].lr, steps[10 + 24].lr);  // fastai: valley(losses[10:-5]) is 24
    EXPECT_EQ(suggestions[1].name, "steep");
    EXPECT_EQ(suggestions[2].name, "minimum/10");
    EXPECT_NEAR(suggestions[2].lr, steps[60].lr / 10, 1e-12);
    EXPECT_TRUE(suggestRates({steps.begin(), steps.begin() + 12}, 100).empty());
}

TEST(LrFind, RangeTestOnStripesStopsOnDivergenceAndSuggestsARateInRange) {
    TempDir dir("pipe-lr-find");
    makeStripes(dir.path(), 24);
    fs::path file = writeText(dir / "stripes.pipe", kStripesPipe);
    fs::path out = dir / "found";
    CommandResult r =
        runPipeCommand("lr-find " + file.string() + " --out " + out.string() + " --start 1e-5 --end 1e4 --iters 60");
    ASSERT_EQ(r.status, 0) << r.output;
    auto rows = readCsv(out / "lr_find.csv");
    ASSERT_GE(rows.size(), 3u);
    EXPECT_EQ(rows[0], (std::vector<std::string>{"step", "lr", "loss", "smoothed_loss"}));
    // A rate of 1e4 diverges long before the 60th batch.
    EXPECT_LT(rows.size(), 61u) << r.output;
    EXPECT_NE(r.output.find("stopped at batch"), std::string::npos) << r.output;
    double previous = 0, best = INFINITY;
    for (size_t i = 1; i < rows.size(); ++i) {
        double lr = std::stod(rows[i][1]);
        EXPECT_NEAR(lr, 1e-5 * std::pow(1e9, double(i - 1) / 60), lr * 1e-6);
        EXPECT_GT(lr, previous);
        previous = lr;
        double smoothed = std::stod(rows[i][3]);
        if (i + 1 < rows.size()) {
            EXPECT_LE(smoothed, 4 * std::min(best, smoothed) + 1e-9);
        }
        best = std::min(best, smoothed);
    }
    size_t at = r.output.find("valley");
    ASSERT_NE(at, std::string::npos) << r.output;
    double valley = std::stod(r.output.substr(r.output.find_first_not_of(' ', at + 6)));
    EXPECT_GE(valley, 1e-5);
    EXPECT_LE(valley, previous);
    for (const char* picture : {"lr_find.png", "lr_find.svg", "lr_find.gp"})
        EXPECT_TRUE(fs::exists(out / picture)) << picture;
    EXPECT_GT(readRgb(out / "lr_find.png").width, 0);
}

TEST(LrFind, BadRangesAndMissingFilesAreOneClearError) {
    TempDir dir("pipe-lr-find-bad");
    CommandResult missing = runPipeCommand("lr-find " + (dir / "none.pipe").string());
    EXPECT_EQ(missing.status, 1) << missing.output;
    EXPECT_NE(missing.output.find("does not exist"), std::string::npos) << missing.output;
    fs::path file = writeText(dir / "x.pipe", kStripesPipe);
    CommandResult backwards = runPipeCommand("lr-find " + file.string() + " --start 1 --end 1e-3");
    EXPECT_EQ(backwards.status, 1) << backwards.output;
    EXPECT_NE(backwards.output.find("0 < --start < --end"), std::string::npos) << backwards.output;
}

}  // namespace
}  // namespace pipelang::runtime
