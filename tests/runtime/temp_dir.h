// A fresh folder under the system's temporary folder, removed afterwards:
// the runtime tests' scratch space. Named by the process and a counter, so
// tests that run at once never share one.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace pipelang::runtime {

class TempDir {
public:
    explicit TempDir(const std::string& prefix = "pipe-test") {
        static int counter = 0;
        path_ = std::filesystem::temp_directory_path() /
                (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

}  // namespace pipelang::runtime
