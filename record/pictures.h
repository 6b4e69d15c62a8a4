// Pictures of data and models, drawn by gnuplot (as `pipe plot`'s curves
// are), for `pipe show`, `pipe interpret` and `pipe lr-find`: a grid of
// images with a caption under each, a confusion matrix as a heatmap, and the
// learning-rate range test's loss curve. gnuplot sets the text with a real
// font (pngcairo), so pipe rasterises no glyphs of its own; each picture is
// written beside the gnuplot script that drew it (NAME.gp), to restyle by hand.
// Nothing here needs LibTorch: the images arrive as PNG files.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace pipelang::record {

// One cell of a grid: a PNG file (grey or RGB) and the lines under it.
struct Tile {
    std::filesystem::path png;
    std::vector<std::string> caption;
};

struct GridLayout {
    int columns = 0, rows = 0;
    int cell = 0;  // the side of a tile's square, in pixels
    int captionLines = 0;
    int width = 0, height = 0;  // of the whole picture, in pixels
};

// Where `count` tiles with `captionLines` lines each go: about square, at most
// 8 columns, every tile scaled to the same square.
GridLayout gridLayout(int count, int captionLines);

// Draws `tiles` as a grid, with `title` above it, into `picture` (PNG). The
// script goes beside it as `picture` with the extension .gp. Throws PlotError
// when gnuplot is missing or fails, RecordError for no tiles.
void drawGrid(const std::vector<Tile>& tiles, const std::string& title, const std::filesystem::path& picture);

// Draws a confusion matrix (rows: true classes, columns: predicted) as a
// heatmap with the count in every cell, into `picture` (PNG).
void drawConfusion(const std::vector<std::string>& classes, const std::vector<std::vector<int64_t>>& counts,
                   const std::string& title, const std::filesystem::path& picture);

// A marked point of the range test: a suggestion's name, its rate and the
// smoothed loss there.
struct LrMark {
    std::string name;
    double lr = 0, loss = 0;
};

// Draws smoothed loss against learning rate (log scale) with the suggestions
// marked, into `stem`.png and `stem`.svg; returns the two pictures.
std::vector<std::filesystem::path> drawLrFind(const std::vector<std::pair<double, double>>& lrLoss,
                                              const std::vector<LrMark>& marks, const std::string& title,
                                              const std::filesystem::path& stem);

}  // namespace pipelang::record
