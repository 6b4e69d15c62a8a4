// Text files must be UTF-8: labels, column names and texts end up in JSON
// (classes.json, record.toml) and in tokenizers, which refuse anything else
// with a message that names no file. A reader checks its text once, where it
// still knows the file and the line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pipelang::runtime {

// The offset of the first byte that does not belong to well-formed UTF-8
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or
// npos when the whole text is UTF-8.
inline size_t firstInvalidUtf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        const auto b = uint8_t(text[i]);
        if (b < 0x80) {
            ++i;
            continue;
        }
        size_t length = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
        if (length == 0 || i + length > text.size()) return i;
        const auto second = uint8_t(text[i + 1]);
        // The second byte's range excludes overlong forms, surrogates and code points past U+10FFFF.
        uint8_t low = b == 0xe0 ? 0xa0 : b == 0xf0 ? 0x90 : 0x80;
        uint8_t high = b == 0xed ? 0x9f : b == 0xf4 ? 0x8f : 0xbf;
        if (second < low || second > high) return i;
        for (size_t k = 2; k < length; ++k)
            if ((uint8_t(text[i + k]) & 0xc0) != 0x80) return i;
        i += length;
    }
    return std::string_view::npos;
}

}  // namespace pipelang::runtime
