#include "runtime/data/text_sources.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "runtime/data/utf8.h"
#include "runtime/error.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

namespace {

std::string readFile(const fs::path& path, const char* source) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw RuntimeError(std::string(source) + " source: cannot open `" + path.string() +
                           "`; check that the file exists and is readable.");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool blank(std::string_view s) {
    return s.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

bool endsWith(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

Table readLines(const fs::path& path) {
    std::string text = readFile(path, "lines");
    Table table;
    table.name = path.string();
    table.columns = {"text"};
    int64_t line = 0;
    for (size_t begin = 0; begin < text.size();) {
        size_t end = text.find('\n', begin);
        if (end == std::string::npos) end = text.size();
        std::string_view item(text.data() + begin, end - begin);
        ++line;
        begin = end + 1;
        if (!item.empty() && item.back() == '\r') item.remove_suffix(1);
        if (blank(item)) continue;
        requireUtf8(item, table.name, line);
        table.rows.push_back({std::string(item)});
        table.lines.push_back(line);
    }
    if (table.rows.empty())
        throw RuntimeError("lines source: `" + path.string() + "` has no lines with text; it needs at least one item.");
    return table;
}

Table readFortunes(const fs::path& root, const std::vector<std::string>& files, const std::string& by) {
    if (!fs::is_directory(root))
        throw RuntimeError("fortunes source: `" + root.string() +
                           "` is not a folder; install the `fortunes` package or fix the `path`.");
    const fs::path base = fs::canonical(root);
    // The language of files in the root: a folder named like a language
    // (`de`) given as the root speaks it; the root of all fortunes is English.
    const std::string rootName = base.filename().string();
    const std::string rootLanguage = rootName.size() == 2 ? rootName : "en";

    struct Found {
        std::string name;  // `art`, `de/computer`
        fs::path path;     // canonical
    };
    std::vector<Found> found;
    std::set<fs::path> seen;
    auto consider = [&](const fs::path& path) {
        std::string file = path.filename().string();
        if (endsWith(file, ".dat") || endsWith(file, ".u8") || endsWith(file, "-pre") || file.starts_with(".")) return;
        std::error_code error;
        if (!fs::is_regular_file(path, error)) return;
        fs::path real = fs::canonical(path, error);
        if (error || !seen.insert(real).second) return;
        std::string name = real.lexically_relative(base).generic_string();
        if (name.empty() || name.starts_with("..")) name = path.lexically_relative(root).generic_string();
        if (endsWith(name, ".fortunes")) name.resize(name.size() - 9);
        found.push_back({name, real});
    };
    std::vector<fs::path> entries;
    for (const auto& entry : fs::directory_iterator(root)) entries.push_back(entry.path());
    std::sort(entries.begin(), entries.end());
    for (const auto& path : entries) {
        if (fs::is_directory(path)) {
            if (path.filename() == "off") continue;
            std::vector<fs::path> inner;
            for (const auto& entry : fs::directory_iterator(path)) inner.push_back(entry.path());
            std::sort(inner.begin(), inner.end());
            for (const auto& p : inner) consider(p);
        } else {
            consider(path);
        }
    }
    std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.name < b.name; });
    if (!files.empty()) {
        std::vector<Found> picked;
        for (const auto& wanted : files) {
            auto it = std::find_if(found.begin(), found.end(), [&](const Found& f) {
                return f.name == wanted || f.path.filename().string() == wanted + ".fortunes";
            });
            if (it == found.end()) {
                std::string some;
                for (size_t i = 0; i < found.size() && i < 12; ++i) some += (i ? ", " : "") + found[i].name;
                throw RuntimeError("fortunes source: there is no fortune file `" + wanted + "` under `" +
                                   root.string() + "`; there are " + some + (found.size() > 12 ? ", ..." : "") + ".");
            }
            picked.push_back(*it);
        }
        found = std::move(picked);
    }

    Table table;
    table.name = root.string();
    table.columns = {"text", "label", "file"};
    for (const auto& f : found) {
        std::string label = f.name;
        if (by == "language") {
            auto slash = f.name.find('/');
            label = slash == std::string::npos ? rootLanguage : f.name.substr(0, slash);
        }
        std::string text = readFile(f.path, "fortunes");
        std::string fortune;
        int64_t line = 0, first = 1;
        auto finish = [&] {
            while (!fortune.empty() && (fortune.back() == '\n' || fortune.back() == '\r')) fortune.pop_back();
            if (!blank(fortune)) {
                requireUtf8(fortune, f.path.string(), first);
                table.rows.push_back({fortune, label, f.path.string()});
                table.lines.push_back(first);
            }
            fortune.clear();
        };
        for (size_t begin = 0; begin < text.size();) {
            size_t end = text.find('\n', begin);
            if (end == std::string::npos) end = text.size();
            std::string_view row(text.data() + begin, end - begin);
            ++line;
            begin = end + 1;
            if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
            if (row == "%") {
                finish();
                first = line + 1;
                continue;
            }
            fortune.append(row);
            fortune += '\n';
        }
        finish();
    }
    if (table.rows.empty())
        throw RuntimeError("fortunes source: no fortunes under `" + root.string() +
                           "`; install the `fortunes` package or check `files`.");
    return table;
}

}  // namespace pipelang::runtime
