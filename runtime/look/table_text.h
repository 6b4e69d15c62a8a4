// A small table of text cells, printed aligned on the terminal and saved as
// CSV (cells quoted where they hold a comma, a quote or a line break).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pipelang::runtime {

struct TextTable {
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
};

// Columns padded to their widest cell, two spaces apart, one line per row.
std::string renderText(const TextTable& table);
// Writes the table as CSV; throws RuntimeError when the file cannot be written.
void writeCsv(const std::filesystem::path& file, const TextTable& table);

}  // namespace pipelang::runtime
