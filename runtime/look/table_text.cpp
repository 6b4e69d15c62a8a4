#include "runtime/look/table_text.h"

#include <algorithm>
#include <fstream>

#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

// Display width: UTF-8 continuation bytes take no column.
size_t width(const std::string& text) {
    return size_t(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string csvCell(const std::string& cell) {
    if (cell.find_first_of(",\"\n\r") == std::string::npos) return cell;
    std::string out = "\"";
    for (char c : cell) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

// A cell on one terminal line: line breaks and tabs become spaces, and a
// long one (a fortune) is cut after `limit` characters, marked "…". The CSV
// keeps it whole.
std::string oneLine(const std::string& cell, size_t limit = 60) {
    std::string out;
    size_t characters = 0;
    for (size_t i = 0; i < cell.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(cell[i]);
        bool starts = (c & 0xC0) != 0x80;
        if (starts && characters == limit) return out + "…";
        if (starts) ++characters;
        out += c == '\n' || c == '\r' || c == '\t' ? ' ' : cell[i];
    }
    return out;
}

}  // namespace

std::string renderText(const TextTable& source) {
    TextTable table;
    table.columns = source.columns;
    for (const auto& row : source.rows) {
        table.rows.emplace_back();
        for (const auto& cell : row) table.rows.back().push_back(oneLine(cell));
    }
    std::vector<size_t> widths(table.columns.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
    };
    measure(table.columns);
    for (const auto& row : table.rows) measure(row);
    std::string out;
    auto line = [&](const std::vector<std::string>& row) {
        std::string text;
        for (size_t i = 0; i < row.size(); ++i) {
            text += row[i];
            if (i + 1 < row.size()) text += std::string(widths[i] - width(row[i]) + 2, ' ');
        }
        out += text + "\n";
    };
    line(table.columns);
    for (const auto& row : table.rows) line(row);
    return out;
}

void writeCsv(const std::filesystem::path& file, const TextTable& table) {
    std::ofstream out(file);
    auto line = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << csvCell(row[i]);
        out << "\n";
    };
    line(table.columns);
    for (const auto& row : table.rows) line(row);
    if (!out) throw RuntimeError("cannot write `" + file.string() + "`");
}

}  // namespace pipelang::runtime
