// Tables read from CSV (RFC 4180), JSON Lines or a JSON array of records: the
// listing behind `column(...)` labels, image paths and tabular features.
// Every cell is kept as text; an empty or null cell is "" (missing).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pipelang::runtime {

struct Table {
    std::string name;                  // the file, for messages
    std::vector<std::string> columns;  // names, in file order
    std::vector<std::vector<std::string>> rows;
    std::vector<int64_t> lines;  // the line each row starts on (1-based), for messages

    int64_t size() const { return int64_t(rows.size()); }
    std::optional<size_t> find(const std::string& column) const;
    // The index of a column, or a RuntimeError listing the columns there are.
    size_t require(const std::string& column, const std::string& purpose) const;
    const std::string& cell(int64_t row, size_t column) const { return rows[size_t(row)][column]; }
};

// RFC 4180: fields separated by `delimiter`, optionally in double quotes, ""
// for a quote inside quotes, line breaks (LF or CRLF) inside quotes kept. A
// row with a different number of fields than the header is an error naming
// its line. Without a header the columns are named "0", "1", ...
Table readCsv(const std::filesystem::path& path, char delimiter = ',', bool header = true);
Table parseCsv(const std::string& text, const std::string& name, char delimiter = ',', bool header = true);

// The deepest arrays and objects may nest in a json or jsonl file
// (docs/limits.md): a record is an object of values or lists of labels.
inline constexpr int kMaxJsonNesting = 100;

// One JSON object per line (blank lines skipped).
Table readJsonLines(const std::filesystem::path& path);
Table parseJsonLines(const std::string& text, const std::string& name);
// A JSON array of objects.
Table readJsonArray(const std::filesystem::path& path);
Table parseJsonArray(const std::string& text, const std::string& name);

// Whether a cell counts as missing: empty, or one of pandas' usual markers
// (NA, N/A, NaN, null, None, ...).
bool isMissing(const std::string& cell);
// A number from a cell, or nothing when it is not one.
std::optional<double> parseNumber(const std::string& cell);

}  // namespace pipelang::runtime
