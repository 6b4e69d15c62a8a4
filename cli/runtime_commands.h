// The commands `pipe` hands to `pipe-runtime`, the executable beside it that
// links LibTorch, so that every other command starts instantly. Both read
// this list: `pipe` for its usage and to hand over, `pipe-runtime` to check
// that each has its file in cli/runtime/. A new runtime command is its row
// here and its file there.
#pragma once

namespace pipelang::cli {

struct RuntimeCommandInfo {
    const char* name;
    const char* synopsis;  // one line for `pipe --help`
};

inline constexpr RuntimeCommandInfo kRuntimeCommands[] = {
    {"run", "check, compile and run a .pipe file on LibTorch: train, evaluate, export"},
    {"predict", "load a finished run and print the top labels of new inputs"},
    {"generate", "sample text from a finished run's language model"},
    {"repro", "run a finished run again from its record and report any difference"},
    {"show", "save one training batch as a captioned picture (images) or a table (rows)"},
    {"interpret", "save a finished run's confusion matrix and its items with the highest loss"},
    {"lr-find", "the learning-rate range test: loss against rate, with a suggested rate"},
};

}  // namespace pipelang::cli
