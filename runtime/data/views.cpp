#include "runtime/data/views.h"

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
    std::snprintf(number, sizeof number, "%.6g", t[0].item<double>());
    return number;
}

}  // namespace pipelang::runtime
