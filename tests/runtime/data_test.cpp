// The data runtime: sources, labels, splits, transforms, statistics and the
// loader, on the real Fashion-MNIST and on small files made here.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <unistd.h>

#include "interpreter/compile.h"
#include "runtime/data/dataset.h"
#include "runtime/data/geometry.h"
#include "runtime/data/image.h"
#include "runtime/data/random.h"
#include "runtime/data/table.h"
#include "runtime/data/transforms.h"
#include "runtime/error.h"
#include "tests/runtime/compiled.h"
#include "tests/runtime/temp_dir.h"

namespace pipelang::runtime {
namespace {

namespace fs = std::filesystem;

const fs::path kFashion = "/usr/share/datasets/fashion-mnist";

Image gradient(int channels, int height, int width) {
    Image image(channels, height, width);
    for (int c = 0; c < channels; ++c)
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x) image.at(c, y, x) = uint8_t((c * 80 + y * 16 + x * 3) % 256);
    return image;
}

Image solid(int channels, int height, int width, std::array<uint8_t, 3> color) {
    Image image(channels, height, width);
    for (int c = 0; c < channels; ++c) std::fill_n(image.plane(c), size_t(height) * width, color[size_t(c)]);
    return image;
}

// ---- Fashion-MNIST, as Debian ships it ---------------------------------------

const char* kFashionPipe = R"(
data d {
    source     = idx("/usr/share/datasets/fashion-mnist", train = "train", test = "t10k")
    blocks     = (image(channels = 1), category)
    split      = random(valid = 0.1, seed = 42)
    item       = [pad(2), random_crop(28), flip()]
    batch      = [normalize()]
    batch_size = 128
}
)";

class DataFashion : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!fs::exists(kFashion / "train-images-idx3-ubyte.gz")) return;
        dir_ = new TempDir;
        data_ = prepare(dir_->path(), kFashionPipe).release();
    }
    static void TearDownTestSuite() {
        delete data_;
        delete dir_;
        data_ = nullptr;
        dir_ = nullptr;
    }
    void SetUp() override {
        if (!data_) GTEST_SKIP() << "Fashion-MNIST is not installed (apt install dataset-fashion-mnist)";
    }
    static TempDir* dir_;
    static PreparedData* data_;
};
TempDir* DataFashion::dir_ = nullptr;
PreparedData* DataFashion::data_ = nullptr;

TEST_F(DataFashion, SplitsAndClasses) {
    EXPECT_EQ(data_->size(Split::Train), 54000);
    EXPECT_EQ(data_->size(Split::Valid), 6000);
    EXPECT_EQ(data_->size(Split::Test), 10000);
    const auto& info = data_->info();
    EXPECT_EQ(info.input, "image");
    EXPECT_EQ(info.target, "category");
    EXPECT_EQ(info.itemShape, (std::vector<int64_t>{1, 28, 28}));
    EXPECT_EQ(info.outputs, 10);
    EXPECT_EQ(info.classes, (std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                                      "Shirt", "Sneaker", "Bag", "Ankle boot"}));
}

TEST_F(DataFashion, NormalizeStatsMatchTheKnownOnes) {
    TempDir run;
    data_->save(run.path());
    auto stats = nlohmann::json::parse(std::ifstream(run / "stats.json"));
    ASSERT_TRUE(stats["normalize"].get<bool>());
    EXPECT_NEAR(stats["mean"][0].get<double>(), 0.286, 0.005);
    EXPECT_NEAR(stats["std"][0].get<double>(), 0.353, 0.005);
    auto classes = nlohmann::json::parse(std::ifstream(run / "classes.json"));
    EXPECT_EQ(classes["classes"].size(), 10u);
    EXPECT_EQ(classes["classes"][9], "Ankle boot");

    // Validation batches, normalised, have about mean 0 and deviation 1.
    auto batch = data_->loader(Split::Valid, 1000, 2)->next();
    ASSERT_TRUE(batch);
    EXPECT_NEAR(batch->x.mean().item<double>(), 0.0, 0.05);
    EXPECT_NEAR(batch->x.std().item<double>(), 1.0, 0.05);
}

TEST_F(DataFashion, BatchesHaveTheContractsShapes) {
    auto loader = data_->loader(Split::Train, 128, 2);
    EXPECT_EQ(loader->batches(), 54000 / 128);  // training drops the last, smaller batch
    loader->start(0);
    auto b = loader->next();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->x.sizes(), (std::vector<int64_t>{128, 1, 28, 28}));
    EXPECT_EQ(b->x.dtype(), torch::kFloat32);
    EXPECT_EQ(b->y.sizes(), (std::vector<int64_t>{128}));
    EXPECT_EQ(b->y.dtype(), torch::kInt64);
    EXPECT_EQ(b->index.size(), 128u);
    EXPECT_GE(b->y.min().item<int64_t>(), 0);
    EXPECT_LT(b->y.max().item<int64_t>(), 10);

    auto test = data_->loader(Split::Test, 128, 2);
    EXPECT_EQ(test->batches(), (10000 + 127) / 128);  // the others keep every item
    int64_t items = 0;
    while (auto t = test->next()) items += t->size();
    EXPECT_EQ(items, 10000);
}

TEST_F(DataFashion, TrainingEpochIsTheSameWithOneOrFourWorkers) {
    auto one = epoch(*data_, Split::Train, 128, 1, 3);
    auto four = epoch(*data_, Split::Train, 128, 4, 3);
    ASSERT_EQ(one.size(), four.size());
    ASSERT_EQ(one.size(), size_t(54000 / 128));
    for (size_t i = 0; i < one.size(); ++i) {
        ASSERT_TRUE(torch::equal(one[i].x, four[i].x)) << "batch " << i;
        ASSERT_TRUE(torch::equal(one[i].y, four[i].y)) << "batch " << i;
        ASSERT_EQ(one[i].index, four[i].index);
    }
    // Synchronous loading (0 workers) gives the same batches too.
    auto none = data_->loader(Split::Train, 128, 0);
    none->start(3);
    auto first = none->next();
    EXPECT_TRUE(torch::equal(first->x, one[0].x));
}

TEST_F(DataFashion, EpochsShuffleDifferentlyAndValidationIsFixed) {
    auto a = data_->loader(Split::Train, 128, 2);
    a->start(0);
    auto e0 = a->next();
    a->start(1);
    auto e1 = a->next();
    EXPECT_NE(e0->index, e1->index);

    auto v0 = epoch(*data_, Split::Valid, 500, 2, 0);
    auto v1 = epoch(*data_, Split::Valid, 500, 3, 7);
    ASSERT_EQ(v0.size(), v1.size());
    for (size_t i = 0; i < v0.size(); ++i) EXPECT_TRUE(torch::equal(v0[i].x, v1[i].x));
    EXPECT_EQ(v0[0].index[0], 0);
    EXPECT_EQ(v0[0].index[1], 1);
}

TEST_F(DataFashion, RandomTransformsTouchTrainingOnly) {
    // The same training item differs between epochs (crop and flip), while its
    // validation view equals the raw image, scaled.
    auto later = data_->loader(Split::Train, 128, 2);
    later->start(1);
    Batch b1 = *later->next();
    std::map<int64_t, int64_t> wanted;  // item → its row in b1
    for (size_t j = 0; j < b1.index.size(); ++j) wanted[b1.index[j]] = int64_t(j);
    int64_t differ = 0, compared = 0;
    auto loader = data_->loader(Split::Train, 128, 2);
    loader->start(0);
    while (auto b = loader->next())
        for (size_t j = 0; j < b->index.size(); ++j)
            if (auto it = wanted.find(b->index[j]); it != wanted.end()) {
                ++compared;
                differ += !torch::equal(b->x[int64_t(j)], b1.x[it->second]);
            }
    EXPECT_GT(compared, 100);
    EXPECT_GT(differ, compared / 2);
}

TEST_F(DataFashion, LoaderThroughput) {
    for (int64_t workers : {1, 2}) {
        auto loader = data_->loader(Split::Train, 128, workers);
        loader->start(0);
        auto start = std::chrono::steady_clock::now();
        int64_t items = 0;
        while (auto b = loader->next()) items += b->size();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf(
            "[ info     ] Fashion-MNIST training epoch, pad+random_crop+flip+normalize, %lld worker(s): "
            "%.0f items/s\n",
            (long long)workers, double(items) / seconds);
        EXPECT_EQ(items, 54000 / 128 * 128);
    }
}

TEST(DataIdx, MissingFolderIsAClearError) {
    TempDir dir;
    auto c = compile(dir.path(), R"(
data d {
    source = idx("no-such-folder")
    blocks = (image(channels = 1), category)
}
)");
    std::string message = errorOf([&] { prepareData(*c.data, dir.path(), 1); });
    EXPECT_NE(message.find("no-such-folder"), std::string::npos) << message;
}

TEST(DataIdx, BadMagicNumberIsAClearError) {
    TempDir dir;
    // A label file where the image file should be.
    std::string labels = std::string("\0\0\x08\x01\0\0\0\x02", 8) + std::string("\x01\x02", 2);
    writeText(dir / "mnist/train-images-idx3-ubyte", labels);
    writeText(dir / "mnist/train-labels-idx1-ubyte", labels);
    auto c = compile(dir.path(), R"(
data d {
    source = idx("mnist", test = "")
    blocks = (image(channels = 1), category)
}
)");
    std::string message = errorOf([&] { prepareData(*c.data, dir.path(), 1); });
    EXPECT_NE(message.find("magic number 0x00000801 instead of 0x00000803"), std::string::npos) << message;
    EXPECT_NE(message.find("train-images-idx3-ubyte"), std::string::npos) << message;
}

// ---- an image folder -------------------------------------------------------

// train/{cat,dog} and valid/{cat,dog}: PNG cats (red), JPEG dogs (blue), of
// different sizes.
void makeImageFolder(const fs::path& root) {
    for (const char* split : {"train", "valid"})
        for (int i = 0; i < (std::string(split) == "train" ? 6 : 2); ++i) {
            fs::create_directories(root / split / "cat");
            fs::create_directories(root / split / "dog");
            writePng(root / split / "cat" / ("c" + std::to_string(i) + ".png"), solid(3, 20 + i, 24, {250, 10, 10}));
            writeJpeg(root / split / "dog" / ("d" + std::to_string(i) + ".JPG"), solid(3, 32, 16 + i, {10, 10, 250}));
        }
    writeText(root / "notes.txt", "not an image");
}

TEST(DataFolder, LabelsByParentFolderAndFolderSplit) {
    TempDir dir;
    makeImageFolder(dir / "pets");
    auto data = prepare(dir.path(), R"(
data d {
    source     = folder("pets")
    blocks     = (image, category)
    label      = parent_label
    split      = folder()
    item       = [resize(12), flip()]
    batch_size = 4
}
)");
    ASSERT_TRUE(data);
    EXPECT_EQ(data->size(Split::Train), 12);
    EXPECT_EQ(data->size(Split::Valid), 4);
    EXPECT_EQ(data->size(Split::Test), 0);
    EXPECT_EQ(data->info().classes, (std::vector<std::string>{"cat", "dog"}));
    EXPECT_EQ(data->info().itemShape, (std::vector<int64_t>{3, 12, 12}));

    auto batches = epoch(*data, Split::Valid, 4, 2);
    ASSERT_EQ(batches.size(), 1u);
    const Batch& b = batches[0];
    EXPECT_EQ(b.x.sizes(), (std::vector<int64_t>{4, 3, 12, 12}));
    // Sorted listing: valid/cat/c0.png, valid/cat/c1.png, valid/dog/d0.JPG, valid/dog/d1.JPG.
    EXPECT_EQ(b.y[0].item<int64_t>(), 0);
    EXPECT_EQ(b.y[3].item<int64_t>(), 1);
    // A red cat and a blue dog, decoded (JPEG within a few levels).
    EXPECT_NEAR(b.x[0][0].mean().item<double>(), 250 / 255.0, 0.01);
    EXPECT_NEAR(b.x[0][2].mean().item<double>(), 10 / 255.0, 0.01);
    EXPECT_NEAR(b.x[3][2].mean().item<double>(), 250 / 255.0, 0.03);
    EXPECT_NEAR(b.x[3][0].mean().item<double>(), 10 / 255.0, 0.03);

    // Streaming through the workers gives the same training epoch as one thread.
    auto one = epoch(*data, Split::Train, 4, 1, 2), three = epoch(*data, Split::Train, 4, 3, 2);
    ASSERT_EQ(one.size(), 3u);
    for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(torch::equal(one[i].x, three[i].x));

    // `pipe predict` makes the same inputs from the run folder alone.
    TempDir run;
    data->save(run.path());
    auto c = compile(dir.path(), R"(
data d {
    source = folder("elsewhere")
    blocks = (image, category)
    item   = [resize(12), flip()]
}
)");
    auto encoder = loadInputEncoder(*c.data, dir.path(), run.path());
    EXPECT_EQ(encoder->info().classes, (std::vector<std::string>{"cat", "dog"}));
    auto inputs = encoder->encode({dir / "pets/valid/cat/c1.png", dir / "pets/valid/dog/d0.JPG"});
    ASSERT_EQ(inputs.names.size(), 2u);
    EXPECT_TRUE(torch::equal(inputs.batch.x, b.x.slice(0, 1, 3)));
    EXPECT_NE(errorOf([&] { loadInputEncoder(*c.data, dir.path(), dir / "no-run"); }).find("classes.json"),
              std::string::npos);
}

TEST(DataFolder, GreyscaleRandomSplitAndSave) {
    TempDir dir;
    makeImageFolder(dir / "pets");
    auto data = prepare(dir.path(), R"(
data d {
    source = folder("pets", extensions = [".png", ".jpg"])
    blocks = (image(channels = 1, size = [8, 10]), category)
    split  = random(valid = 0.25, seed = 3)
    batch  = [normalize(mean = [0.5], std = [0.25])]
}
)");
    ASSERT_TRUE(data);
    EXPECT_EQ(data->size(Split::Train) + data->size(Split::Valid), 16);
    EXPECT_EQ(data->size(Split::Valid), 4);
    EXPECT_EQ(data->info().itemShape, (std::vector<int64_t>{1, 8, 10}));
    TempDir run;
    data->save(run.path());
    auto stats = nlohmann::json::parse(std::ifstream(run / "stats.json"));
    EXPECT_EQ(stats["mean"][0].get<double>(), 0.5);
    EXPECT_EQ(stats["std"][0].get<double>(), 0.25);
    EXPECT_EQ(stats["channels"].get<int>(), 1);
}

TEST(DataFolder, ImagesOfDifferentSizesNeedAResize) {
    TempDir dir;
    makeImageFolder(dir / "pets");
    auto data = prepare(dir.path(), R"(
data d {
    source = folder("pets")
    blocks = (image, category)
    split  = folder()
}
)");
    ASSERT_TRUE(data);
    std::string message = errorOf([&] { epoch(*data, Split::Train, 16, 2); });
    EXPECT_NE(message.find("resize"), std::string::npos) << message;
}

TEST(DataFolder, CorruptImageIsNamed) {
    TempDir dir;
    makeImageFolder(dir / "pets");
    writeText(dir / "pets/train/cat/broken.png", "\x89PNG\r\n\x1a\n garbage");
    std::string message = errorOf([&] {
        auto data = prepare(dir.path(), R"(
data d {
    source = folder("pets")
    blocks = (image, category)
    split  = folder()
    item   = [resize(8)]
}
)");
        epoch(*data, Split::Train, 4, 2);
    });
    EXPECT_NE(message.find("broken.png"), std::string::npos) << message;
}

TEST(DataFolder, UnreadableImagesAreSkippedAndNamedWhenAsked) {
    TempDir dir;
    makeImageFolder(dir / "pets");
    writeText(dir / "pets/train/cat/broken.png", "\x89PNG\r\n\x1a\n garbage");
    writeText(dir / "pets/train/dog/truncated.jpg", "\xff\xd8\xff");
    testing::internal::CaptureStderr();
    auto data = prepare(dir.path(), R"(
data d {
    source = folder("pets")
    blocks = (image(on_bad = "skip"), category)
    split  = folder()
    item   = [resize(8)]
}
)");
    std::string note = testing::internal::GetCapturedStderr();
    ASSERT_TRUE(data);
    EXPECT_EQ(data->size(Split::Train), 12);  // the 12 good ones; the 2 bad ones are gone
    EXPECT_NE(note.find("skipped 2 unreadable images of 18"), std::string::npos) << note;
    EXPECT_NE(note.find("broken.png"), std::string::npos) << note;
    EXPECT_NE(note.find("truncated.jpg"), std::string::npos) << note;
    int64_t served = 0;
    for (const Batch& b : epoch(*data, Split::Train, 4, 2)) served += b.size();
    EXPECT_EQ(served, 12);
}

TEST(DataFolder, ValidationLabelNeverSeenInTrainingIsAnError) {
    TempDir dir;
    makeImageFolder(dir / "pets");
    fs::create_directories(dir / "pets/valid/bird");
    writePng(dir / "pets/valid/bird/b.png", solid(3, 8, 8, {1, 2, 3}));
    auto c = compile(dir.path(), R"(
data d {
    source = folder("pets")
    blocks = (image, category)
    split  = folder()
}
)");
    std::string message = errorOf([&] { prepareData(*c.data, dir.path(), 1); });
    EXPECT_NE(message.find("`bird`"), std::string::npos) << message;
    EXPECT_NE(message.find("never in training"), std::string::npos) << message;
}

TEST(DataFolder, CsvOfPathsWithRegexAndMultiCategory) {
    TempDir dir;
    makeImageFolder(dir / "pets");
    writeText(dir / "labels.csv",
              "file,tags\n"
              "pets/train/cat/c0.png,red small\n"
              "pets/train/dog/d0.JPG,blue\n"
              "pets/train/cat/c1.png,red\n"
              "pets/train/dog/d1.JPG,blue small\n");
    auto data = prepare(dir.path(), R"(
data d {
    source = csv("labels.csv")
    blocks = (image(size = 8), multi_category)
    x      = column("file")
    y      = column("tags")
    split  = random(valid = 0, seed = 1)
}
)");
    ASSERT_TRUE(data);
    EXPECT_EQ(data->info().classes, (std::vector<std::string>{"blue", "red", "small"}));
    EXPECT_EQ(data->size(Split::Valid), 0);
    EXPECT_EQ(data->size(Split::Train), 4);
    auto train = data->loader(Split::Train, 4, 1);
    auto batch = train->next();
    ASSERT_TRUE(batch);
    EXPECT_EQ(batch->y.sizes(), (std::vector<int64_t>{4, 3}));
    EXPECT_EQ(batch->y.dtype(), torch::kFloat32);
    EXPECT_EQ(batch->y.sum().item<float>(), 6.f);

    auto byName = prepare(dir.path(), R"(
data d {
    source = folder("pets")
    blocks = (image(size = 8), category)
    label  = regex("/([a-z])[0-9]+\\.", group = 1)
    split  = stratified(valid = 0.5, seed = 9)
}
)");
    ASSERT_TRUE(byName);
    EXPECT_EQ(byName->info().classes, (std::vector<std::string>{"c", "d"}));
    EXPECT_EQ(byName->size(Split::Valid), 8);  // half of each class

    auto byFile = prepare(dir.path(), R"(
data d {
    source = folder("pets/train/cat")
    blocks = (image(size = 8), category)
    label  = filename
    split  = random(valid = 0, seed = 1)
}
)");
    ASSERT_TRUE(byFile);
    EXPECT_EQ(byFile->info().classes, (std::vector<std::string>{"c0", "c1", "c2", "c3", "c4", "c5"}));
}

TEST(DataFolder, StreamingThroughput) {
    // 256 textured 320×256 JPEGs, decoded and augmented as a fine-tuning run would.
    TempDir dir;
    fs::create_directories(dir / "photos/a");
    fs::create_directories(dir / "photos/b");
    Rng rng(1);
    for (int i = 0; i < 256; ++i) {
        Image image(3, 256, 320);
        for (auto& p : image.pixels) p = uint8_t(rng.below(64));
        for (int c = 0; c < 3; ++c)
            for (int y = 0; y < 256; ++y)
                for (int x = 0; x < 320; ++x) image.at(c, y, x) += uint8_t((x + y * (c + 1) + i) % 192);
        writeJpeg(dir / (i % 2 ? "photos/a" : "photos/b") / ("p" + std::to_string(i) + ".jpg"), image, 90);
    }
    auto data = prepare(dir.path(), R"(
data d {
    source = folder("photos")
    blocks = (image, category)
    split  = random(valid = 0, seed = 1)
    item   = [resize(224, method = "crop"), flip(), brightness()]
    batch  = [normalize(mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225])]
    cache  = false
}
)");
    ASSERT_TRUE(data);
    for (int64_t workers : {1, 2}) {
        auto loader = data->loader(Split::Train, 32, workers);
        loader->start(0);
        auto start = std::chrono::steady_clock::now();
        int64_t items = 0;
        while (auto b = loader->next()) items += b->size();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf(
            "[ info     ] 320x256 JPEG folder, decode+resize(224, crop)+flip+brightness+normalize, %lld "
            "worker(s): %.0f items/s\n",
            (long long)workers, double(items) / seconds);
        EXPECT_EQ(items, 256);
    }
}

// ---- CSV, JSON -------------------------------------------------------------

TEST(DataTable, CsvQuotesEscapesAndNewlines) {
    Table t = parseCsv(
        "name,comment,n\r\n"
        "\"Smith, J\",\"said \"\"hi\"\"\",1\r\n"
        "plain,\"two\nlines\",2\n"
        "empty,,3\n",
        "t.csv");
    ASSERT_EQ(t.columns, (std::vector<std::string>{"name", "comment", "n"}));
    ASSERT_EQ(t.size(), 3);
    EXPECT_EQ(t.cell(0, 0), "Smith, J");
    EXPECT_EQ(t.cell(0, 1), "said \"hi\"");
    EXPECT_EQ(t.cell(1, 1), "two\nlines");
    EXPECT_EQ(t.cell(2, 1), "");
    EXPECT_EQ(t.lines, (std::vector<int64_t>{2, 3, 5}));

    Table tabs = parseCsv("a\tb\n1\t2\n", "t.tsv", '\t', false);
    EXPECT_EQ(tabs.columns, (std::vector<std::string>{"0", "1"}));
    EXPECT_EQ(tabs.size(), 2);
}

TEST(DataTable, RaggedRowNamesItsLine) {
    std::string message = errorOf([] { parseCsv("a,b\n1,2\n\"x\ny\",2\n1,2,3\n", "r.csv"); });
    EXPECT_NE(message.find("`r.csv` line 5 has 3 fields where the header has 2"), std::string::npos) << message;
    message = errorOf([] { parseCsv("a,b\n\"open,2\n", "q.csv"); });
    EXPECT_NE(message.find("never closed"), std::string::npos) << message;
}

TEST(DataTable, JsonAndJsonLines) {
    TempDir dir;
    writeText(dir / "a.json", R"([{"x": 1.5, "c": "u", "y": "p"}, {"x": null, "c": "v", "y": "q", "extra": true}])");
    writeText(dir / "b.jsonl", "{\"x\": 2, \"y\": \"p\"}\n\n{\"x\": 3, \"y\": [\"p\", \"q\"]}\n");
    Table a = readJsonArray(dir / "a.json");
    EXPECT_EQ(a.columns, (std::vector<std::string>{"c", "x", "y", "extra"}));
    EXPECT_EQ(a.cell(0, 1), "1.5");
    EXPECT_EQ(a.cell(1, 1), "");
    EXPECT_EQ(a.cell(0, 3), "");
    EXPECT_EQ(a.cell(1, 3), "true");
    Table b = readJsonLines(dir / "b.jsonl");
    EXPECT_EQ(b.size(), 2);
    EXPECT_EQ(b.cell(1, 1), "p q");
    writeText(dir / "bad.jsonl", "{\"x\": 1}\n{oops\n");
    std::string message = errorOf([&] { readJsonLines(dir / "bad.jsonl"); });
    EXPECT_NE(message.find("line 2"), std::string::npos) << message;
    // A number past a double's range is nlohmann's out_of_range, not a parse_error (found by tests/fuzz).
    message = errorOf([&] { parseJsonLines("{\"x\": 2}\n{\"x\": 1e400}\n", "big.jsonl"); });
    EXPECT_NE(message.find("`big.jsonl` line 2 is not valid JSON"), std::string::npos) << message;
    message = errorOf([&] { parseJsonArray("[{\"x\": -99e9900}]", "big.json"); });
    EXPECT_NE(message.find("`big.json` is not valid JSON"), std::string::npos) << message;
    // Printing a cell nested this deep would overflow the stack (found by tests/fuzz).
    std::string deep = std::string(30000, '[') + std::string(30000, ']');
    message = errorOf([&] { parseJsonArray("[{\"x\": " + deep + "}]", "deep.json"); });
    EXPECT_NE(message.find("`deep.json` nests arrays and objects deeper than 100 levels"), std::string::npos)
        << message;
    message = errorOf([&] { parseJsonLines("{\"x\": 1}\n{\"x\": " + deep + "}\n", "deep.jsonl"); });
    EXPECT_NE(message.find("`deep.jsonl` line 2 nests"), std::string::npos) << message;
}

// ---- tabular ---------------------------------------------------------------

const char* kHouses =
    "area,rooms,city,price,is_valid\n"
    "50,2,north,100,0\n"
    ",3,south,150,0\n"
    "70,,north,140,0\n"
    "80,4,,160,0\n"
    "90,4,south,,0\n"
    "100,5,east,200,0\n"
    "60,3,north,120,1\n"
    ",2,west,90,1\n";

TEST(DataTabular, FillMissingNormaliseAndCategorify) {
    TempDir dir;
    writeText(dir / "houses.csv", kHouses);
    testing::internal::CaptureStderr();
    auto data = prepare(dir.path(), R"(
data d {
    source = csv("houses.csv")
    blocks = (tabular(cont = ["area", "rooms"], cat = ["city"]), number)
    y      = column("price")
    split  = column("is_valid")
}
)");
    std::string log = testing::internal::GetCapturedStderr();
    ASSERT_TRUE(data);
    EXPECT_NE(log.find("dropped 1 of 8 items without a target"), std::string::npos) << log;
    EXPECT_EQ(data->size(Split::Train), 5);
    EXPECT_EQ(data->size(Split::Valid), 2);
    const auto& info = data->info();
    EXPECT_EQ(info.input, "tabular");
    EXPECT_EQ(info.target, "number");
    EXPECT_EQ(info.outputs, 1);
    EXPECT_EQ(info.continuous, 4);                             // area, rooms, area_na, rooms_na
    EXPECT_EQ(info.cardinalities, (std::vector<int64_t>{4}));  // #na#, east, north, south

    auto valid = epoch(*data, Split::Valid, 10, 0);
    ASSERT_EQ(valid.size(), 1u);
    const Batch& v = valid[0];
    EXPECT_EQ(v.x.sizes(), (std::vector<int64_t>{2, 4}));
    EXPECT_EQ(v.xCat.sizes(), (std::vector<int64_t>{2, 1}));
    EXPECT_EQ(v.y[1].item<float>(), 90.f);
    EXPECT_EQ(v.x[1][2].item<float>(), 1.f);  // the west row's area was missing
    EXPECT_EQ(v.x[0][2].item<float>(), 0.f);
    EXPECT_EQ(v.xCat[1][0].item<int64_t>(), 0);  // west: never seen in training

    TempDir run;
    data->save(run.path());
    auto stats = nlohmann::json::parse(std::ifstream(run / "stats.json"));
    // Training areas 50, (missing), 70, 80, 100: median 75 fills the gap.
    EXPECT_EQ(stats["continuous"][0]["median"].get<double>(), 75.0);
    EXPECT_EQ(stats["features"], (std::vector<std::string>{"area", "rooms", "area_na", "rooms_na"}));

    // `pipe predict` encodes rows of a new table with the training statistics.
    writeText(dir / "new.csv", "city,area,rooms\nwest,,2\nnorth,60,3\n");
    auto c = compile(dir.path(),
                     R"(data d { source = csv("houses.csv")  blocks = (tabular, number)  y = column("price") })");
    auto encoder = loadInputEncoder(*c.data, dir.path(), run.path());
    EXPECT_EQ(encoder->info().continuous, 4);
    EXPECT_EQ(encoder->info().cardinalities, (std::vector<int64_t>{4}));
    testing::internal::CaptureStderr();
    auto inputs = encoder->encode({dir / "new.csv"});
    std::string note = testing::internal::GetCapturedStderr();
    EXPECT_NE(note.find("`city` \"west\" was never seen in training"), std::string::npos) << note;
    EXPECT_EQ(inputs.names[1], (dir / "new.csv").string() + " line 3");
    EXPECT_TRUE(torch::allclose(inputs.batch.x, v.x.flip({0})));
    EXPECT_TRUE(torch::equal(inputs.batch.xCat, v.xCat.flip({0})));

    // Training features are normalised: mean 0, deviation 1 (population, as fastai).
    auto all = epoch(*data, Split::Train, 5, 0);
    ASSERT_EQ(all.size(), 1u);
    auto area = all[0].x.select(1, 0);
    EXPECT_NEAR(area.mean().item<double>(), 0, 1e-5);
    EXPECT_NEAR((area * area).mean().item<double>(), 1, 1e-5);
}

TEST(DataTabular, DropMissingAndCategoryTarget) {
    TempDir dir;
    writeText(dir / "houses.csv", kHouses);
    testing::internal::CaptureStderr();
    auto data = prepare(dir.path(), R"(
data d {
    source = csv("houses.csv")
    blocks = (tabular(cont = ["area", "rooms"], cat = ["city"], missing = "drop"), category)
    y      = column("city")
    split  = column("is_valid")
}
)");
    std::string log = testing::internal::GetCapturedStderr();
    ASSERT_TRUE(data);
    EXPECT_NE(log.find("dropped 1 of 8 items without a target"), std::string::npos) << log;
    EXPECT_NE(log.find("dropped 3 of 7 rows with missing values"), std::string::npos) << log;
    EXPECT_EQ(data->size(Split::Train), 3);  // 50/2/north, 90/4/south, 100/5/east
    EXPECT_EQ(data->size(Split::Valid), 1);  // 60/3/north
    EXPECT_EQ(data->info().continuous, 2);   // nothing is missing any more: no indicators
    EXPECT_EQ(data->info().classes, (std::vector<std::string>{"east", "north", "south"}));
}

TEST(DataTabular, TextInAContinuousColumnIsNamed) {
    TempDir dir;
    writeText(dir / "t.csv", "a,y\n1,x\nabc,y\n");
    auto c = compile(dir.path(), R"(
data d {
    source = csv("t.csv")
    blocks = (tabular(cont = ["a"]), category)
    y      = column("y")
    split  = random(valid = 0, seed = 1)
}
)");
    std::string message = errorOf([&] { prepareData(*c.data, dir.path(), 1); });
    EXPECT_NE(message.find("line 3"), std::string::npos) << message;
    EXPECT_NE(message.find("`abc`"), std::string::npos) << message;
}

// ---- splits ----------------------------------------------------------------

std::string groupsCsv() {
    std::string text = "f,label,group\n";
    for (int i = 0; i < 60; ++i)
        text += std::to_string(i) + "," + (i % 3 == 0 ? "a" : "b") + ",g" + std::to_string(i % 7) + "\n";
    return text;
}

TEST(DataSplits, KfoldsPartitionTheItemsAndGroupsNeverLeak) {
    TempDir dir;
    writeText(dir / "g.csv", groupsCsv());
    std::set<int64_t> seen;
    int64_t total = 0;
    for (int fold = 0; fold < 3; ++fold) {
        auto data = prepare(dir.path(), R"(
data d {
    source = csv("g.csv")
    blocks = (tabular(cont = ["f"], cat = ["group"]), category)
    y      = column("label")
    split  = group_kfold(k = 3, group = column("group"), seed = 5)
    fold   = )" + std::to_string(fold) + "\n}\n");
        ASSERT_TRUE(data);
        EXPECT_EQ(data->size(Split::Train) + data->size(Split::Valid), 60);
        EXPECT_EQ(data->info().folds, 3);
        total += data->size(Split::Valid);
        auto valid = epoch(*data, Split::Valid, 100, 0)[0];
        auto train = epoch(*data, Split::Train, data->size(Split::Train), 0)[0];
        std::set<int64_t> validGroups, trainGroups;
        for (int64_t i = 0; i < valid.size(); ++i) validGroups.insert(valid.xCat[i][0].item<int64_t>());
        for (int64_t i = 0; i < train.size(); ++i) trainGroups.insert(train.xCat[i][0].item<int64_t>());
        // Validation groups are unseen in training, so they all code as missing (0).
        EXPECT_EQ(validGroups, (std::set<int64_t>{0}));
        EXPECT_EQ(trainGroups.count(0), 0u);
    }
    EXPECT_EQ(total, 60);
}

TEST(DataSplits, StratifiedKfoldKeepsClassShares) {
    TempDir dir;
    writeText(dir / "g.csv", groupsCsv());
    for (int fold = 0; fold < 4; ++fold) {
        auto data = prepare(dir.path(), R"(
data d {
    source = csv("g.csv")
    blocks = (tabular(cont = ["f"]), category)
    y      = column("label")
    split  = stratified_kfold(k = 4, seed = 5)
    fold   = )" + std::to_string(fold) + "\n}\n");
        ASSERT_TRUE(data);
        auto valid = epoch(*data, Split::Valid, 100, 0)[0];
        EXPECT_EQ(valid.size(), 15);
        EXPECT_EQ((valid.y == 0).sum().item<int64_t>(), 5);  // 20 `a` items, a quarter each
    }
}

TEST(DataSplits, SplitsRepeatFromTheirSeed) {
    TempDir dir;
    writeText(dir / "g.csv", groupsCsv());
    auto text = [](int seed) {
        return R"(
data d {
    source = csv("g.csv")
    blocks = (tabular(cont = ["f"]), category)
    y      = column("label")
    split  = random(valid = 0.2, seed = )" +
               std::to_string(seed) + ")\n}\n";
    };
    auto validOf = [&](int seed) {
        auto data = prepare(dir.path(), text(seed));
        return epoch(*data, Split::Valid, 100, 0)[0].x.select(1, 0).clone();
    };
    EXPECT_TRUE(torch::equal(validOf(1), validOf(1)));
    EXPECT_FALSE(torch::equal(validOf(1), validOf(2)));
    EXPECT_EQ(validOf(1).size(0), 12);
}

// ---- transforms ------------------------------------------------------------

TEST(DataTransforms, FlipMirrorsAKnownImage) {
    Image image(1, 2, 3);
    image.pixels = {1, 2, 3, 4, 5, 6};
    EXPECT_EQ(flip(image, false).pixels, (std::vector<uint8_t>{3, 2, 1, 6, 5, 4}));
    EXPECT_EQ(flip(image, true).pixels, (std::vector<uint8_t>{4, 5, 6, 1, 2, 3}));

    // flip(p = 1) always flips training items, never validation ones.
    ItemTransforms flips({flipTransform(1, false)});
    Rng rng(1);
    EXPECT_EQ(flips.apply(image, rng, true).pixels, (std::vector<uint8_t>{3, 2, 1, 6, 5, 4}));
    EXPECT_EQ(flips.apply(image, rng, false).pixels, image.pixels);
}

TEST(DataTransforms, CropsAndPads) {
    Image image = gradient(3, 10, 7);
    Image c = centerCrop(image, 4, 3);
    EXPECT_EQ(c.channels, 3);
    EXPECT_EQ(c.height, 4);
    EXPECT_EQ(c.width, 3);
    EXPECT_EQ(c.at(1, 0, 0), image.at(1, 3, 2));
    Image bigger = centerCrop(image, 12, 9);  // a crop larger than the image pads with zeros
    EXPECT_EQ(bigger.at(0, 0, 0), 0);
    EXPECT_EQ(bigger.at(2, 1, 1), image.at(2, 0, 0));

    Image p = pad(image, 2, 2, 2, 2, PadMode::Reflect);
    EXPECT_EQ(p.height, 14);
    EXPECT_EQ(p.at(0, 0, 2), image.at(0, 2, 0));
    EXPECT_EQ(p.at(0, 2, 0), image.at(0, 0, 2));
    Image z = pad(image, 1, 1, 1, 1, PadMode::Zeros);
    EXPECT_EQ(z.at(0, 0, 0), 0);
    Image b = pad(image, 1, 1, 1, 1, PadMode::Border);
    EXPECT_EQ(b.at(2, 0, 0), image.at(2, 0, 0));

    ItemTransforms crops({randomCropTransform(5, 5)});
    std::set<std::vector<uint8_t>> seen;
    for (uint64_t i = 0; i < 20; ++i) {
        Rng rng(7, 0, i);
        Image out = crops.apply(image, rng, true);
        EXPECT_EQ(out.height, 5);
        EXPECT_EQ(out.width, 5);
        seen.insert(out.pixels);
    }
    EXPECT_GT(seen.size(), 3u);  // random places in training
    Rng rng(1);
    EXPECT_EQ(crops.apply(image, rng, false).pixels, centerCrop(image, 5, 5).pixels);
}

TEST(DataTransforms, ResizeMethods) {
    // A wide image: 4 high, 8 wide, left half dark, right half bright.
    Image image(1, 4, 8);
    for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 8; ++x) image.at(0, y, x) = x < 4 ? 0 : 200;
    Image squish = resizeWithMethod(image, 4, 4, 0, nullptr);
    EXPECT_EQ(squish.height, 4);
    EXPECT_EQ(squish.width, 4);
    EXPECT_EQ(squish.at(0, 0, 0), 0);
    EXPECT_EQ(squish.at(0, 0, 3), 200);

    Image crop = resizeWithMethod(image, 2, 2, 1, nullptr);  // the centre 4×4 (0 0 200 200), halved
    EXPECT_EQ(crop.height, 2);
    EXPECT_EQ(crop.width, 2);
    EXPECT_EQ(crop.at(0, 0, 0), 29);  // the triangle filter reaches one pixel over, as PIL's
    EXPECT_EQ(crop.at(0, 0, 1), 171);
    Rng rng(5);
    Image randomCrop = resizeWithMethod(image, 4, 4, 1, &rng);  // a 4×4 window anywhere along the width
    EXPECT_EQ(randomCrop.width, 4);

    Image padded = resizeWithMethod(image, 8, 8, 2, nullptr);  // 4 rows of reflection padding, then 8×8
    EXPECT_EQ(padded.height, 8);
    EXPECT_EQ(padded.width, 8);
    EXPECT_EQ(padded.at(0, 0, 0), 0);
    EXPECT_EQ(padded.at(0, 7, 7), 200);

    // Shrinking averages (antialiasing): a checkerboard becomes grey.
    Image board(1, 8, 8);
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x) board.at(0, y, x) = (x + y) % 2 ? 255 : 0;
    Image small = resize(board, 2, 2);
    for (auto v : small.pixels) EXPECT_NEAR(v, 128, 2);
}

TEST(DataTransforms, RotateBrightnessContrast) {
    Image image = gradient(1, 9, 9);
    Image same = rotate(image, 0);
    EXPECT_EQ(same.pixels, image.pixels);
    Image quarter = rotate(image, 90);
    EXPECT_EQ(quarter.at(0, 4, 4), image.at(0, 4, 4));  // the centre stays

    ItemTransform bright = brightnessTransform(0.4, 1);
    ItemTransform contrast = contrastTransform(0.4, 1);
    Image mid = solid(1, 4, 4, {128, 0, 0});
    std::set<int> values;
    for (uint64_t i = 0; i < 20; ++i) {
        Rng rng(3, 1, i);
        values.insert(ItemTransforms({bright}).apply(mid, rng, true).pixels[0]);
    }
    EXPECT_GT(values.size(), 5u);
    Rng rng(1);
    EXPECT_EQ(ItemTransforms({bright, contrast}).apply(mid, rng, false).pixels, mid.pixels);
    // Contrast in logit space keeps the middle grey.
    EXPECT_NEAR(ItemTransforms({contrast}).apply(mid, rng, true).pixels[0], 128, 1);
}

TEST(DataImages, PngAndJpegRoundTrip) {
    TempDir dir;
    Image image = gradient(3, 13, 17);
    writePng(dir / "a.png", image);
    Image back = decodeImageFile(dir / "a.png", 3);
    EXPECT_EQ(back.pixels, image.pixels);
    Image grey = decodeImageFile(dir / "a.png", 1);
    EXPECT_EQ(grey.channels, 1);
    EXPECT_EQ(grey.height, 13);
    writeJpeg(dir / "a.jpg", solid(3, 64, 48, {200, 100, 50}), 95);
    Image jpeg = decodeImageFile(dir / "a.jpg", 3);
    EXPECT_EQ(jpeg.width, 48);
    EXPECT_NEAR(jpeg.at(0, 10, 10), 200, 3);
    EXPECT_NEAR(jpeg.at(2, 10, 10), 50, 3);
    Image scaled = decodeImageFile(dir / "a.jpg", 3, {16, 12});  // libjpeg-turbo's 1/4 scale
    EXPECT_EQ(scaled.height, 16);
    EXPECT_EQ(scaled.width, 12);
    writeText(dir / "x.png", "hello");
    std::string message = errorOf([&] { decodeImageFile(dir / "x.png", 3); });
    EXPECT_NE(message.find("x.png"), std::string::npos) << message;
}

}  // namespace
}  // namespace pipelang::runtime
