#include "runtime/train/progress.h"

#include <unistd.h>

#include <algorithm>

#include "runtime/distributed/world.h"
#include "runtime/log.h"

namespace pipelang::runtime {

std::string formatDuration(double seconds) {
    long s = long(seconds + 0.5);
    char buffer[32];
    if (s >= 3600)
        std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(buffer, sizeof buffer, "%ld:%02ld", s / 60, s % 60);
    return buffer;
}

Progress::Progress() : tty_(isatty(STDERR_FILENO)) {}

void Progress::begin(const std::string& label, int64_t batches) {
    label_ = label;
    batches_ = batches;
    items_ = 0;
    lastReported_ = -1;
    start_ = lastDraw_ = std::chrono::steady_clock::now();
}

void Progress::step(int64_t done, int64_t items, double runningLoss) {
    items_ = items;
    if (!distributed::isMain()) return;  // one bar for a data-parallel run: rank 0's
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - start_).count();
    double rate = elapsed > 0 ? double(items) / elapsed : 0;
    double eta = done > 0 ? elapsed * double(batches_ - done) / double(done) : 0;
    if (tty_) {
        // Redraw at most ten times a second, and always at the end.
        if (done < batches_ && std::chrono::duration<double>(now - lastDraw_).count() < 0.1) return;
        lastDraw_ = now;
        const int width = 30;
        int filled = batches_ ? int(width * done / batches_) : width;
        std::string bar(size_t(filled), '#');
        bar.append(size_t(width - filled), '.');
        std::fprintf(stderr, "\r\033[K%s [%s] %lld/%lld  %.0f items/s  eta %s  loss %.4f", label_.c_str(), bar.c_str(),
                     (long long)done, (long long)batches_, rate, formatDuration(eta).c_str(), runningLoss);
        std::fflush(stderr);
        return;
    }
    // Not a terminal: a plain line at each quarter of the epoch.
    int64_t quarter = batches_ ? 4 * done / batches_ : 4;
    if (quarter == lastReported_ || quarter == 0) return;
    lastReported_ = quarter;
    std::fprintf(stderr, "%s %lld/%lld batches, %.0f items/s, eta %s, loss %.4f\n", label_.c_str(), (long long)done,
                 (long long)batches_, rate, formatDuration(eta).c_str(), runningLoss);
}

void Progress::end() {
    if (!distributed::isMain()) return;
    if (tty_) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
}

void Progress::header(const std::vector<std::string>& columns) {
    widths_.clear();
    std::string out;
    for (const auto& c : columns) {
        widths_.push_back(std::max<size_t>(c.size(), 10));
        out += c + std::string(widths_.back() - c.size() + 2, ' ');
    }
    log::info(out);
}

void Progress::row(const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
        size_t w = i < widths_.size() ? widths_[i] : cells[i].size();
        out += cells[i] + std::string(w > cells[i].size() ? w - cells[i].size() + 2 : 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    log::info(out);
}

void Progress::line(const std::string& text) {
    if (tty_ && distributed::isMain()) std::fprintf(stderr, "\r\033[K");
    log::info(text);
}

}  // namespace pipelang::runtime
