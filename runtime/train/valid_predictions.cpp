#include "runtime/train/valid_predictions.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "runtime/error.h"
#include "runtime/run_record.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

namespace {

// The source rows of the validation split's items, from `<data>/items.csv`.
std::vector<int64_t> validRows(const fs::path& itemsCsv) {
    std::vector<int64_t> rows;
    std::ifstream in(itemsCsv);
    std::string line;
    std::getline(in, line);  // split,position,row
    while (std::getline(in, line)) {
        if (line.rfind("valid,", 0) != 0) continue;
        rows.push_back(std::stoll(line.substr(line.rfind(',') + 1)));
    }
    return rows;
}

// A class name as a CSV cell: quoted when it holds a comma or a quote.
std::string cell(const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string number(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.9g", value);
    return buffer;
}

}  // namespace

bool writeValidPredictions(Network& network, const PreparedData& data, const Section& dataSection,
                           const torch::Device& device, const fs::path& itemsCsv, const fs::path& file) {
    const DataInfo& info = data.info();
    bool category = info.target == "category";
    if ((!category && info.target != "number") || data.size(Split::Valid) == 0) return false;
    std::vector<int64_t> rows = validRows(itemsCsv);
    if (!rows.empty() && int64_t(rows.size()) != data.size(Split::Valid))
        throw RuntimeError("`" + itemsCsv.string() + "` names " + std::to_string(rows.size()) +
                           " validation items, but the split holds " + std::to_string(data.size(Split::Valid)));

    std::ostringstream out;
    out << "row,target,prediction";
    if (category)
        for (const auto& name : info.classes) out << "," << cell("p_" + name);
    out << "\n";
    auto loader = data.loader(Split::Valid, fieldOf(dataSection, "batch_size").integer, 1);
    loader->start(0);
    torch::NoGradGuard noGrad;
    network.eval();
    auto className = [&](int64_t i) {
        return size_t(i) < info.classes.size() ? cell(info.classes[size_t(i)]) : std::to_string(i);
    };
    while (auto batch = loader->next()) {
        Batch b = std::move(*batch);
        torch::Tensor y = b.y;
        if (!device.is_cpu()) {
            b.x = b.x.to(device);
            if (b.xCat.defined()) b.xCat = b.xCat.to(device);
            if (b.mask.defined()) b.mask = b.mask.to(device);
        }
        torch::Tensor predicted = network.forward(b).to(torch::kCPU).to(torch::kFloat64);
        for (int64_t i = 0; i < predicted.size(0); ++i) {
            int64_t position = b.index.empty() ? i : b.index[size_t(i)];
            out << (rows.empty() ? position : rows[size_t(position)]) << ",";
            if (category) {
                torch::Tensor p = predicted[i].softmax(0);
                out << className(y[i].item<int64_t>()) << "," << className(p.argmax().item<int64_t>());
                for (int64_t c = 0; c < p.size(0); ++c) out << "," << number(p[c].item<double>());
            } else {
                out << number(y[i].item<double>()) << "," << number(predicted[i].reshape({-1})[0].item<double>());
            }
            out << "\n";
        }
    }
    writeFileAtomically(file, out.str());
    return true;
}

}  // namespace pipelang::runtime
