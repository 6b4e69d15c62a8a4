#include "record/plot_sweep.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <toml.hpp>

#include "record/sweep.h"

namespace pipelang::record {

namespace fs = std::filesystem;

namespace {

// A gnuplot data cell in double quotes.
std::string label(const std::string& s) {
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("'") : std::string(1, c);
    return out + "\"";
}

std::string number(double v) {
    if (!std::isfinite(v)) return "NaN";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.9g", v);
    return buffer;
}

// A point of the sweep as sweep.csv lists it, with its metric after each epoch.
struct Row {
    std::string run, status;
    std::vector<std::string> values;  // one per swept key
    double metric = NAN;              // the final metric, else the last epoch's
    bool best = false;
    std::vector<std::pair<double, double>> curve;  // epochs trained, metric
};

// The metric after each epoch, from the last stage (by name) that measures
// it, as the final metrics are read (finalMetrics).
std::vector<std::pair<double, double>> curveOf(const fs::path& dir, const std::string& metric) {
    std::vector<std::pair<double, double>> curve;
    if (!isRunDirectory(dir)) return curve;
    try {
        for (const auto& stage : readRun(dir).stages) {
            int x = stage.metrics.column("epoch"), y = stage.metrics.column(metric);
            if (x < 0 || y < 0) continue;
            curve.clear();
            for (const auto& row : stage.metrics.rows) curve.push_back({row[size_t(x)] + 1, row[size_t(y)]});
        }
    } catch (const RecordError&) {
        curve.clear();  // a point that failed half-written: drawn without its curve
    }
    return curve;
}

// How a swept key's values are placed on its parallel axis: numbers as they
// are (their logarithm when they span more than a decade and a half), other
// values one step apart in the order first seen.
struct Axis {
    std::string key;
    bool numeric = true, log = false;
    std::vector<std::string> categories;

    double place(const std::string& value) const {
        if (!numeric) return double(std::find(categories.begin(), categories.end(), value) - categories.begin());
        double x = std::strtod(value.c_str(), nullptr);
        return log ? std::log10(x) : x;
    }
    std::string tics(size_t column) const {
        std::string out = "set paxis " + std::to_string(column) + " tics (";
        if (!numeric) {  // every value written, those no point took too
            for (size_t i = 0; i < categories.size(); ++i)
                out += (i ? ", " : "") + gnuplotQuote(categories[i]) + " " + std::to_string(i);
            return out + ")\nset paxis " + std::to_string(column) +
                   " range [-0.25:" + number(double(categories.size()) - 0.75) + "]\n";
        }
        if (!log) return "set paxis " + std::to_string(column) + " tics auto\n";
        return "";  // set by the caller, from the range of the logarithms
    }
};

// The axis of `key` for the values its points took; sweep.toml's `axes`
// give the order of a list's values and whether a range is drawn on a log
// scale (else a span of a decade and a half or more is drawn as one).
Axis axisOf(const std::string& key, const std::vector<std::string>& values, const toml::value& summary) {
    Axis a;
    a.key = key;
    std::optional<bool> log;
    if (summary.contains("axes"))
        for (const auto& axis : toml::find<std::vector<toml::value>>(summary, "axes"))
            if (toml::find_or<std::string>(axis, "key", "") == key) {
                a.categories = toml::find_or<std::vector<std::string>>(axis, "values", {});
                if (axis.contains("log")) log = toml::find<bool>(axis, "log");
            }
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& v : values) {
        char* end = nullptr;
        double x = std::strtod(v.c_str(), &end);
        if (v.empty() || end != v.c_str() + v.size()) a.numeric = false;
        lo = std::min(lo, x), hi = std::max(hi, x);
        if (std::find(a.categories.begin(), a.categories.end(), v) == a.categories.end()) a.categories.push_back(v);
    }
    a.log = a.numeric && lo > 0 && log.value_or(hi / lo >= 30);
    return a;
}

std::string terminal(const std::string& extension) {
    return extension == "png" ? "pngcairo size 960,540 noenhanced font 'sans,10'"
                              : "svg size 960,540 dynamic noenhanced font 'sans,10'";
}

}  // namespace

std::vector<fs::path> plotSweep(const fs::path& sweepDir, const PlotOptions& options) {
    std::string metric = "valid_loss";
    toml::value summary;
    try {
        summary = toml::parse((sweepDir / "sweep.toml").string());
        metric = toml::find<std::string>(summary, "metric");
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
    // The swept keys stand between the status and the metrics.
    std::vector<std::string> keys;
    for (size_t c = 4; c < size_t(std::min(metricColumn, seconds)); ++c) {
        if (header[c].find('.') == std::string::npos && header[c] != "seed") break;  // the metrics begin
        keys.push_back(header[c]);
    }
    struct Bar {
        std::string name;
        double value;
        bool best;
    };
    std::vector<Bar> bars;
    std::vector<RunRecord> runs;
    std::vector<Row> rows;
    while (std::getline(in, line)) {
        auto cells = csvCells(line);
        if (cells.size() != header.size()) continue;
        Row row;
        row.run = cells[2];
        row.status = cells[3];
        for (size_t k = 0; k < keys.size(); ++k) row.values.push_back(cells[4 + k]);
        row.curve = curveOf(sweepDir / row.run, metric);
        row.best = cells[1] == "1";
        bool finished = row.status == "finished" && !cells[size_t(metricColumn)].empty();
        row.metric = finished            ? std::strtod(cells[size_t(metricColumn)].c_str(), nullptr)
                     : row.curve.empty() ? NAN
                                         : row.curve.back().second;
        if (finished || (row.status == "stopped" && !row.curve.empty())) rows.push_back(row);
        if (!finished) continue;
        std::string name = row.run;
        for (size_t k = 0; k < keys.size(); ++k)
            name += " " + keys[k].substr(keys[k].rfind('.') + 1) + "=" + row.values[k];
        bars.push_back({name, row.metric, row.best});
        if (isRunDirectory(sweepDir / row.run)) runs.push_back(readRun(sweepDir / row.run));
    }
    if (bars.empty()) throw RecordError("the sweep in " + sweepDir.string() + " has no finished point to draw");

    std::error_code ec;
    fs::create_directories(options.out, ec);
    if (ec) throw RecordError("cannot create " + options.out.string() + ": " + ec.message());
    fs::path out = fs::absolute(options.out).lexically_normal();
    std::vector<std::string> extensions;
    if (options.png) extensions.push_back("png");
    if (options.svg) extensions.push_back("svg");
    std::vector<fs::path> pictures;
    std::ostringstream s;
    const std::string direction = higherIsBetter(metric) ? "higher is better" : "lower is better";
    const std::string name = runName(sweepDir);

    // The metric per point, as bars in ranked order.
    s << "# " << metric << " of every finished point of " << sweepDir.filename().string() << ", ranked\n"
      << "set title " << gnuplotQuote(name + ": " + metric + " per point (" + direction + "; best in orange)")
      << "\nset style fill solid 0.7 border -1\nset boxwidth 0.7\nset grid ytics\nset ylabel " << gnuplotQuote(metric)
      << "\nset xtics rotate by -25 left\nset bmargin 8\nset key off\nset yrange [0:*]\n"
      << "$points << EOD\n";
    for (const auto& b : bars)
        s << label(b.name) << " " << number(b.value) << " " << (b.best ? "0xee7733" : "0x4477aa") << "\n";
    s << "EOD\n";
    for (const auto& extension : extensions) {
        fs::path picture = out / ("sweep." + extension);
        s << "set terminal " << terminal(extension) << "\nset output " << gnuplotQuote(picture.string()) << "\n"
          << "plot $points using 0:2:3:xtic(1) with boxes lc rgb variable, "
          << "$points using 0:2:(sprintf('%.4g', $2)) with labels offset 0,0.6\nunset output\n";
        pictures.push_back(picture);
    }

    // Parallel coordinates: an axis per swept key and one for the metric, a
    // line per point coloured from blue (worst) to orange (best), grey for a
    // point asha stopped (at the metric it was stopped with).
    if (!keys.empty()) {
        std::vector<Axis> axes;
        for (size_t k = 0; k < keys.size(); ++k) {
            std::vector<std::string> values;
            for (const auto& r : rows) values.push_back(r.values[k]);
            axes.push_back(axisOf(keys[k], values, summary));
        }
        double worst = INFINITY, best = -INFINITY;  // as "higher is better" sees them
        const double sign = higherIsBetter(metric) ? 1 : -1;
        for (const auto& r : rows)
            if (r.status == "finished" && std::isfinite(r.metric))
                worst = std::min(worst, sign * r.metric), best = std::max(best, sign * r.metric);
        auto colour = [&](const Row& r) {
            if (r.status != "finished" || !std::isfinite(r.metric)) return 0xaaaaaa;
            double t = best > worst ? std::clamp((sign * r.metric - worst) / (best - worst), 0.0, 1.0) : 1.0;
            auto mix = [&](int from, int to) { return int(std::lround(from + (to - from) * t)); };
            return mix(0x44, 0xee) << 16 | mix(0x77, 0x77) << 8 | mix(0xaa, 0x33);
        };
        s << "\n# the points across their settings\nreset\nset title "
          << gnuplotQuote(name + ": each point's settings and " + metric + " (blue worst, orange best; grey stopped)")
          << "\nunset ytics\nunset key\nset border 0\nset lmargin 10\nset xrange [0.5:" << axes.size() + 1.5
          << "]\nset xtics (";
        for (size_t k = 0; k < axes.size(); ++k) s << gnuplotQuote(axes[k].key) << " " << k + 1 << ", ";
        s << gnuplotQuote(metric) << " " << axes.size() + 1 << ") nomirror scale 0\n";
        for (size_t k = 0; k < axes.size(); ++k) {
            const Axis& a = axes[k];
            if (a.log) {
                double first = INFINITY, last = -INFINITY;
                for (const auto& r : rows)
                    first = std::min(first, a.place(r.values[k])), last = std::max(last, a.place(r.values[k]));
                s << "set paxis " << k + 1 << " range [" << number(std::floor(first)) << ":" << number(std::ceil(last))
                  << "]\nset paxis " << k + 1 << " tics (";
                for (int d = int(std::floor(first)); d <= int(std::ceil(last)); ++d)
                    s << (d > int(std::floor(first)) ? ", " : "") << gnuplotQuote("1e" + std::to_string(d)) << " " << d;
                s << ")\n";
            } else {
                s << a.tics(k + 1);
            }
        }
        s << "set paxis " << axes.size() + 1 << " tics auto\n"
          << "set for [i=1:" << axes.size() + 1 << "] paxis i tics right offset -0.5,0\n$parallel << EOD\n";
        // Grey first, so that the finished points are drawn over them.
        for (bool finished : {false, true})
            for (const auto& r : rows) {
                if ((r.status == "finished") != finished) continue;
                for (size_t k = 0; k < axes.size(); ++k) s << number(axes[k].place(r.values[k])) << " ";
                s << number(r.metric) << " " << colour(r) << "\n";
            }
        s << "EOD\n";
        size_t columns = axes.size() + 1;
        for (const auto& extension : extensions) {
            fs::path picture = out / ("parallel." + extension);
            s << "set terminal " << terminal(extension) << "\nset output " << gnuplotQuote(picture.string())
              << "\nplot $parallel using 1:" << columns + 1
              << " with parallelaxes lw 2 lc rgb variable, for [i=2:" << columns
              << "] $parallel using i with parallelaxes\nunset output\n";
            pictures.push_back(picture);
        }
    }

    // Each point's metric after each epoch: where asha compared them (its
    // rungs, dashed) and where it stopped the weak ones.
    std::set<double> rungs;
    {
        std::ifstream asha(sweepDir / "asha.csv");
        std::string row;
        std::getline(asha, row);
        while (std::getline(asha, row))
            if (auto cells = csvCells(row); cells.size() == 4) rungs.insert(std::strtod(cells[1].c_str(), nullptr));
    }
    double lastEpoch = 0;
    for (const auto& r : rows)
        if (!r.curve.empty()) lastEpoch = std::max(lastEpoch, r.curve.back().first);
    s << "\n# " << metric << " after each epoch of every point\nreset\nset title "
      << gnuplotQuote(name + ": " + metric + " after each epoch (best in orange; grey: stopped early" +
                      (rungs.empty() ? ")" : "; dashed: asha's rungs)"))
      << "\nset xlabel 'epochs trained'\nset ylabel " << gnuplotQuote(metric)
      << "\nset grid ytics\nset key off\nset xrange [0.75:" << number(lastEpoch + 0.25) << "]\n"
      << (lastEpoch <= 20 ? "set xtics 1\n" : "");
    for (double r : rungs)
        s << "set arrow from " << number(r) << ", graph 0 to " << number(r)
          << ", graph 1 nohead dt 2 lc rgb '#999999'\n";
    s << "$curves << EOD\n";
    std::vector<std::string> styles;
    for (const auto& r : rows) {
        if (r.curve.empty()) continue;
        for (const auto& [x, y] : r.curve) s << number(x) << " " << number(y) << "\n";
        s << "\n\n";  // the next point: another data set
        styles.push_back(r.best                  ? "lw 3 lc rgb '#ee7733'"
                         : r.status == "stopped" ? "lw 1 lc rgb '#aaaaaa'"
                                                 : "lw 1.5 lc rgb '#4477aa'");
    }
    s << "EOD\n";
    for (const auto& extension : styles.empty() ? std::vector<std::string>{} : extensions) {
        fs::path picture = out / ("epochs." + extension);
        s << "set terminal " << terminal(extension) << "\nset output " << gnuplotQuote(picture.string()) << "\nplot ";
        for (size_t i = 0; i < styles.size(); ++i)
            s << (i ? ", " : "") << "$curves index " << i << " using 1:2 with linespoints pt 7 ps 0.7 " << styles[i];
        s << "\nunset output\n";
        pictures.push_back(picture);
    }

    fs::path scriptFile = out / "sweep.gp";
    std::ofstream(scriptFile) << s.str();
    runGnuplot(scriptFile, pictures);
    // The curves of every finished point, a line per point.
    if (runs.size() > 1) {
        PlotOptions curves = options;
        curves.out = out / "curves";
        for (const auto& picture : plotRuns(runs, curves)) pictures.push_back(picture);
    }
    return pictures;
}

}  // namespace pipelang::record
