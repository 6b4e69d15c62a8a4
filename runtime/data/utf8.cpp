#include "runtime/data/utf8.h"

#include <algorithm>
#include <cstdio>

#include "runtime/error.h"

namespace pipelang::runtime {

size_t invalidUtf8At(std::string_view text) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t extra;
        uint32_t min;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3, min = 0x10000;
        } else {
            return i;
        }
        if (i + extra >= n) return i;
        uint32_t code = c & (0x3F >> extra);
        for (size_t k = 1; k <= extra; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            code = (code << 6) | (s[i + k] & 0x3F);
        }
        // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
        if (code < min || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) return i;
        i += extra + 1;
    }
    return std::string_view::npos;
}

void requireUtf8(std::string_view text, const std::string& file, int64_t line) {
    size_t at = invalidUtf8At(text);
    if (at == std::string_view::npos) return;
    // The line of the bad byte inside a multi-line item.
    line += int64_t(std::count(text.begin(), text.begin() + long(at), '\n'));
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", unsigned(uint8_t(text[at])));
    throw RuntimeError("`" + file + "` line " + std::to_string(line) + " is not valid UTF-8 (byte " + byte +
                       "); convert the file, e.g. `iconv -f latin1 -t utf-8`.");
}

std::vector<std::string> utf8Chars(std::string_view text) {
    std::vector<std::string> out;
    for (size_t i = 0; i < text.size();) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
        len = std::min(len, text.size() - i);
        out.emplace_back(text.substr(i, len));
        i += len;
    }
    return out;
}

}  // namespace pipelang::runtime
