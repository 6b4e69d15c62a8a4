#include "runtime/look/show.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "record/pictures.h"
#include "record/plot.h"
#include "runtime/data/views.h"
#include "runtime/error.h"
#include "runtime/look/experiment.h"
#include "runtime/look/table_text.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

int show(const ShowOptions& o) {
    Experiment e = openExperiment(o.file, o.overrides, "");
    const Section& section = dataSection(e, o.data);
    auto data = prepareLooked(e, section);
    const ItemViews& views = itemViews(*data);
    const DataInfo& info = data->info();

    // The very batch training starts with: same seed, epoch 0, batch 0.
    int64_t batchSize = sectionInt(section, "batch_size");
    auto loader = data->loader(Split::Train, batchSize, sectionInt(section, "workers"));
    loader->start(0);
    auto batch = loader->next();
    if (!batch) throw RuntimeError("data `" + section.name + "` has no training batch to show");
    const int64_t n = std::min<int64_t>(o.n, batch->size());

    fs::path out = o.out.empty() ? fs::path("show-" + fs::path(o.file).stem().string()) : o.out;
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) throw RuntimeError("cannot create `" + out.string() + "`: " + ec.message());

    // batch.csv: what each shown item is, in the order of the picture.
    // A language model's target is the window's next token, which its view shows.
    const bool labelled = info.target != "tokens";
    std::vector<ItemView> items;
    std::vector<std::string> labels, names;
    for (int64_t j = 0; j < n; ++j) {
        items.push_back(views.view(*batch, j));
        std::string label = labelled ? targetText(info, batch->y[j]) : "";
        // A mixed batch (mixup, cutmix): both targets, with their shares.
        if (labelled && batch->lam.defined()) {
            char shares[64];
            double lam = batch->lam[j].item<double>();
            std::snprintf(shares, sizeof shares, "%.2f", lam);
            label += std::string(" ") + shares + " / " + targetText(info, batch->yMix[j]);
            std::snprintf(shares, sizeof shares, " %.2f", 1 - lam);
            label += shares;
        }
        labels.push_back(label);
        names.push_back(views.itemName(Split::Train, batch->index[size_t(j)]));
    }
    TextTable table;
    table.columns = {"#", "item"};
    for (const auto& [name, value] : items.front().fields) table.columns.push_back(name);
    if (labelled) table.columns.push_back("label");
    for (int64_t j = 0; j < n; ++j) {
        std::vector<std::string> row = {std::to_string(j), names[size_t(j)]};
        for (const auto& [name, value] : items[size_t(j)].fields) row.push_back(value);
        if (labelled) row.push_back(labels[size_t(j)]);
        table.rows.push_back(std::move(row));
    }
    writeCsv(out / "batch.csv", table);

    std::string title = "data " + section.name + ": the first training batch (epoch 0, seed " + std::to_string(e.seed) +
                        "), " + std::to_string(n) + " of " + std::to_string(batch->size()) + " items";
    if (!items.front().picture.empty()) {
        fs::create_directories(out / "tiles");
        std::vector<record::Tile> tiles;
        for (int64_t j = 0; j < n; ++j) {
            char file[32];
            std::snprintf(file, sizeof file, "%03d.png", int(j));
            writePng(out / "tiles" / file, items[size_t(j)].picture);
            tiles.push_back({out / "tiles" / file, {labels[size_t(j)]}});
        }
        try {
            record::drawGrid(tiles, title, out / "batch.png");
        } catch (const record::RecordError& error) {
            throw RuntimeError(error.what());
        }
        std::printf("%s\n", (out / "batch.png").c_str());
    } else {
        std::printf("%s\n%s", title.c_str(), renderText(table).c_str());
        std::printf("%s\n", (out / "batch.csv").c_str());
    }
    return 0;
}

}  // namespace pipelang::runtime
