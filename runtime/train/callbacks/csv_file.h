// The CSV files a stage appends to as it trains (metrics.csv, lr.csv).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace pipelang::runtime {

// On resume: keeps the header and the first `rows` rows of a file the run
// wrote (what the checkpoint covers) and reopens it to append. `kept` gets
// the header, then those rows.
std::ofstream reopenCsv(const std::filesystem::path& path, int64_t rows, std::vector<std::string>& kept);

}  // namespace pipelang::runtime
