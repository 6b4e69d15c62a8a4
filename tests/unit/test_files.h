// Files for the tests: reading one whole, and the examples the tests run on.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pipelang::testing {

inline std::string readFile(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// examples/*.pipe, sorted.
inline std::vector<std::filesystem::path> examplePaths() {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(PIPE_SOURCE_DIR) / "examples"))
        if (e.path().extension() == ".pipe") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace pipelang::testing
