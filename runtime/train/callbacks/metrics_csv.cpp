#include <cstdlib>
#include <fstream>
#include <sstream>

#include "runtime/train/callbacks/csv_file.h"
#include "runtime/train/callbacks/internal.h"
#include "runtime/train/loop.h"

namespace pipelang::runtime {

namespace {

std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> cells;
    std::stringstream in(line);
    for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
    return cells;
}

// The epochs of a resumed run's kept rows: fit() returns every epoch of the
// stage, those trained before the checkpoint included.
void readEpochs(const std::vector<std::string>& kept, std::vector<EpochResult>& epochs) {
    const std::string& header = kept[0];
    if (header.rfind("epoch,", 0) != 0) return;
    std::vector<std::string> names = split(header);
    for (size_t row = 1; row < kept.size(); ++row) {
        std::vector<double> cells;
        for (const auto& cell : split(kept[row])) cells.push_back(std::strtod(cell.c_str(), nullptr));
        if (cells.size() < 4 || names.size() != cells.size()) continue;
        EpochResult r;
        r.epoch = int64_t(cells[0]);
        r.trainLoss = cells[1];
        r.validLoss = cells[2];
        for (size_t c = 3; c + 1 < cells.size(); ++c) r.metrics.push_back({names[c], cells[c]});
        r.seconds = cells.back();
        epochs.push_back(r);
    }
}

// A row per epoch; the time in seconds, where the table shows minutes.
class MetricsCsv : public Callback {
public:
    void beforeFit(Loop& loop) override {
        auto path = loop.stageDir / "metrics.csv";
        if (loop.resumed) {
            std::vector<std::string> kept;
            csv_ = reopenCsv(path, loop.start.epoch, kept);
            readEpochs(kept, loop.result.epochs);
            return;
        }
        csv_ = std::ofstream(path);
        auto columns = epochColumns(loop.metricNames);
        for (size_t i = 0; i < columns.size(); ++i)
            csv_ << (i ? "," : "") << columns[i] << (i + 1 < columns.size() ? "" : "\n");
    }
    void afterEpoch(Loop& loop) override {
        const EpochResult& r = loop.result.epochs.back();
        auto cells = epochCells(r);
        for (size_t i = 0; i + 1 < cells.size(); ++i) csv_ << cells[i] << ",";
        csv_ << r.seconds;
        csv_ << "\n";
        csv_.flush();
    }

private:
    std::ofstream csv_;
};

}  // namespace

std::unique_ptr<Callback> metricsCsv() {
    return std::make_unique<MetricsCsv>();
}

}  // namespace pipelang::runtime
