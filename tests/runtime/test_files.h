// Files and tools the runtime tests share: reading a file whole, the run a
// `pipe run` left, a learnable folder of images, and whether Debian's Python
// has what a reference needs. (Kept in one place: the tests compile in
// batches, where two copies of a helper collide.)
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "runtime/data/image.h"
#include "runtime/error.h"
#include "runtime/safetensors.h"

namespace pipelang::runtime {

inline std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The one run directory under `runs` (a test that ran `pipe run` once).
inline std::filesystem::path onlyRun(const std::filesystem::path& runs) {
    std::vector<std::filesystem::path> found;
    for (const auto& e : std::filesystem::directory_iterator(runs)) found.push_back(e.path());
    EXPECT_EQ(found.size(), 1u) << runs;
    return found.empty() ? runs : found.front();
}

// Three measurements and a class that depends on them, with noise.
inline void writeRows(const std::filesystem::path& path, int rows) {
    std::mt19937 rng(5);
    std::normal_distribution<double> normal;
    std::ofstream out(path);
    out << "a,b,c,label\n";
    for (int i = 0; i < rows; ++i) {
        double a = normal(rng), b = normal(rng), c = normal(rng);
        out << a << "," << b << "," << c << "," << (a + 0.5 * b - c + 0.3 * normal(rng) > 0 ? "yes" : "no") << "\n";
    }
}

// The largest difference between two runs' weights (and batch-norm
// buffers) after epoch `epoch`, over every tensor.
inline double largestDifference(const std::filesystem::path& runA, const std::filesystem::path& runB, int epoch) {
    std::string name = "epoch-" + std::to_string(epoch) + ".safetensors";
    auto a = readSafetensors(runA / "fit" / "checkpoints" / name);
    auto b = readSafetensors(runB / "fit" / "checkpoints" / name);
    EXPECT_EQ(a.tensors.size(), b.tensors.size());
    double largest = 0;
    for (size_t i = 0; i < std::min(a.tensors.size(), b.tensors.size()); ++i) {
        EXPECT_EQ(a.tensors[i].first, b.tensors[i].first);
        auto x = a.tensors[i].second.to(torch::kDouble), y = b.tensors[i].second.to(torch::kDouble);
        largest = std::max(largest, (x - y).abs().max().item<double>());
    }
    return largest;
}

// Horizontal against vertical stripes with noise, 16×16 grey PNGs under
// root/images/{horizontal,vertical}: easy to learn, impossible without
// looking at the pixels. Returns root.
inline std::filesystem::path makeStripes(const std::filesystem::path& root, int perClass) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> noise(-40, 40);
    for (const char* label : {"horizontal", "vertical"}) {
        std::filesystem::create_directories(root / "images" / label);
        for (int i = 0; i < perClass; ++i) {
            Image image(1, 16, 16);
            for (int y = 0; y < 16; ++y)
                for (int x = 0; x < 16; ++x) {
                    int coordinate = std::string(label) == "horizontal" ? y : x;
                    int base = ((coordinate + i % 4) / 2) % 2 ? 200 : 50;
                    image.at(0, y, x) = uint8_t(std::clamp(base + noise(rng), 0, 255));
                }
            writePng(root / "images" / label / (std::to_string(i) + ".png"), image);
        }
    }
    return root;
}

// The message of the RuntimeError `f` throws, or "" when it throws none.
inline std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const RuntimeError& e) {
        return e.what();
    }
    return "";
}

// Whether /usr/bin/python3 (Debian's, with python3-torch and friends) can
// import `modules` ("torch, torchvision"); asked once per list.
inline bool pythonCanImport(const std::string& modules) {
    static std::map<std::string, bool> known;
    auto it = known.find(modules);
    if (it == known.end())
        it = known
                 .emplace(modules,
                          std::system(("/usr/bin/python3 -c 'import " + modules + "' >/dev/null 2>&1").c_str()) == 0)
                 .first;
    return it->second;
}

}  // namespace pipelang::runtime
