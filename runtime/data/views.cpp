#include "runtime/data/views.h"

#include <cmath>
#include <cstdio>

#include "runtime/error.h"

namespace pipelang::runtime {

const ItemViews& itemViews(const PreparedData& data) {
    if (const auto* views = dynamic_cast<const ItemViews*>(&data)) return *views;
    throw RuntimeError("items of " + data.info().input + " data cannot be shown or named yet");
}

std::string targetText(const DataInfo& info, const torch::Tensor& y) {
    torch::Tensor t = y.detach().to(torch::kCPU).reshape({-1});
    auto className = [&](int64_t index) {
        return index >= 0 && size_t(index) < info.classes.size() ? info.classes[size_t(index)] : std::to_string(index);
    };
    if (info.target == "category") return className(t[0].item<int64_t>());
    if (info.target == "multi_category") {
        std::string out;
        for (int64_t i = 0; i < t.size(0); ++i)
            if (t[i].item<double>() > 0.5) out += (out.empty() ? "" : ";") + className(i);
        return out.empty() ? "(none)" : out;
    }
    char number[32];
    if (info.target == "series") {
        // Each target's steps in its own units: "temp_max 8.1 8.9 9.4".
        const size_t k = info.seriesTargets.size();
        std::string out;
        for (size_t c = 0; c < k; ++c) {
            out += (c ? "; " : "") + info.seriesTargets[c];
            for (int64_t i = int64_t(c); i < t.size(0); i += int64_t(k)) {
                double v = t[i].item<double>() * info.seriesStd[c] + info.seriesMean[c];
                if (std::fabs(v) < 1e-6 * info.seriesStd[c]) v = 0;  // float32's rounding, not a value
                std::snprintf(number, sizeof number, " %.4g", v);
                out += number;
            }
        }
        return out;
    }
    std::snprintf(number, sizeof number, "%.6g", t[0].item<double>());
    return number;
}

}  // namespace pipelang::runtime
