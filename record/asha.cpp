#include "record/asha.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "record/file_lock.h"
#include "record/search.h"

namespace pipelang::record {

namespace fs = std::filesystem;

int Rungs::rungAt(int64_t epochs) const {
    if (minEpochs < 1 || reduction < 2) return 0;
    int64_t at = minEpochs;
    for (int rung = 1; at <= epochs; ++rung) {
        if (at == epochs) return rung;
        if (at > std::numeric_limits<int64_t>::max() / reduction) break;
        at *= reduction;
    }
    return 0;
}

RungDecision decideAtRung(const std::vector<double>& reported, double value, int64_t reduction, bool higherIsBetter) {
    // Best first, NaN last.
    std::vector<double> sorted = reported;
    std::sort(sorted.begin(), sorted.end(), [&](double a, double b) { return ranksBefore(a, b, higherIsBetter); });
    RungDecision d;
    d.reported = sorted.size();
    d.kept = std::max<size_t>(1, sorted.size() / size_t(std::max<int64_t>(1, reduction)));
    if (sorted.empty()) return d;
    d.cutoff = sorted[std::min(d.kept, sorted.size()) - 1];
    d.keep = !std::isnan(value) && (std::isnan(d.cutoff) || (higherIsBetter ? value >= d.cutoff : value <= d.cutoff));
    return d;
}

RungDecision reportAtRung(const fs::path& sweepDir, const Rungs& rungs, int rung, int64_t epochs,
                          const std::string& run, double value, bool higherIsBetter) {
    FileLock file(sweepDir / "asha.csv");
    std::string text = file.read();
    std::vector<double> reported;
    bool again = false;
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
        auto cells = csvCells(text.substr(start, end - start));
        if (cells.size() != 4 || cells[0] != std::to_string(rung)) continue;  // the header, another rung
        reported.push_back(std::strtod(cells[3].c_str(), nullptr));
        again = again || cells[2] == run;
    }
    if (!again) {
        reported.push_back(value);
        file.append((text.empty() ? std::string("rung,epochs,run,value\n") : std::string()) + std::to_string(rung) +
                    "," + std::to_string(epochs) + "," + run + "," + exactNumber(value) + "\n");
    }
    return decideAtRung(reported, value, rungs.reduction, higherIsBetter);
}

std::string stopReason(const Rungs& rungs, int rung, int64_t epochs, const std::string& metric, double value,
                       const RungDecision& decision) {
    char text[256];
    std::snprintf(text, sizeof text,
                  "after %lld epoch%s: %s %.6g is not in the top 1/%lld of the %zu points at rung %d (the cutoff is "
                  "%.6g)",
                  static_cast<long long>(epochs), epochs == 1 ? "" : "s", metric.c_str(), value,
                  static_cast<long long>(rungs.reduction), decision.reported, rung, decision.cutoff);
    return text;
}

}  // namespace pipelang::record
