// What a run says: lines a person reads on the terminal, and the same lines
// with a timestamp in the run directory's log.txt (spdlog), so a run can be
// read afterwards as it was watched. Progress bars are drawn elsewhere and
// not logged; the epoch table and every message are.
#pragma once

#include <filesystem>
#include <string>

namespace pipelang::runtime::log {

// A line of the run's story, on standard output.
void info(const std::string& line);
// A note or warning (data rows dropped, images skipped), on standard error.
void note(const std::string& line);
// The error that ends a run, on standard error.
void error(const std::string& line);

// From now on, every line also goes to `file` (appended), flushed at once so
// a crash loses nothing. Throws RuntimeError when the file cannot be opened.
void openRunLog(const std::filesystem::path& file);
void closeRunLog();

}  // namespace pipelang::runtime::log
