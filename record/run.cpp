#include "record/run.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

namespace pipelang::record {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> splitCells(const std::string& line) {
    std::vector<std::string> cells;
    size_t start = 0;
    while (true) {
        size_t comma = line.find(',', start);
        cells.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) return cells;
        start = comma + 1;
    }
}

std::string trim(const std::string& s) {
    size_t begin = s.find_first_not_of(" \t\r");
    if (begin == std::string::npos) return "";
    return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

bool parseNumber(const std::string& text, double& value) {
    if (text.empty()) return false;
    char* end = nullptr;
    errno = 0;
    value = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size() && errno != ERANGE;
}

std::string readText(const fs::path& file) {
    std::ifstream in(file);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> nonEmptyLines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

}  // namespace

int Table::column(const std::string& name) const {
    auto at = std::find(columns.begin(), columns.end(), name);
    return at == columns.end() ? -1 : int(at - columns.begin());
}

Table readTable(const fs::path& file, const std::string& firstColumn) {
    std::ifstream in(file);
    if (!in) throw RecordError("cannot read " + file.string());
    Table table;
    table.file = file;
    std::string line;
    int number = 0;
    auto where = [&] { return file.string() + ":" + std::to_string(number) + ": "; };
    while (std::getline(in, line)) {
        ++number;
        line = trim(line);
        if (line.empty()) continue;  // a blank line, e.g. at the end
        std::vector<std::string> cells = splitCells(line);
        for (auto& cell : cells) cell = trim(cell);
        if (table.columns.empty()) {
            if (cells.front() != firstColumn)
                throw RecordError(where() + "expected a header beginning with `" + firstColumn + "`, found `" + line +
                                  "`");
            for (const auto& cell : cells)
                if (cell.empty()) throw RecordError(where() + "a column of the header has no name");
            table.columns = cells;
            continue;
        }
        if (cells.size() != table.columns.size())
            throw RecordError(where() + "expected " + std::to_string(table.columns.size()) + " values (" +
                              std::to_string(table.columns.size()) + " columns in the header), found " +
                              std::to_string(cells.size()));
        std::vector<double> values(cells.size());
        for (size_t i = 0; i < cells.size(); ++i)
            if (!parseNumber(cells[i], values[i]))
                throw RecordError(where() + "`" + cells[i] + "` in column `" + table.columns[i] + "` is not a number");
        table.rows.push_back(std::move(values));
        table.text.push_back(std::move(cells));
    }
    if (table.columns.empty()) throw RecordError(file.string() + ": the file is empty");
    return table;
}

bool isRunDirectory(const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir, ec) && fs::is_regular_file(dir / "source.pipe", ec);
}

fs::path makeRunDirectory(const fs::path& runsDir, const fs::path& file, const std::string& kind) {
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    std::string base = file.stem().string() + "-" + (kind.empty() ? "" : kind + "-") + stamp;
    std::error_code ec;
    fs::create_directories(runsDir, ec);
    if (ec) throw RecordError("cannot create the runs folder `" + runsDir.string() + "`: " + ec.message());
    fs::path dir = runsDir / base;
    for (int n = 2; !fs::create_directory(dir, ec); ++n) {
        if (ec) throw RecordError("cannot create the directory `" + dir.string() + "`: " + ec.message());
        dir = runsDir / (base + "-" + std::to_string(n));
    }
    return dir;
}

std::string runName(const fs::path& dir) {
    fs::path p = dir.lexically_normal();
    if (!p.has_filename()) p = p.parent_path();  // `runs/x/` names x
    if (p.filename().empty() || p.filename() == "." || p.filename() == "..") p = fs::absolute(p).lexically_normal();
    return p.filename().string();
}

fs::path sourcePath(const fs::path& dir) {
    std::vector<std::string> original = nonEmptyLines(readText(dir / "source-path.txt"));
    return original.empty() ? dir / "source.pipe" : fs::path(original.front());
}

std::unique_ptr<Compilation> compileRun(const fs::path& dir) {
    std::error_code ec;
    std::vector<std::string> modelConfig;
    if (fs::exists(dir / "model-config.txt", ec)) modelConfig = nonEmptyLines(readText(dir / "model-config.txt"));
    return compileText(sourcePath(dir).string(), readText(dir / "source.pipe"),
                       CompileOptions{nonEmptyLines(readText(dir / "overrides.txt")), modelConfig});
}

RunRecord readRun(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) throw RecordError(dir.string() + " does not exist");
    if (!isRunDirectory(dir))
        throw RecordError(dir.string() +
                          " is not a run directory: it has no source.pipe (a run's directory is "
                          "runs/<name>-<date>-<time>/, made by `pipe run`)");
    RunRecord run;
    run.dir = dir;
    run.name = runName(dir);
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (!entry.is_directory() || !fs::is_regular_file(entry.path() / "metrics.csv")) continue;
        StageRecord stage;
        stage.name = entry.path().filename().string();
        stage.dir = entry.path();
        stage.metrics = readTable(entry.path() / "metrics.csv", "epoch");
        if (fs::is_regular_file(entry.path() / "lr.csv")) stage.lr = readTable(entry.path() / "lr.csv", "step");
        run.stages.push_back(std::move(stage));
    }
    std::sort(run.stages.begin(), run.stages.end(),
              [](const StageRecord& a, const StageRecord& b) { return a.name < b.name; });
    return run;
}

}  // namespace pipelang::record
