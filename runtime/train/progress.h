// What a person watches while a run trains: a progress bar per epoch on a
// terminal (batches, items/s, ETA, running loss) — plain lines when output is
// not a terminal — and fastai's table, a row per epoch, on standard output.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace pipelang::runtime {

class Progress {
public:
    Progress();
    void begin(const std::string& label, int64_t batches);
    void step(int64_t done, int64_t items, double runningLoss);
    void end();

    void header(const std::vector<std::string>& columns);
    void row(const std::vector<std::string>& cells);
    void line(const std::string& text);  // a whole line above the bar

private:
    bool tty_;
    std::string label_;
    int64_t batches_ = 0, items_ = 0, lastReported_ = -1;
    std::chrono::steady_clock::time_point start_, lastDraw_;
    std::vector<size_t> widths_;
};

std::string formatDuration(double seconds);  // "1:05", "12:03:07"

}  // namespace pipelang::runtime
