// What the tokenizers need to know about characters, from utf8proc: the
// categories, normal forms and case mapping that Rust's char methods and the
// regexes of Hugging Face's tokenizers library see. Texts are UTF-8 outside
// and UTF-32 inside, where a pre-tokenizer looks at one character at a time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pipelang::tokenizers::unicode {

// Bytes that are not UTF-8 become U+FFFD, as Rust's String::from_utf8_lossy does.
std::u32string decode(std::string_view utf8);
std::string encode(std::u32string_view text);
void append(std::string& out, char32_t c);
std::string lossy(std::string_view bytes);  // valid UTF-8 with each maximal bad subsequence replaced by U+FFFD
bool valid(std::string_view bytes);

// Rust's char::is_whitespace: the White_Space property (Z*, tab to carriage return, U+0085).
bool isWhitespace(char32_t c);
bool isLetter(char32_t c);          // \p{L}
bool isNumber(char32_t c);          // \p{N}, Rust's char::is_numeric
bool isMark(char32_t c);            // \p{M}
bool isNonspacingMark(char32_t c);  // Mn
bool isOther(char32_t c);           // \p{C}: Cc, Cf, Cs, Co, Cn
bool isPunctuation(char32_t c);     // \p{P}, or ASCII punctuation (which counts $+<=>^`|~ too), as BERT splits
// Rust's char::is_alphanumeric, Oniguruma's \w: letters, marks, numbers,
// connector punctuation and the joiners. The Alphabetic property's few
// symbols (circled letters) are not in utf8proc and count as symbols here.
bool isAlphanumeric(char32_t c);
bool isWordChar(char32_t c);
bool isChinese(char32_t c);  // the CJK ideograph blocks BERT pads with spaces

// The text cut into extended grapheme clusters (Unicode's UAX #29), as Rust's unicode-segmentation does.
std::vector<std::string_view> graphemes(std::string_view utf8);

enum class Form { NFC, NFD, NFKC, NFKD };
std::string normalize(std::string_view utf8, Form form);
// Rust's char::to_lowercase: the simple mapping, except U+0130 whose full mapping is two characters.
void appendLowercase(std::u32string& out, char32_t c);

}  // namespace pipelang::tokenizers::unicode
