#include "record/pictures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "record/plot.h"

namespace pipelang::record {

namespace fs = std::filesystem;

namespace {

constexpr int kCell = 128;  // a tile's square, pixels
constexpr int kPad = 8;     // around each tile
constexpr int kLine = 14;   // one caption line
constexpr int kTitle = 28;  // the title band
constexpr int kMaxColumns = 8;

// The width and height a PNG file's header gives (its IHDR chunk), so that a
// tile keeps its shape inside its square.
std::pair<int, int> pngSize(const fs::path& png) {
    std::ifstream in(png, std::ios::binary);
    unsigned char header[24] = {};
    in.read(reinterpret_cast<char*>(header), sizeof header);
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (!in || !std::equal(signature, signature + 8, header))
        throw RecordError(png.string() + " is not a PNG file (the grid draws PNG tiles)");
    auto word = [&](int at) {
        return int(header[at]) << 24 | int(header[at + 1]) << 16 | int(header[at + 2]) << 8 | int(header[at + 3]);
    };
    return {word(16), word(20)};
}

// Pixels from the picture's top-left corner to gnuplot's screen coordinates,
// which run from the bottom-left.
struct Screen {
    int width, height;
    std::string x(double px) const { return number(px / width); }
    std::string y(double py) const { return number(1.0 - py / height); }
    static std::string number(double v) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.6f", v);
        return buffer;
    }
};

void writeScript(const fs::path& file, const std::string& text) {
    std::ofstream out(file);
    out << text;
    if (!out) throw RecordError("cannot write " + file.string());
}

void makeParent(const fs::path& picture) {
    std::error_code ec;
    if (picture.has_parent_path()) fs::create_directories(picture.parent_path(), ec);
    if (ec) throw RecordError("cannot create " + picture.parent_path().string() + ": " + ec.message());
}

std::string number(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.9g", v);
    return buffer;
}

}  // namespace

GridLayout gridLayout(int count, int captionLines) {
    GridLayout g;
    g.columns = std::clamp(int(std::ceil(std::sqrt(double(std::max(count, 1))))), 1, kMaxColumns);
    g.rows = (std::max(count, 1) + g.columns - 1) / g.columns;
    g.cell = kCell;
    g.captionLines = captionLines;
    g.width = g.columns * (kCell + 2 * kPad);
    g.height = kTitle + g.rows * (kCell + 2 * kPad + captionLines * kLine);
    return g;
}

void drawGrid(const std::vector<Tile>& tiles, const std::string& title, const fs::path& picture) {
    if (tiles.empty()) throw RecordError("no items to draw in " + picture.string());
    size_t lines = 0;
    for (const auto& tile : tiles) lines = std::max(lines, tile.caption.size());
    GridLayout g = gridLayout(int(tiles.size()), int(lines));
    Screen screen{g.width, g.height};
    const int blockWidth = kCell + 2 * kPad, blockHeight = kCell + 2 * kPad + g.captionLines * kLine;

    std::ostringstream s;
    s << "# Drawn by pipe; run `gnuplot " << picture.filename().replace_extension(".gp").string()
      << "` in this folder to draw it again.\n";
    s << "set terminal pngcairo size " << g.width << "," << g.height
      << " noenhanced font 'sans,9' background rgb '#f2f2f2'\n";
    s << "set output " << gnuplotQuote(fs::absolute(picture).string()) << "\n";
    s << "set multiplot\nunset border\nunset tics\nunset key\nunset colorbox\n";
    s << "set label 1 " << gnuplotQuote(title) << " at screen 0.5, screen " << screen.y(kTitle * 0.55)
      << " center font 'sans,11'\n";
    for (size_t k = 0; k < tiles.size(); ++k) {
        const Tile& tile = tiles[k];
        auto [w, h] = pngSize(tile.png);
        int column = int(k) % g.columns, row = int(k) / g.columns;
        double left = column * blockWidth + kPad, top = kTitle + row * blockHeight + kPad;
        // The tile keeps its shape, centred in its square.
        double scale = double(kCell) / std::max(w, h);
        double tw = w * scale, th = h * scale;
        double x0 = left + (kCell - tw) / 2, y0 = top + (kCell - th) / 2;
        s << "\nset lmargin at screen " << screen.x(x0) << "\nset rmargin at screen " << screen.x(x0 + tw)
          << "\nset tmargin at screen " << screen.y(y0) << "\nset bmargin at screen " << screen.y(y0 + th) << "\n";
        s << "set xrange [-0.5:" << w - 0.5 << "]\nset yrange [-0.5:" << h - 0.5 << "]\n";
        for (size_t i = 0; i < tile.caption.size(); ++i)
            s << "set label " << i + 2 << " " << gnuplotQuote(tile.caption[i]) << " at screen "
              << screen.x(left + kCell / 2.0) << ", screen " << screen.y(top + kCell + kLine * (i + 0.9))
              << " center\n";
        s << "plot " << gnuplotQuote(fs::absolute(tile.png).string()) << " binary filetype=png with rgbimage\n";
        s << "unset label\n";
    }
    s << "unset multiplot\nunset output\n";
    makeParent(picture);
    fs::path script = fs::path(picture).replace_extension(".gp");
    writeScript(script, s.str());
    runGnuplot(script, {picture});
}

void drawConfusion(const std::vector<std::string>& classes, const std::vector<std::vector<int64_t>>& counts,
                   const std::string& title, const fs::path& picture) {
    const size_t n = classes.size();
    if (n == 0 || counts.size() != n) throw RecordError("a confusion matrix needs one row per class");
    int64_t most = 1;
    for (const auto& row : counts)
        for (int64_t c : row) most = std::max(most, c);
    const int side = std::max(480, 160 + 48 * int(n));
    std::ostringstream s;
    s << "# Drawn by pipe; run `gnuplot " << picture.filename().replace_extension(".gp").string()
      << "` in this folder to draw it again.\n";
    s << "$counts << EOD\n";
    for (const auto& row : counts) {
        for (size_t j = 0; j < row.size(); ++j) s << (j ? " " : "") << row[j];
        s << "\n";
    }
    s << "EOD\n";
    s << "set terminal pngcairo size " << side + 80 << "," << side << " noenhanced font 'sans,9'\n";
    s << "set output " << gnuplotQuote(fs::absolute(picture).string()) << "\n";
    s << "set title " << gnuplotQuote(title) << " font 'sans,11'\n";
    s << "set xlabel 'predicted'\nset ylabel 'true'\nunset key\nset size ratio -1\n";
    s << "set xrange [-0.5:" << n - 0.5 << "]\nset yrange [" << n - 0.5 << ":-0.5]\n";
    s << "set palette defined (0 '#ffffff', 1 '#2b6cb0')\nset cbrange [0:" << most << "]\n";
    s << "set xtics rotate by 45 right (";
    for (size_t i = 0; i < n; ++i) s << (i ? ", " : "") << gnuplotQuote(classes[i]) << " " << i;
    s << ")\nset ytics (";
    for (size_t i = 0; i < n; ++i) s << (i ? ", " : "") << gnuplotQuote(classes[i]) << " " << i;
    s << ")\nset tics scale 0\n";
    // Counts in dark cells are written in white.
    s << "plot $counts matrix with image, \\\n     $counts matrix using 1:2:(sprintf('%d', int($3))):($3 > "
      << most / 2.0 << " ? 0xffffff : 0x000000) with labels textcolor rgb variable\n";
    s << "unset output\n";
    makeParent(picture);
    fs::path script = fs::path(picture).replace_extension(".gp");
    writeScript(script, s.str());
    runGnuplot(script, {picture});
}

std::vector<fs::path> drawLrFind(const std::vector<std::pair<double, double>>& lrLoss, const std::vector<LrMark>& marks,
                                 const std::string& title, const fs::path& stem) {
    if (lrLoss.empty()) throw RecordError("the range test recorded no loss to draw");
    std::ostringstream s;
    s << "# Drawn by pipe; run `gnuplot " << stem.filename().string() << ".gp` in this folder to draw it again.\n";
    s << "$curve << EOD\n";
    for (const auto& [lr, loss] : lrLoss) s << number(lr) << " " << number(loss) << "\n";
    s << "EOD\n";
    for (size_t i = 0; i < marks.size(); ++i)
        s << "$mark" << i << " << EOD\n" << number(marks[i].lr) << " " << number(marks[i].loss) << "\nEOD\n";
    s << "set grid\nset logscale x\nset format x '%.0e'\nset key top left\n";
    s << "set title " << gnuplotQuote(title) << "\nset xlabel 'learning rate'\nset ylabel 'loss (smoothed)'\n";
    std::vector<fs::path> pictures;
    const std::pair<const char*, const char*> terminals[] = {
        {".png", "pngcairo size 960,540 noenhanced font 'sans,10'"},
        {".svg", "svg size 960,540 dynamic noenhanced font 'sans,10'"}};
    for (const auto& [extension, terminal] : terminals) {
        fs::path picture = fs::path(stem).concat(extension);
        pictures.push_back(picture);
        s << "\nset terminal " << terminal << "\nset output " << gnuplotQuote(fs::absolute(picture).string())
          << "\nplot $curve using 1:2 with lines linewidth 2 title 'loss'";
        for (size_t i = 0; i < marks.size(); ++i) {
            char lr[32];
            std::snprintf(lr, sizeof lr, "%.2e", marks[i].lr);
            s << ", \\\n     $mark" << i << " using 1:2 with points pointtype 7 pointsize 1.6 title "
              << gnuplotQuote(marks[i].name + " " + lr);
        }
        s << "\nunset output\n";
    }
    makeParent(stem);
    fs::path script = fs::path(stem).concat(".gp");
    writeScript(script, s.str());
    runGnuplot(script, pictures);
    return pictures;
}

}  // namespace pipelang::record
