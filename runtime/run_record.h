// record.toml: what a run was, so it can be found, trusted and repeated —
// the resolved settings with their origins, the seed, the command line, the
// versions of pipe, LibTorch and the compiler, the machine's threads and
// device, the .pipe file's git state, a fingerprint of the data (every file
// with its size and SHA-256), the times, and each stage's metrics and
// weights hash. Written when the run starts and again when it ends, each
// time atomically (temporary file, fsync, rename), so it is never half there.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/pipeline.h"
#include "record/sha256.h"

namespace pipelang::runtime {

struct StageRecord {
    std::string name;
    std::string weightsSha256;
    int64_t epochs = 0;
    std::vector<std::pair<std::string, double>> metrics;  // the last epoch's (or the evaluation's)
};

// A run-wide value (runs folder, device, threads, data roots) and where it
// came from: "pipe.toml", a command-line flag such as "--threads", or "default".
struct ProjectValue {
    std::string key;
    std::vector<std::string> values;  // one for a single value; a list for data_roots
    bool list = false;
    std::string origin;
};

class RunRecord {
public:
    RunRecord(std::filesystem::path runDir, const Pipeline& pipeline, const std::filesystem::path& file,
              const std::vector<std::string>& commandLine, uint64_t seed, int threads);
    void setDevice(const std::string& device) { device_ = device; }
    void addStage(StageRecord stage) { stages_.push_back(std::move(stage)); }
    // The `[project]` table: the pipe.toml read (empty: none) and the run-wide values.
    void setProject(std::string file, std::vector<ProjectValue> values) {
        projectFile_ = std::move(file);
        project_ = std::move(values);
    }
    // A setting whose value came from elsewhere than the pipeline says, e.g. a
    // data path found under a pipe.toml data root: `cars.source.path` → "pipe.toml".
    void setOrigin(const std::string& setting, const std::string& origin) { origins_[setting] = origin; }
    // Status "running" (at the start), "finished" or "failed" (with the message).
    void write(const std::string& status, const std::string& error = "");

private:
    std::filesystem::path runDir_;
    const Pipeline& pipeline_;
    std::filesystem::path file_;
    std::vector<std::string> commandLine_;
    uint64_t seed_;
    int threads_;
    std::string device_ = "cpu";
    std::string started_;
    struct FilePrint {
        std::string path, sha256;
        int64_t size = 0;
    };
    std::vector<std::pair<std::string, std::vector<FilePrint>>> data_;  // per data block, measured once
    std::vector<StageRecord> stages_;
    std::string projectFile_;
    std::vector<ProjectValue> project_;
    std::map<std::string, std::string> origins_;
};

// The SHA-256 of a file's bytes, as 64 hex digits.
using record::sha256File;  // record/sha256.h

// Writes `text` to `path` atomically: a temporary file beside it, fsync, rename.
void writeFileAtomically(const std::filesystem::path& path, const std::string& text);

}  // namespace pipelang::runtime
