// What `pipe show`, `pipe interpret` and `pipe lr-find` share: a .pipe file
// (or a run's recorded one) compiled, and the train stage they look at with
// its data and model sections.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "interpreter/compile.h"
#include "runtime/data/dataset.h"

namespace pipelang::runtime {

struct Experiment {
    std::unique_ptr<Compilation> compilation;
    std::filesystem::path baseDir;  // the .pipe file's folder: relative paths start there
    uint64_t seed = 0;
    const Section* train = nullptr;  // null when the file has no train stage
    const Section* data = nullptr;
    const Section* model = nullptr;

    const Pipeline& pipeline() const { return compilation->pipeline; }
};

// Compiles `file` with `overrides` (printing warnings) and picks the train
// stage `stage` (empty: the last). Throws RuntimeError when the file does not
// check (after printing its diagnostics) or the stage does not exist.
Experiment openExperiment(const std::string& file, const std::vector<std::string>& overrides, const std::string& stage);

// The same for a run directory: its recorded source.pipe and overrides, read
// as if it stood where the original file did.
Experiment openRun(const std::filesystem::path& run, const std::string& stage);

// A data section by name (empty: the train stage's, else the only one).
const Section& dataSection(const Experiment& experiment, const std::string& name);

// The data section `data` read and prepared as `pipe run` prepares it, so
// that its batches are the ones training saw: a text block is tokenized with
// its tokenizer, loaded from `run` when that run saved one (interpret), or
// trained again, with the file's seed, from the same training text (show,
// lr-find; the pieces are the same as the run's, and nothing is kept).
std::unique_ptr<PreparedData> prepareLooked(const Experiment& experiment, const Section& data,
                                            const std::filesystem::path& run = {});

// The batch on `device`.
Batch onDevice(Batch batch, const torch::Device& device);

// An integer field of a section (batch_size, workers), as resolved.
int64_t sectionInt(const Section& section, const char* field);

}  // namespace pipelang::runtime
