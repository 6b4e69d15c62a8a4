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

// The byte offset of the first invalid UTF-8 sequence, or npos.
size_t invalidUtf8At(std::string_view text);
// Throws RuntimeError naming `file` and `line` when `text` is not UTF-8.
void requireUtf8(std::string_view text, const std::string& file, int64_t line);
// The code points of UTF-8 text, each as its own string.
std::vector<std::string> utf8Chars(std::string_view text);

}  // namespace pipelang::runtime
