#include "record/plot_sweep.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <toml.hpp>

#include "record/sweep.h"

namespace pipelang::record {

namespace fs = std::filesystem;

namespace {

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

// A gnuplot data cell in double quotes.
std::string label(const std::string& s) {
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("'") : std::string(1, c);
    return out + "\"";
}

}  // namespace

std::vector<fs::path> plotSweep(const fs::path& sweepDir, const PlotOptions& options) {
    std::string metric = "valid_loss";
    try {
        metric = toml::find<std::string>(toml::parse((sweepDir / "sweep.toml").string()), "metric");
    } catch (const std::exception&) {
        throw RecordError((sweepDir / "sweep.toml").string() + " is missing or has no `metric`");
    }
    std::ifstream in(sweepDir / "sweep.csv");
    std::string line;
    std::getline(in, line);
    std::vector<std::string> header = csvCells(line);
    int metricColumn = -1, seconds = -1;
    for (size_t c = 0; c < header.size(); ++c) {
        if (header[c] == metric) metricColumn = int(c);
        if (header[c] == "seconds") seconds = int(c);
    }
    if (metricColumn < 0)
        throw RecordError((sweepDir / "sweep.csv").string() + ": no column `" + metric + "`: no point finished");
    struct Bar {
        std::string name;
        double value;
        bool best;
    };
    std::vector<Bar> bars;
    std::vector<RunRecord> runs;
    while (std::getline(in, line)) {
        auto cells = csvCells(line);
        if (cells.size() != header.size() || cells[3] != "finished" || cells[size_t(metricColumn)].empty()) continue;
        std::string name = cells[2];
        for (size_t c = 4; c < size_t(std::min(metricColumn, seconds)); ++c) {
            if (header[c].find('.') == std::string::npos && header[c] != "seed") break;  // the metrics begin
            std::string key = header[c].substr(header[c].rfind('.') + 1);
            name += " " + key + "=" + cells[c];
        }
        bars.push_back({name, std::strtod(cells[size_t(metricColumn)].c_str(), nullptr), cells[1] == "1"});
        if (isRunDirectory(sweepDir / cells[2])) runs.push_back(readRun(sweepDir / cells[2]));
    }
    if (bars.empty()) throw RecordError("the sweep in " + sweepDir.string() + " has no finished point to draw");

    auto gnuplot = findProgram("gnuplot");
    if (!gnuplot)
        throw PlotError(
            "gnuplot is not installed (or not in the PATH); it draws the plots: install Debian's package "
            "gnuplot-nox (`apt-get install gnuplot-nox`)");
    std::error_code ec;
    fs::create_directories(options.out, ec);
    if (ec) throw RecordError("cannot create " + options.out.string() + ": " + ec.message());
    fs::path out = fs::absolute(options.out).lexically_normal();
    std::vector<fs::path> pictures;
    std::ostringstream s;
    std::string direction = higherIsBetter(metric) ? "higher is better" : "lower is better";
    s << "# " << metric << " of every finished point of " << sweepDir.filename().string() << ", ranked\n"
      << "set title " << quote(runName(sweepDir) + ": " + metric + " per point (" + direction + "; best in orange)")
      << "\nset style fill solid 0.7 border -1\nset boxwidth 0.7\nset grid ytics\nset ylabel " << quote(metric)
      << "\nset xtics rotate by -25 left\nset bmargin 8\nset key off\nset yrange [0:*]\n"
      << "$points << EOD\n";
    for (const auto& b : bars)
        s << label(b.name) << " " << b.value << " " << (b.best ? "0xee7733" : "0x4477aa") << "\n";
    s << "EOD\n";
    std::vector<std::pair<std::string, std::string>> terminals;
    if (options.png) terminals.push_back({"png", "pngcairo size 960,540 noenhanced font 'sans,10'"});
    if (options.svg) terminals.push_back({"svg", "svg size 960,540 dynamic noenhanced font 'sans,10'"});
    for (const auto& [extension, terminal] : terminals) {
        fs::path picture = out / ("sweep." + extension);
        s << "set terminal " << terminal << "\nset output " << quote(picture.string()) << "\n"
          << "plot $points using 0:2:3:xtic(1) with boxes lc rgb variable, "
          << "$points using 0:2:(sprintf('%.4g', $2)) with labels offset 0,0.6\nunset output\n";
        pictures.push_back(picture);
    }
    fs::path scriptFile = out / "sweep.gp";
    std::ofstream(scriptFile) << s.str();
    std::string said;
    if (runProgram(*gnuplot, {scriptFile.string()}, said) != 0)
        throw PlotError("gnuplot failed on " + scriptFile.string() + (said.empty() ? std::string() : ":\n" + said));
    // The curves of every finished point, a line per point.
    if (runs.size() > 1) {
        PlotOptions curves = options;
        curves.out = out / "curves";
        for (const auto& picture : plotRuns(runs, curves)) pictures.push_back(picture);
    }
    return pictures;
}

}  // namespace pipelang::record
