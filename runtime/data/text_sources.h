// Text sources read into tables with a `text` column, so labels, splits and
// the text blocks read them as they read a csv: `lines` (one item per line)
// and `fortunes` (the `%`-separated fortune-cookie files Debian ships), and
// the UTF-8 checks every text input passes.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/data/table.h"
#include "runtime/data/utf8.h"

namespace pipelang::runtime {

// One item per line of a text file: column `text`, the line's number kept.
// Blank lines (nothing but spaces) are skipped; a final "\r" is dropped.
// Invalid UTF-8 is an error naming the file and line.
Table readLines(const std::filesystem::path& path);

// The fortunes under `root`: columns `text`, `label` and `file`. The files
// are those in `root` and its language folders (`de`, `es`, `it`; not `off`,
// which Debian keeps apart), without the `.dat` indexes and `.u8` links; a
// file reached twice (the root's links into `it/`) is read once. `files`
// (names as `art` or `de/computer`; empty: all) picks some. The label is the
// file's name (`art`, `de/computer`, `.fortunes` dropped) when `by` is
// "file", or its language (`en` in the root, else the folder's name) when
// "language". Empty fortunes are skipped.
Table readFortunes(const std::filesystem::path& root, const std::vector<std::string>& files, const std::string& by);

}  // namespace pipelang::runtime
