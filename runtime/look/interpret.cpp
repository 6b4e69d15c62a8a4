#include "runtime/look/interpret.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "record/pictures.h"
#include "runtime/data/views.h"
#include "runtime/error.h"
#include "runtime/execute.h"
#include "runtime/look/experiment.h"
#include "runtime/look/table_text.h"
#include "runtime/models/network.h"
#include "runtime/train/loss.h"
#include "runtime/train/metrics.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

namespace {

// One scored item of the split.
struct Scored {
    int64_t position = 0;  // in the split
    double loss = 0;
    std::string truth, predicted;
    double probability = std::nan("");  // of the predicted class (classification)
    double residual = std::nan("");     // predicted − true (regression)
    ItemView view;
};

std::string fixed(double value, int digits) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
    return buffer;
}

// What judging a split finds: every item's loss, the top K kept with their
// view (pixels or fields) for the picture, and a classifier's outputs for the
// confusion matrix (metrics/).
struct Judgement {
    int64_t items = 0;
    std::vector<Scored> top;  // highest loss (regression: largest residual) first
    std::vector<torch::Tensor> outputs, targets;
};

Scored scoreItem(const DataInfo& info, const LossFn& loss, const torch::Tensor& out, const Batch& batch, int64_t j) {
    Scored s;
    s.position = batch.index[size_t(j)];
    s.loss = loss(out.slice(0, j, j + 1), batch.y.slice(0, j, j + 1)).item<double>();
    s.truth = targetText(info, batch.y[j]);
    if (info.target == "category") {
        torch::Tensor p = out[j].softmax(0);
        int64_t predicted = p.argmax().item<int64_t>();
        s.predicted = info.classes[size_t(predicted)];
        s.probability = p[predicted].item<double>();
    } else if (info.target == "number") {
        double predicted = out[j].reshape({-1})[0].item<double>();
        s.predicted = targetText(info, out[j]);
        s.residual = predicted - batch.y[j].item<double>();
    } else if (info.target == "series") {
        s.predicted = targetText(info, out[j]);
    } else {
        s.predicted = targetText(info, out[j].sigmoid());
    }
    return s;
}

// Scores every item of `split` on the loss the run trained with.
Judgement judge(Network& network, PreparedData& data, Split split, const Experiment& e, size_t k) {
    const DataInfo& info = data.info();
    const bool category = info.target == "category", regression = info.target == "number";
    const ItemViews& views = itemViews(data);
    LossFn loss = makeLoss(*e.train->field("loss"));
    auto byLoss = [regression](const Scored& a, const Scored& b) {
        double ka = regression ? std::fabs(a.residual) : a.loss, kb = regression ? std::fabs(b.residual) : b.loss;
        return ka != kb ? ka > kb : a.position < b.position;
    };
    Judgement found;
    auto loader = data.loader(split, 2 * sectionInt(*e.data, "batch_size"), sectionInt(*e.data, "workers"));
    loader->start(0);
    torch::NoGradGuard noGrad;
    while (auto batch = loader->next()) {
        torch::Tensor out = network.forward(*batch);
        if (category) found.outputs.push_back(out.to(torch::kFloat)), found.targets.push_back(batch->y);
        for (int64_t j = 0; j < batch->size(); ++j) {
            Scored s = scoreItem(info, loss, out, *batch, j);
            ++found.items;
            if (found.top.size() >= k && !byLoss(s, found.top.back())) continue;
            s.view = views.view(*batch, j);
            found.top.push_back(std::move(s));
            std::sort(found.top.begin(), found.top.end(), byLoss);
            if (found.top.size() > k) found.top.pop_back();
        }
    }
    return found;
}

// The confusion matrix, printed and saved as prefix-confusion.csv and .png.
void writeConfusion(const DataInfo& info, const Judgement& found, const fs::path& out, const std::string& prefix,
                    const std::string& subject, std::vector<fs::path>& written) {
    const size_t classes = info.classes.size();
    auto confusion =
        found.outputs.empty()
            ? std::vector<std::vector<int64_t>>(classes, std::vector<int64_t>(classes, 0))
            : metrics::confusionMatrix(predictions(torch::cat(found.outputs), torch::cat(found.targets), "category"));
    TextTable table;
    table.columns = {"true \\ predicted"};
    for (const auto& c : info.classes) table.columns.push_back(c);
    for (size_t i = 0; i < classes; ++i) {
        std::vector<std::string> row = {info.classes[i]};
        for (int64_t count : confusion[i]) row.push_back(std::to_string(count));
        table.rows.push_back(std::move(row));
    }
    std::printf("\nconfusion matrix (rows: true, columns: predicted)\n%s", renderText(table).c_str());
    writeCsv(out / (prefix + "confusion.csv"), table);
    written.push_back(out / (prefix + "confusion.csv"));
    record::drawConfusion(info.classes, confusion, "confusion matrix: " + subject, out / (prefix + "confusion.png"));
    written.push_back(out / (prefix + "confusion.png"));
}

// The items with the highest loss: printed, saved as a table, and drawn as a
// captioned grid when they are pictures.
void writeWorst(const DataInfo& info, const ItemViews& views, Split split, const std::vector<Scored>& top,
                const fs::path& out, const std::string& prefix, const std::string& subject,
                std::vector<fs::path>& written) {
    const bool category = info.target == "category", regression = info.target == "number";
    TextTable worst;
    worst.columns = {"rank", "item"};
    // Items with no picture are shown by their fields (a text, a table's row).
    const bool fields = !top.empty() && top.front().view.picture.empty();
    if (fields)
        for (const auto& [name, value] : top.front().view.fields) worst.columns.push_back(name);
    for (const char* column : {"true", "predicted"}) worst.columns.push_back(column);
    if (category) worst.columns.push_back("probability");
    if (regression) worst.columns.push_back("residual");
    worst.columns.push_back("loss");
    for (size_t r = 0; r < top.size(); ++r) {
        const Scored& s = top[r];
        std::vector<std::string> row = {std::to_string(r + 1), views.itemName(split, s.position)};
        if (fields)
            for (const auto& [name, value] : s.view.fields) row.push_back(value);
        row.push_back(s.truth);
        row.push_back(s.predicted);
        if (category) row.push_back(fixed(s.probability, 4));
        if (regression) row.push_back(fixed(s.residual, 4));
        row.push_back(fixed(s.loss, 4));
        worst.rows.push_back(std::move(row));
    }
    std::string what = regression ? "worst residuals" : "highest losses";
    std::printf("\n%s\n%s", what.c_str(), renderText(worst).c_str());
    std::string name = prefix + (regression ? "worst-residuals" : "top-losses");
    writeCsv(out / (name + ".csv"), worst);
    written.push_back(out / (name + ".csv"));
    if (top.empty() || top.front().view.picture.empty()) return;
    fs::create_directories(out / name);
    std::vector<record::Tile> tiles;
    for (size_t r = 0; r < top.size(); ++r) {
        const Scored& s = top[r];
        char file[32];
        std::snprintf(file, sizeof file, "%03d.png", int(r + 1));
        writePng(out / name / file, s.view.picture);
        std::string second = regression ? "residual " + fixed(s.residual, 3) + " / loss " + fixed(s.loss, 3)
                             : category ? "loss " + fixed(s.loss, 2) + " / prob " + fixed(s.probability, 2)
                                        : "loss " + fixed(s.loss, 3);
        tiles.push_back({out / name / file, {s.predicted + " / " + s.truth, second}});
    }
    record::drawGrid(tiles, what + " (predicted / true): " + subject, out / (name + ".png"));
    written.push_back(out / (name + ".png"));
}

}  // namespace

int interpret(const InterpretOptions& o) {
    if (o.split != "valid" && o.split != "test")
        throw RuntimeError("unknown split `" + o.split + "`; interpret takes --split valid or --split test");
    if (o.top < 1) throw RuntimeError("--top takes a positive number of items");
    Experiment e = openRun(o.run, o.stage);
    if (!e.train) throw RuntimeError("the run `" + o.run.string() + "` has no train stage to interpret");
    fs::path weights = o.run / e.train->name / "weights.safetensors";
    if (!fs::exists(weights))
        throw RuntimeError("`" + weights.string() + "` is missing: the run has no trained weights for stage `" +
                           e.train->name + "` (did it finish? `pipe run --resume " + o.run.string() +
                           "` goes on with an interrupted one)");
    const Split split = o.split == "test" ? Split::Test : Split::Valid;

    auto data = prepareLooked(e, *e.data, o.run);
    if (data->size(split) == 0)
        throw RuntimeError("the run's data `" + e.data->name + "` has no " + o.split + " items" +
                           (split == Split::Test ? " (its source names no test set)" : " (its split keeps none)") +
                           "; choose the other with --split");
    const DataInfo& info = data->info();
    if (info.target == "tokens")
        throw RuntimeError(
            "stage `" + e.train->name + "` is a language model, whose loss is per token; `pipe interpret` " +
            "looks at classifiers and regressions. Sample it with `pipe generate " + o.run.string() + "`");
    auto network = buildNetwork(backboneCall(e.pipeline(), *e.model), *e.model->field("head"), info, e.baseDir);
    loadWeights(*network, weights);
    network->eval();
    Judgement found = judge(*network, *data, split, e, size_t(o.top));

    fs::path out = o.run / "interpret";
    fs::create_directories(out);
    const std::string prefix = o.split + "-";
    const std::string subject = e.train->name + " on " + e.data->name + "." + o.split;
    std::printf("interpret %s: %lld items\n", subject.c_str(), static_cast<long long>(found.items));
    std::vector<fs::path> written;
    if (info.target == "category") writeConfusion(info, found, out, prefix, subject, written);
    writeWorst(info, itemViews(*data), split, found.top, out, prefix, subject, written);
    std::printf("\n");
    for (const auto& file : written) std::printf("%s\n", file.c_str());
    return 0;
}

}  // namespace pipelang::runtime
