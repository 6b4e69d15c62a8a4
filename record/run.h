// A finished (or running) run's directory as the tools that read it see it:
// `runs/<stem>-YYYYmmdd-HHMMSS/` with the run's own source.pipe, and a folder
// per train stage holding metrics.csv (`epoch,train_loss,valid_loss,
// <metrics...>,time`) and, where the training loop writes it, lr.csv
// (`step,lr...`). Nothing here needs LibTorch.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "interpreter/compile.h"

namespace pipelang::record {

// A run directory or one of its files that cannot be used; the message names
// the path (and the line, for a malformed CSV) and is fit to show as it is.
struct RecordError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A CSV file of numbers under a header line, read whole.
struct Table {
    std::filesystem::path file;
    std::vector<std::string> columns;
    std::vector<std::vector<double>> rows;       // every row has one value per column
    std::vector<std::vector<std::string>> text;  // the same cells as written in the file

    // The index of a column, or -1.
    int column(const std::string& name) const;
};

// Reads `file`, whose header must begin with `firstColumn`. Throws
// RecordError naming the file and line of an empty file, a row with the wrong
// number of cells or a cell that is not a number (`nan` and `inf` are
// numbers). A header without rows is a run whose first epoch has not ended.
Table readTable(const std::filesystem::path& file, const std::string& firstColumn);

struct StageRecord {
    std::string name;  // the train stage, as in the .pipe file
    std::filesystem::path dir;
    Table metrics;            // <stage>/metrics.csv
    std::optional<Table> lr;  // <stage>/lr.csv, when present
};

struct RunRecord {
    std::filesystem::path dir;
    std::string name;                 // the directory's name, e.g. fashion-20261122-134538
    std::vector<StageRecord> stages;  // sorted by name
};

// Whether `dir` looks like a run directory (it holds the run's source.pipe).
bool isRunDirectory(const std::filesystem::path& dir);

// Reads a run directory and every stage in it that has a metrics.csv. Throws
// RecordError when `dir` is not a run directory or a file in it is malformed.
RunRecord readRun(const std::filesystem::path& dir);

// The run's pipeline compiled again from what the run kept: its source.pipe,
// as if it stood at source-path.txt (so relative paths and imports mean what
// they meant when it ran), with the `--set` overrides of overrides.txt. The
// caller checks ok(): an imported file may have changed since.
std::unique_ptr<Compilation> compileRun(const std::filesystem::path& dir);
// Where the run's .pipe file stood (source-path.txt); its copy when that is missing.
std::filesystem::path sourcePath(const std::filesystem::path& dir);

// A new, empty directory `runsDir/<stem>-YYYYmmdd-HHMMSS` for a run of
// `file`, or `<stem>-<kind>-YYYYmmdd-HHMMSS` for a sweep or cross-validation
// (`-2`, `-3`... for those started in the same second: the name is claimed
// atomically, so runs started at once never share one). Throws RecordError
// when it cannot be made.
std::filesystem::path makeRunDirectory(const std::filesystem::path& runsDir, const std::filesystem::path& file,
                                       const std::string& kind = "");

// The name a run is shown by: its directory's name (trailing slashes ignored).
std::string runName(const std::filesystem::path& dir);

}  // namespace pipelang::record
