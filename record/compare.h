// `pipe compare`: the settings in which runs differ, beside their final
// metrics. Each run's settings are derived again from what the run kept — its
// source.pipe compiled as if it stood at source-path.txt, with the `--set`
// overrides of overrides.txt — so every value is the resolved one (defaults
// filled, constants substituted), not text that happens to differ.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/pipeline.h"

namespace pipelang::record {

// Every setting of a pipeline as `key = value` text, in plan order: `seed`,
// `<section>.<field>`, and for a call its name under its own key and each
// argument under `<key>.<param>` (fit.optimizer = adamw, fit.optimizer.lr = 0.003).
std::vector<std::pair<std::string, std::string>> flattenSettings(const Pipeline& pipeline);

struct Comparison {
    std::vector<std::string> runs;                  // the runs' directory names
    std::vector<std::string> settings;              // keys whose values differ between the runs
    std::vector<std::vector<std::string>> values;   // [run][setting]; "-" where a run has no such setting
    std::vector<std::string> metrics;               // epochs, train_loss, valid_loss, metrics..., time
    std::vector<std::vector<std::string>> results;  // [run][metric], from the last epoch; "-" if none
};

// Reads the run directories. Throws RecordError for a path that is not a run
// directory, a malformed metrics.csv, or a recorded pipeline that no longer
// checks (the message then holds the diagnostics).
Comparison compareRuns(const std::vector<std::filesystem::path>& dirs);

// The comparison as an aligned table: one row per run, or, when that is
// wider than `width` characters, one row per setting and metric with a column
// per run. Values longer than 40 characters are cut short with `...`. A line
// above the table says when the runs' settings are all the same.
std::string renderComparison(const Comparison& comparison, size_t width = 160);

}  // namespace pipelang::record
