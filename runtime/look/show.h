// `pipe show FILE`: one training batch as the network gets it — the file's
// seed, the training split's first batch of epoch 0, after the item
// transforms (random ones included) — made readable again and saved: images
// as a captioned grid picture, tables as rows with their categories named.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pipelang::runtime {

struct ShowOptions {
    std::string file;
    std::vector<std::string> overrides;  // --set key=value
    std::string data;                    // the data block; empty: the one the last train stage reads
    std::filesystem::path out;           // the folder; empty: show-<file stem>
    int n = 16;                          // items shown (at most the batch size)
};

// Returns the exit code; throws RuntimeError on bad input.
int show(const ShowOptions& options);

}  // namespace pipelang::runtime
