#include "record/plot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

extern char** environ;

namespace pipelang::record {

namespace fs = std::filesystem;

namespace {

// One line of a picture: column y of a table against its column x.
struct Series {
    std::string title;
    const Table* table = nullptr;
    int x = 0;
    int y = 0;
};

struct Figure {
    std::string file;  // without the extension
    std::string title;
    std::string xlabel;
    std::string ylabel;
    bool points = true;  // per-epoch curves are few points; a per-step schedule many
    std::vector<Series> series;
};

bool isLoss(const std::string& column) {
    return column == "train_loss" || column == "valid_loss";
}

// Columns of metrics.csv that are not curves of their own: the x axis, the
// losses (drawn together), the seconds per epoch.
bool isMetric(const std::string& column) {
    return column != "epoch" && column != "time" && !isLoss(column);
}

// A column with no finite value (valid_loss of a run without a validation
// split) would make gnuplot stop on "all points undefined".
bool hasValues(const Table& table, int column) {
    return column >= 0 && std::any_of(table.rows.begin(), table.rows.end(),
                                      [&](const std::vector<double>& row) { return std::isfinite(row[column]); });
}

void addSeries(Figure& figure, std::string title, const Table& table, const std::string& x, const std::string& y) {
    int yColumn = table.column(y);
    if (hasValues(table, yColumn)) figure.series.push_back({std::move(title), &table, table.column(x), yColumn});
}

// Keeps letters, digits, `_`, `-` and `.` of a name for a file name.
std::string fileSafe(const std::string& name) {
    std::string out;
    for (char c : name)
        out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ? c : '_';
    return out;
}

Figure lrFigure(const std::string& stage, const std::string& subject) {
    return {fileSafe(stage) + "-lr", stage + ": learning rate" + subject, "step", "learning rate", false, {}};
}

std::vector<Figure> runFigures(const RunRecord& run) {
    std::vector<Figure> figures;
    std::string subject = " (" + run.name + ")";
    for (const auto& stage : run.stages) {
        const Table& m = stage.metrics;
        Figure loss{fileSafe(stage.name) + "-loss", stage.name + ": loss" + subject, "epoch", "loss", true, {}};
        for (const char* column : {"train_loss", "valid_loss"}) addSeries(loss, column, m, "epoch", column);
        figures.push_back(std::move(loss));
        for (const auto& column : m.columns) {
            if (!isMetric(column)) continue;
            Figure f{fileSafe(stage.name) + "-" + fileSafe(column),
                     stage.name + ": " + column + subject,
                     "epoch",
                     column,
                     true,
                     {}};
            addSeries(f, column, m, "epoch", column);
            figures.push_back(std::move(f));
        }
        if (stage.lr) {
            Figure lr = lrFigure(stage.name, subject);
            for (size_t i = 1; i < stage.lr->columns.size(); ++i)
                addSeries(lr, stage.lr->columns[i], *stage.lr, "step", stage.lr->columns[i]);
            figures.push_back(std::move(lr));
        }
    }
    return figures;
}

// In order of first appearance.
void addOnce(std::vector<std::string>& names, const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

std::vector<Figure> comparisonFigures(const std::vector<RunRecord>& runs) {
    std::vector<std::string> stages;
    for (const auto& run : runs)
        for (const auto& stage : run.stages) addOnce(stages, stage.name);
    std::vector<Figure> figures;
    for (const auto& name : stages) {
        std::vector<std::pair<const RunRecord*, const StageRecord*>> present;
        for (const auto& run : runs)
            for (const auto& stage : run.stages)
                if (stage.name == name) present.push_back({&run, &stage});
        std::vector<std::string> columns = {"train_loss", "valid_loss"};
        for (const auto& [run, stage] : present)
            for (const auto& column : stage->metrics.columns)
                if (isMetric(column)) addOnce(columns, column);
        for (const auto& column : columns) {
            Figure f{fileSafe(name) + "-" + fileSafe(column), name + ": " + column, "epoch", column, true, {}};
            for (const auto& [run, stage] : present) addSeries(f, run->name, stage->metrics, "epoch", column);
            figures.push_back(std::move(f));
        }
        Figure lr = lrFigure(name, "");
        for (const auto& [run, stage] : present) {
            if (!stage->lr) continue;
            const auto& lrColumns = stage->lr->columns;
            for (size_t i = 1; i < lrColumns.size(); ++i)
                addSeries(lr, lrColumns.size() > 2 ? run->name + " " + lrColumns[i] : run->name, *stage->lr, "step",
                          lrColumns[i]);
        }
        figures.push_back(std::move(lr));
    }
    return figures;
}

std::string quote(const std::string& s) {
    return gnuplotQuote(s);
}

constexpr size_t kMaxPoints = 2000;

std::string number(double v) {
    if (!std::isfinite(v)) return "NaN";  // an undefined point: the line breaks there
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.9g", v);
    return buffer;
}

std::string script(const std::vector<Figure>& figures, bool comparison, const fs::path& out, const PlotOptions& options,
                   std::vector<fs::path>& pictures) {
    std::ostringstream s;
    s << "# Drawn by `pipe plot`; run `gnuplot plots.gp` here to draw the pictures again.\n";
    std::map<const Table*, std::string> blocks;
    for (const auto& figure : figures)
        for (const auto& series : figure.series) {
            if (blocks.count(series.table)) continue;
            std::string name = "$data" + std::to_string(blocks.size());
            blocks[series.table] = name;
            s << "\n# " << series.table->file.string() << "\n" << name << " << EOD\n";
            // A picture is about a thousand pixels wide: a per-step schedule of
            // many thousand steps is drawn from every k-th step (and the last),
            // which keeps the SVG small and the shape the same.
            const auto& rows = series.table->rows;
            size_t stride = rows.size() > 2 * kMaxPoints ? (rows.size() + kMaxPoints - 1) / kMaxPoints : 1;
            for (size_t r = 0; r < rows.size(); ++r) {
                if (r % stride != 0 && r + 1 != rows.size()) continue;
                for (size_t i = 0; i < rows[r].size(); ++i) s << (i ? " " : "") << number(rows[r][i]);
                s << "\n";
            }
            s << "EOD\n";
        }
    // A comparison's key holds run names, long: beneath the plot, not beside it.
    s << "\nset grid\nset datafile missing 'NaN'\nset key " << (comparison ? "below" : "outside right top") << "\n";
    std::vector<std::pair<std::string, std::string>> terminals;
    if (options.png) terminals.push_back({"png", "pngcairo size 960,540 noenhanced font 'sans,10'"});
    if (options.svg) terminals.push_back({"svg", "svg size 960,540 dynamic noenhanced font 'sans,10'"});
    for (const auto& figure : figures) {
        for (const auto& [extension, terminal] : terminals) {
            fs::path picture = out / (figure.file + "." + extension);
            pictures.push_back(picture);
            s << "\nset terminal " << terminal << "\nset output " << quote(picture.string()) << "\n";
            s << "set title " << quote(figure.title) << "\nset xlabel " << quote(figure.xlabel) << "\nset ylabel "
              << quote(figure.ylabel) << "\nplot ";
            for (size_t i = 0; i < figure.series.size(); ++i) {
                const Series& series = figure.series[i];
                s << (i ? ", \\\n     " : "") << blocks[series.table] << " using " << series.x + 1 << ":"
                  << series.y + 1 << (figure.points ? " with linespoints pointtype 7 pointsize 0.6" : " with lines")
                  << " linewidth 2 title " << quote(series.title);
            }
            s << "\nunset output\n";
        }
    }
    return s.str();
}

// Runs `program args...` with stdin from /dev/null; returns its exit status
// (-1 when it could not start or did not exit) and what it printed.
int runCapturing(const fs::path& program, const std::vector<std::string>& args, std::string& output) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    std::vector<std::string> argvText = {program.string()};
    argvText.insert(argvText.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argvText) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (spawned != 0) {
        close(fds[0]);
        output = std::strerror(spawned);
        return -1;
    }
    char buffer[4096];
    for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        output.append(buffer, size_t(n));
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int runProgram(const fs::path& program, const std::vector<std::string>& args, std::string& output) {
    return runCapturing(program, args, output);
}

std::optional<fs::path> findProgram(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t colon = dirs.find(':', start);
        std::string dir = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec) && access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return std::nullopt;
}

std::string gnuplotQuote(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

void runGnuplot(const fs::path& scriptFile, const std::vector<fs::path>& pictures) {
    auto gnuplot = findProgram("gnuplot");
    if (!gnuplot)
        throw PlotError(
            "gnuplot is not installed (or not in the PATH); it draws the pictures: install Debian's package "
            "gnuplot-nox (`apt-get install gnuplot-nox`)");
    std::string said;
    int status = runCapturing(*gnuplot, {scriptFile.string()}, said);
    if (status != 0)
        throw PlotError("gnuplot failed on " + scriptFile.string() + (said.empty() ? std::string() : ":\n" + said));
    for (const auto& picture : pictures)
        if (!fs::is_regular_file(picture) || fs::file_size(picture) == 0)
            throw PlotError("gnuplot wrote no " + picture.string() + (said.empty() ? "" : ":\n" + said));
}

std::vector<fs::path> plotRuns(const std::vector<RunRecord>& runs, const PlotOptions& options) {
    for (const auto& run : runs) {
        if (run.stages.empty())
            throw RecordError(run.dir.string() +
                              " has no training metrics: no <stage>/metrics.csv (the run trained nothing, or "
                              "stopped before its first epoch)");
        for (const auto& stage : run.stages)
            if (stage.metrics.rows.empty())
                throw RecordError(stage.metrics.file.string() +
                                  ": no rows under the header (the stage's first epoch has not finished)");
    }
    std::vector<Figure> figures = runs.size() == 1 ? runFigures(runs.front()) : comparisonFigures(runs);
    std::erase_if(figures, [](const Figure& f) { return f.series.empty(); });
    if (figures.empty()) throw RecordError("nothing to draw: every value in the runs' metrics is nan");

    std::error_code ec;
    fs::create_directories(options.out, ec);
    if (ec) throw RecordError("cannot create " + options.out.string() + ": " + ec.message());
    fs::path out = fs::absolute(options.out).lexically_normal();
    std::vector<fs::path> pictures;
    fs::path scriptFile = out / "plots.gp";
    {
        std::ofstream file(scriptFile);
        file << script(figures, runs.size() > 1, out, options, pictures);
        if (!file) throw RecordError("cannot write " + scriptFile.string());
    }
    runGnuplot(scriptFile, pictures);
    return pictures;
}

}  // namespace pipelang::record
