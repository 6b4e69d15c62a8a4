#include "tokenizers/unicode.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "tokenizers/hf_tokenizer.h"

namespace pipelang::tokenizers::unicode {

namespace {

utf8proc_category_t category(char32_t c) {
    return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

// The length of the valid UTF-8 sequence at s[i], or 0 with `bad` set to the
// length of the maximal subpart to replace (Unicode's "U+FFFD substitution of maximal subparts").
size_t sequence(std::string_view s, size_t i, char32_t& c, size_t& bad) {
    auto b = static_cast<unsigned char>(s[i]);
    bad = 1;
    if (b < 0x80) {
        c = b;
        return 1;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF)
        n = 2, c = b & 0x1F;
    else if (b >= 0xE0 && b <= 0xEF) {
        n = 3, c = b & 0x0F;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4, c = b & 0x07;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else
        return 0;
    for (size_t k = 1; k < n; ++k) {
        if (i + k >= s.size()) return 0;
        auto t = static_cast<unsigned char>(s[i + k]);
        if (t < lo || t > hi) return 0;
        lo = 0x80, hi = 0xBF;
        c = (c << 6) | (t & 0x3F);
        bad = k + 1;
    }
    return n;
}

}  // namespace

std::u32string decode(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        char32_t c;
        size_t bad;
        size_t n = sequence(s, i, c, bad);
        if (n)
            out.push_back(c), i += n;
        else
            out.push_back(0xFFFD), i += bad;
    }
    return out;
}

void append(std::string& out, char32_t c) {
    if (c < 0x80)
        out += static_cast<char>(c);
    else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

std::string encode(std::u32string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char32_t c : text) append(out, c);
    return out;
}

std::string lossy(std::string_view bytes) {
    return encode(decode(bytes));
}

bool valid(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        char32_t c;
        size_t bad;
        size_t n = sequence(s, i, c, bad);
        if (!n) return false;
        i += n;
    }
    return true;
}

bool isWhitespace(char32_t c) {
    if ((c >= 0x09 && c <= 0x0D) || c == 0x85) return true;
    auto k = category(c);
    return k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL || k == UTF8PROC_CATEGORY_ZP;
}

bool isLetter(char32_t c) {
    auto k = category(c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

bool isNumber(char32_t c) {
    auto k = category(c);
    return k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO;
}

bool isMark(char32_t c) {
    auto k = category(c);
    return k >= UTF8PROC_CATEGORY_MN && k <= UTF8PROC_CATEGORY_ME;
}

bool isNonspacingMark(char32_t c) {
    return category(c) == UTF8PROC_CATEGORY_MN;
}

bool isOther(char32_t c) {
    auto k = category(c);
    return k == UTF8PROC_CATEGORY_CN || k >= UTF8PROC_CATEGORY_CC;
}

bool isPunctuation(char32_t c) {
    if (c < 0x80)
        return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
               (c >= 0x7B && c <= 0x7E);
    auto k = category(c);
    return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

bool isAlphanumeric(char32_t c) {
    return isLetter(c) || isNumber(c) || category(c) == UTF8PROC_CATEGORY_MC;
}

bool isWordChar(char32_t c) {
    return isLetter(c) || isMark(c) || category(c) == UTF8PROC_CATEGORY_ND || category(c) == UTF8PROC_CATEGORY_NL ||
           category(c) == UTF8PROC_CATEGORY_PC || c == 0x200C || c == 0x200D;
}

bool isChinese(char32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::vector<std::string_view> graphemes(std::string_view s) {
    std::vector<std::string_view> out;
    utf8proc_int32_t state = 0;
    char32_t previous = 0;
    size_t begin = 0;
    for (size_t i = 0; i < s.size();) {
        char32_t c;
        size_t bad, n = sequence(s, i, c, bad);
        if (!n) c = 0xFFFD, n = bad;
        if (i > 0 && utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(previous),
                                                      static_cast<utf8proc_int32_t>(c), &state)) {
            out.push_back(s.substr(begin, i - begin));
            begin = i;
        }
        previous = c;
        i += n;
    }
    if (begin < s.size()) out.push_back(s.substr(begin));
    return out;
}

std::string normalize(std::string_view utf8, Form form) {
    if (utf8.empty()) return {};
    int options = UTF8PROC_STABLE;
    switch (form) {
    case Form::NFC: options |= UTF8PROC_COMPOSE; break;
    case Form::NFD: options |= UTF8PROC_DECOMPOSE; break;
    case Form::NFKC: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case Form::NFKD: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
    }
    utf8proc_uint8_t* out = nullptr;
    auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
                          static_cast<utf8proc_ssize_t>(utf8.size()), &out, static_cast<utf8proc_option_t>(options));
    if (n < 0) throw TokenizerError(std::string("utf8proc could not normalize a text: ") + utf8proc_errmsg(n));
    std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
    return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

void appendLowercase(std::u32string& out, char32_t c) {
    if (c == 0x130) {
        out += U"i\u0307";
        return;
    }
    out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

}  // namespace pipelang::tokenizers::unicode
