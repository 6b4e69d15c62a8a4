// Text files must be UTF-8: labels, column names and texts end up in JSON
// (classes.json, record.toml) and in tokenizers, which refuse anything else
// with a message that names no file. Readers check text where they still know
// the file and the line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pipelang::runtime {

// The byte offset of the first invalid UTF-8 sequence (overlong forms,
// surrogates and code points past U+10FFFF included), or npos.
size_t invalidUtf8At(std::string_view text);
// Throws RuntimeError naming `file`, the line of the bad byte (`text` starts
// at `line`) and the byte, when `text` is not UTF-8.
void requireUtf8(std::string_view text, const std::string& file, int64_t line);
// The code points of UTF-8 text, each as its own string.
std::vector<std::string> utf8Chars(std::string_view text);

}  // namespace pipelang::runtime
