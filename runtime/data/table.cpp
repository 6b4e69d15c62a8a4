#include "runtime/data/table.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "runtime/data/utf8.h"
#include "runtime/error.h"

namespace pipelang::runtime {

std::optional<size_t> Table::find(const std::string& column) const {
    for (size_t i = 0; i < columns.size(); ++i)
        if (columns[i] == column) return i;
    return std::nullopt;
}

size_t Table::require(const std::string& column, const std::string& purpose) const {
    if (auto i = find(column)) return *i;
    std::string names;
    for (size_t i = 0; i < columns.size() && i < 20; ++i) names += (i ? ", " : "") + ("`" + columns[i] + "`");
    if (columns.size() > 20) names += ", ...";
    throw RuntimeError("`" + name + "` has no column `" + column + "` (wanted for " + purpose + "); its columns are " +
                       names + ".");
}

namespace {

std::string readText(const std::filesystem::path& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw RuntimeError(std::string(what) + " source: cannot open `" + path.string() +
                           "`; check that the file exists and is readable.");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string columnName(size_t i) {
    return std::to_string(i);
}

// JSON text as a value, refusing nesting deeper than kMaxJsonNesting while it
// is parsed: nlohmann's parser is iterative, but printing a cell (dump) recurses
// once per level, and a value nested 100,000 deep would overflow the stack.
nlohmann::json parseJson(const std::string& text, const std::string& where) {
    return nlohmann::json::parse(text, [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
        // `depth` counts the containers already open around this one.
        bool opens =
            event == nlohmann::json::parse_event_t::object_start || event == nlohmann::json::parse_event_t::array_start;
        if (opens && depth >= kMaxJsonNesting)
            throw RuntimeError(where + " nests arrays and objects deeper than " + std::to_string(kMaxJsonNesting) +
                               " levels; a record holds a column's values, a list of labels at most.");
        return true;
    });
}

// Adds a record's fields, as text, to the table; new keys become new columns.
void addRecord(Table& table, const nlohmann::json& record, int64_t line, const char* unit) {
    if (!record.is_object())
        throw RuntimeError("`" + table.name + "` " + unit + " " + std::to_string(line) +
                           " is not a JSON object; each record must be `{\"column\": value, ...}`.");
    std::vector<std::string> row(table.columns.size());
    for (const auto& [key, value] : record.items()) {
        auto index = table.find(key);
        if (!index) {
            table.columns.push_back(key);
            for (auto& r : table.rows) r.emplace_back();
            row.emplace_back();
            index = table.columns.size() - 1;
        }
        std::string& cell = row[*index];
        if (value.is_null())
            cell.clear();
        else if (value.is_string())
            cell = value.get<std::string>();
        else if (value.is_array()) {  // a list of labels, for multi_category: space-separated
            for (const auto& item : value) {
                if (!cell.empty()) cell += ' ';
                cell += item.is_string() ? item.get<std::string>() : item.dump();
            }
        } else
            cell = value.dump();
    }
    table.rows.push_back(std::move(row));
    table.lines.push_back(line);
}

}  // namespace

Table parseCsv(const std::string& text, const std::string& name, char delimiter, bool header) {
    requireUtf8(text, name, 1);
    Table table;
    table.name = name;
    std::vector<std::string> row;
    std::string field;
    int64_t line = 1, rowLine = 1;
    bool quoted = false, fieldStarted = false, afterQuote = false;
    size_t expected = 0;
    bool first = true;

    auto endRow = [&] {
        row.push_back(std::move(field));
        field.clear();
        bool blank = row.size() == 1 && row[0].empty() && !afterQuote;
        if (!blank) {
            if (first && header) {
                table.columns = std::move(row);
                expected = table.columns.size();
            } else {
                if (first) {
                    expected = row.size();
                    for (size_t i = 0; i < expected; ++i) table.columns.push_back(columnName(i));
                }
                if (row.size() != expected)
                    throw RuntimeError("`" + name + "` line " + std::to_string(rowLine) + " has " +
                                       std::to_string(row.size()) + " field" + (row.size() == 1 ? "" : "s") +
                                       " where the " + (header ? "header has " : "first row has ") +
                                       std::to_string(expected) +
                                       "; fix the row (a field holding the delimiter must be in double quotes).");
                table.rows.push_back(std::move(row));
                table.lines.push_back(rowLine);
            }
            first = false;
        }
        row.clear();
        fieldStarted = afterQuote = false;
    };

    size_t i = 0, n = text.size();
    if (n >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;  // a UTF-8 byte-order mark
    for (; i < n; ++i) {
        char c = text[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < n && text[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                    afterQuote = true;
                }
            } else {
                if (c == '\n') ++line;
                field += c;
            }
            continue;
        }
        if (c == '"' && !fieldStarted) {
            quoted = fieldStarted = true;
        } else if (c == delimiter) {
            row.push_back(std::move(field));
            field.clear();
            fieldStarted = afterQuote = false;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
            endRow();
            rowLine = ++line;
        } else if (afterQuote) {
            throw RuntimeError("`" + name + "` line " + std::to_string(line) +
                               ": text follows a closing quote; write a quote inside a quoted field as \"\".");
        } else {
            field += c;
            fieldStarted = true;
        }
    }
    if (quoted)
        throw RuntimeError("`" + name + "`: the quoted field that starts on line " + std::to_string(rowLine) +
                           " is never closed; add the missing \".");
    if (fieldStarted || !row.empty()) endRow();
    if (first && !header) table.columns.clear();
    return table;
}

Table readCsv(const std::filesystem::path& path, char delimiter, bool header) {
    return parseCsv(readText(path, "csv"), path.string(), delimiter, header);
}

Table readJsonLines(const std::filesystem::path& path) {
    return parseJsonLines(readText(path, "jsonl"), path.string());
}

Table parseJsonLines(const std::string& text, const std::string& name) {
    Table table;
    table.name = name;
    std::istringstream in(text);
    int64_t line = 0;
    for (std::string s; std::getline(in, s);) {
        ++line;
        if (s.find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::json record;
        try {
            record = parseJson(s, "`" + table.name + "` line " + std::to_string(line));
        } catch (const nlohmann::json::exception& e) {  // also out_of_range: a number past a double's range
            throw RuntimeError("`" + table.name + "` line " + std::to_string(line) + " is not valid JSON (" + e.what() +
                               "); each line must hold one JSON object.");
        }
        addRecord(table, record, line, "line");
    }
    return table;
}

Table readJsonArray(const std::filesystem::path& path) {
    return parseJsonArray(readText(path, "json"), path.string());
}

Table parseJsonArray(const std::string& text, const std::string& name) {
    Table table;
    table.name = name;
    nlohmann::json records;
    try {
        records = parseJson(text, "`" + table.name + "`");
    } catch (const nlohmann::json::exception& e) {
        throw RuntimeError("`" + table.name + "` is not valid JSON (" + e.what() + ").");
    }
    if (!records.is_array())
        throw RuntimeError("`" + table.name +
                           "` does not hold a JSON array; the json source reads `[{\"column\": value, ...}, ...]` "
                           "(use jsonl for one object per line).");
    int64_t index = 0;
    for (const auto& record : records) addRecord(table, record, ++index, "record");
    return table;
}

bool isMissing(const std::string& cell) {
    static const std::set<std::string> markers = {"",     "NA",   "N/A",  "n/a",  "NaN",  "nan", "-NaN", "-nan",
                                                  "null", "NULL", "None", "<NA>", "#N/A", "#NA", "?"};
    if (cell.size() > 5) return false;
    return markers.count(cell) > 0;
}

std::optional<double> parseNumber(const std::string& cell) {
    size_t b = cell.find_first_not_of(" \t"), e = cell.find_last_not_of(" \t");
    if (b == std::string::npos) return std::nullopt;
    const char* first = cell.data() + b;
    const char* last = cell.data() + e + 1;
    if (*first == '+') ++first;
    double value = 0;
    auto [ptr, ec] = std::from_chars(first, last, value);
    if (ec != std::errc() || ptr != last) return std::nullopt;
    return value;
}

}  // namespace pipelang::runtime
