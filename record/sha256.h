// SHA-256 fingerprints of files (OpenSSL): run records name their data and
// weights by them, and `pipe fetch` checks downloads against them.
#pragma once

#include <filesystem>
#include <string>

namespace pipelang::record {

// Lower-case hex. Throws std::runtime_error when the file cannot be read.
std::string sha256File(const std::filesystem::path& path);

}  // namespace pipelang::record
