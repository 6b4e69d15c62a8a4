#include <charconv>
#include <fstream>

#include "runtime/train/callbacks/csv_file.h"
#include "runtime/train/callbacks/internal.h"
#include "runtime/train/loop.h"

namespace pipelang::runtime {

namespace {

// The learning rate of every step (the head's, under discriminative rates),
// for `pipe plot`'s picture of the schedule.
class LrCsv : public Callback {
public:
    void beforeFit(Loop& loop) override {
        auto path = loop.stageDir / "lr.csv";
        if (loop.resumed) {
            std::vector<std::string> kept;
            csv_ = reopenCsv(path, loop.start.globalStep, kept);
        } else {
            csv_ = std::ofstream(path);
            csv_ << "step,lr\n";
        }
    }
    // One `step,lr` row, as `out << step << "," << lr` writes it (%g, 6
    // digits): std::to_chars skips the stream's locale machinery, a
    // microsecond a row, which shows in the steps of a small model.
    void beforeBatch(Loop& loop) override {
        char row[64];
        char* end = std::to_chars(row, row + 24, loop.globalStep).ptr;
        *end++ = ',';
        end = std::to_chars(end, row + 62, loop.lr, std::chars_format::general, 6).ptr;
        *end++ = '\n';
        csv_.write(row, end - row);
    }

private:
    std::ofstream csv_;
};

}  // namespace

std::unique_ptr<Callback> lrCsv() {
    return std::make_unique<LrCsv>();
}

}  // namespace pipelang::runtime
