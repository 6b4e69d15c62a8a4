// Pre-tokenizers: how Hugging Face's split a normalized text into the words
// the model sees. Every split comes down to a list of matches over the
// characters and one of the library's five ways of keeping them.
#include <algorithm>
#include <array>
#include <functional>

#include "tokenizers/components.h"
#include "tokenizers/unicode.h"

namespace pipelang::tokenizers {

namespace {

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct Span {
    size_t begin, end;
    bool match;
};

// Hugging Face's NormalizedString::split: `matches` cover the text in order.
std::vector<Span> keep(std::vector<Span> matches, Behavior behavior) {
    std::vector<Span> out;
    bool previous = false;
    switch (behavior) {
    case Behavior::Isolated:
        for (auto& m : matches) out.push_back({m.begin, m.end, false});
        break;
    case Behavior::Removed:
        for (auto& m : matches)
            if (!m.match) out.push_back(m);
        break;
    case Behavior::MergedWithPrevious:
        for (auto& m : matches) {
            if (m.match && !previous && !out.empty())
                out.back().end = m.end;
            else
                out.push_back({m.begin, m.end, false});
            previous = m.match;
        }
        break;
    case Behavior::MergedWithNext:
        for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
            if (it->match && !previous && !out.empty())
                out.back().begin = it->begin;
            else
                out.push_back({it->begin, it->end, false});
            previous = it->match;
        }
        std::reverse(out.begin(), out.end());
        break;
    case Behavior::Contiguous:
        for (auto& m : matches) {
            if (m.match == previous && !out.empty())
                out.back().end = m.end;
            else
                out.push_back({m.begin, m.end, false});
            previous = m.match;
        }
        break;
    }
    return out;
}

Behavior behaviorOf(const nlohmann::json& j, const Source& source, Behavior fallback) {
    std::string b = get<std::string>(j, "behavior", "");
    if (b.empty()) return fallback;
    if (b == "Removed") return Behavior::Removed;
    if (b == "Isolated") return Behavior::Isolated;
    if (b == "MergedWithPrevious") return Behavior::MergedWithPrevious;
    if (b == "MergedWithNext") return Behavior::MergedWithNext;
    if (b == "Contiguous") return Behavior::Contiguous;
    source.fail("it names an unknown split behavior \"" + b +
                "\" (known: Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)");
}

// Turns matches over a piece's characters into the pieces that stay.
void splitPiece(const Piece& piece, const std::u32string& chars, std::vector<Span> matches, Behavior behavior,
                std::vector<Piece>& out) {
    for (auto& s : keep(std::move(matches), behavior))
        if (s.end > s.begin)
            out.push_back({unicode::encode(std::u32string_view(chars).substr(s.begin, s.end - s.begin)),
                           piece.atStart && s.begin == 0});
}

// Each character for which `is` holds is one match; the gaps between are the rest.
std::vector<Span> charMatches(const std::u32string& s, const std::function<bool(char32_t)>& is) {
    std::vector<Span> m;
    size_t gap = 0;
    for (size_t i = 0; i < s.size(); ++i)
        if (is(s[i])) {
            if (gap < i) m.push_back({gap, i, false});
            m.push_back({i, i + 1, true});
            gap = i + 1;
        }
    if (gap < s.size()) m.push_back({gap, s.size(), false});
    return m;
}

// Matches of `find` (the next match from a position, or npos) with the gaps between.
std::vector<Span> patternMatches(const std::u32string& s, const std::function<size_t(size_t, size_t&)>& find) {
    std::vector<Span> m;
    size_t gap = 0;
    for (size_t i = 0; i < s.size();) {
        size_t begin = i, end;
        end = find(i, begin);
        if (end == std::u32string::npos) break;
        if (gap < begin) m.push_back({gap, begin, false});
        m.push_back({begin, end, true});
        gap = i = end;
    }
    if (gap < s.size()) m.push_back({gap, s.size(), false});
    return m;
}

class ByChar : public PreTokenizer {
public:
    ByChar(std::function<bool(char32_t)> is, Behavior behavior) : is_(std::move(is)), behavior_(behavior) {}
    void split(std::vector<Piece>& pieces) const override {
        std::vector<Piece> out;
        for (auto& p : pieces) {
            auto chars = unicode::decode(p.text);
            splitPiece(p, chars, charMatches(chars, is_), behavior_, out);
        }
        pieces = std::move(out);
    }

private:
    std::function<bool(char32_t)> is_;
    Behavior behavior_;
};

class Sequence : public PreTokenizer {
public:
    explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
    void split(std::vector<Piece>& pieces) const override {
        for (auto& s : steps_) s->split(pieces);
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

class Bert : public PreTokenizer {
public:
    void split(std::vector<Piece>& pieces) const override {
        ByChar(unicode::isWhitespace, Behavior::Removed).split(pieces);
        ByChar(unicode::isPunctuation, Behavior::Isolated).split(pieces);
    }
};

// `\w+|[^\w\s]+`, the pieces kept and the whitespace between dropped.
class Whitespace : public PreTokenizer {
public:
    void split(std::vector<Piece>& pieces) const override {
        std::vector<Piece> out;
        for (auto& p : pieces) {
            auto s = unicode::decode(p.text);
            auto kind = [&](size_t i) { return unicode::isWordChar(s[i]) ? 1 : unicode::isWhitespace(s[i]) ? 0 : 2; };
            auto matches = patternMatches(s, [&](size_t i, size_t& begin) {
                while (i < s.size() && kind(i) == 0) ++i;
                if (i == s.size()) return std::u32string::npos;
                begin = i;
                int k = kind(i);
                while (i < s.size() && kind(i) == k) ++i;
                return i;
            });
            for (auto& m : matches) m.match = !m.match;  // invert: the matches stay, the rest is removed
            splitPiece(p, s, std::move(matches), Behavior::Removed, out);
        }
        pieces = std::move(out);
    }
};

// GPT-2's pattern, by hand over code points:
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t gpt2Match(const std::u32string& s, size_t i) {
    size_t n = s.size();
    if (s[i] == '\'' && i + 1 < n) {
        char32_t a = s[i + 1], b = i + 2 < n ? s[i + 2] : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
    auto other = [](char32_t c) { return !unicode::isWhitespace(c) && !unicode::isLetter(c) && !unicode::isNumber(c); };
    size_t j = s[i] == ' ' ? i + 1 : i;
    for (auto is :
         {+[](char32_t c) { return unicode::isLetter(c); }, +[](char32_t c) { return unicode::isNumber(c); }}) {
        if (j < n && is(s[j])) {
            while (j < n && is(s[j])) ++j;
            return j;
        }
    }
    if (j < n && other(s[j])) {
        while (j < n && other(s[j])) ++j;
        return j;
    }
    size_t e = i;
    while (e < n && unicode::isWhitespace(s[e])) ++e;
    if (e == n || e - i == 1) return e;  // \s+(?!\S) takes it all; or a lone space before a word, \s+
    return e - 1;                        // \s+(?!\S) leaves the last space to the word after it
}

std::vector<Span> gpt2Matches(const std::u32string& s) {
    return patternMatches(s, [&](size_t i, size_t& begin) {
        begin = i;
        return gpt2Match(s, i);
    });
}

// Hugging Face's bytes_to_unicode: printable bytes stand for themselves, the others for 256 + k.
const std::array<std::string, 256>& byteChars() {
    static const std::array<std::string, 256> table = [] {
        std::array<std::string, 256> t;
        int k = 0;
        for (int b = 0; b < 256; ++b) {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            unicode::append(t[b], printable ? char32_t(b) : char32_t(256 + k++));
        }
        return t;
    }();
    return table;
}

class ByteLevel : public PreTokenizer {
public:
    ByteLevel(bool addPrefixSpace, bool useRegex) : addPrefixSpace_(addPrefixSpace), useRegex_(useRegex) {}
    void split(std::vector<Piece>& pieces) const override {
        std::vector<Piece> out;
        for (auto& p : pieces) {
            Piece q = p;
            if (addPrefixSpace_ && !q.text.empty() && q.text[0] != ' ') q.text = " " + q.text;
            size_t first = out.size();
            if (useRegex_) {
                auto s = unicode::decode(q.text);
                splitPiece(q, s, gpt2Matches(s), Behavior::Isolated, out);
            } else if (!q.text.empty())
                out.push_back(q);
            for (size_t k = first; k < out.size(); ++k) {
                std::string mapped;
                for (unsigned char b : out[k].text) mapped += byteChars()[b];
                out[k].text = std::move(mapped);
            }
        }
        pieces = std::move(out);
    }

private:
    bool addPrefixSpace_, useRegex_;
};

class Metaspace : public PreTokenizer {
public:
    Metaspace(std::string replacement, std::string scheme, bool split)
        : replacement_(std::move(replacement)), scheme_(std::move(scheme)), split_(split) {}
    void split(std::vector<Piece>& pieces) const override {
        std::vector<Piece> out;
        for (auto& p : pieces) {
            std::string t;
            for (char c : p.text)
                if (c == ' ')
                    t += replacement_;
                else
                    t += c;
            bool prepend = scheme_ == "always" || (scheme_ == "first" && p.atStart);
            if (prepend && !t.empty() && t.rfind(replacement_, 0) != 0) t = replacement_ + t;
            if (!split_) {
                if (!t.empty()) out.push_back({t, p.atStart});
                continue;
            }
            // MergedWithNext on the replacement: each piece starts at one.
            size_t begin = 0;
            for (size_t at = t.find(replacement_, 1); at != std::string::npos;
                 at = t.find(replacement_, at + replacement_.size())) {
                if (at > begin) out.push_back({t.substr(begin, at - begin), p.atStart && begin == 0});
                begin = at;
            }
            if (begin < t.size()) out.push_back({t.substr(begin), p.atStart && begin == 0});
        }
        pieces = std::move(out);
    }

private:
    std::string replacement_, scheme_;
    bool split_;
};

// Split with a string pattern: its occurrences, left to right.
class SplitString : public PreTokenizer {
public:
    SplitString(std::string pattern, Behavior behavior, bool invert)
        : pattern_(unicode::decode(pattern)), behavior_(behavior), invert_(invert) {}
    void split(std::vector<Piece>& pieces) const override {
        std::vector<Piece> out;
        for (auto& p : pieces) {
            auto s = unicode::decode(p.text);
            auto matches = patternMatches(s, [&](size_t i, size_t& begin) {
                if (pattern_.empty()) return std::u32string::npos;
                begin = s.find(pattern_, i);
                return begin == std::u32string::npos ? begin : begin + pattern_.size();
            });
            if (invert_)
                for (auto& m : matches) m.match = !m.match;
            splitPiece(p, s, std::move(matches), behavior_, out);
        }
        pieces = std::move(out);
    }

private:
    std::u32string pattern_;
    Behavior behavior_;
    bool invert_;
};

class SplitGpt2 : public PreTokenizer {
public:
    SplitGpt2(Behavior behavior, bool invert) : behavior_(behavior), invert_(invert) {}
    void split(std::vector<Piece>& pieces) const override {
        std::vector<Piece> out;
        for (auto& p : pieces) {
            auto s = unicode::decode(p.text);
            auto matches = gpt2Matches(s);
            if (invert_)
                for (auto& m : matches) m.match = !m.match;
            splitPiece(p, s, std::move(matches), behavior_, out);
        }
        pieces = std::move(out);
    }

private:
    Behavior behavior_;
    bool invert_;
};

const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

const char* kSupported =
    "BertPreTokenizer, ByteLevel, Whitespace, WhitespaceSplit, Metaspace, Punctuation, Digits, CharDelimiterSplit, "
    "Split (with a string pattern, or GPT-2's regular expression) and Sequence";

}  // namespace

std::unique_ptr<PreTokenizer> bertPreTokenizer() {
    return std::make_unique<Bert>();
}
std::unique_ptr<PreTokenizer> byteLevelPreTokenizer(bool addPrefixSpace) {
    return std::make_unique<ByteLevel>(addPrefixSpace, true);
}
const std::array<std::string, 256>& byteLevelAlphabet() {
    return byteChars();
}

std::unique_ptr<PreTokenizer> makePreTokenizer(const nlohmann::json& j, const Source& source) {
    std::string type = typeOf(j, "pre_tokenizer", source);
    if (type == "BertPreTokenizer") return std::make_unique<Bert>();
    if (type == "ByteLevel")
        return std::make_unique<ByteLevel>(get(j, "add_prefix_space", true), get(j, "use_regex", true));
    if (type == "Whitespace") return std::make_unique<Whitespace>();
    if (type == "WhitespaceSplit") return std::make_unique<ByChar>(unicode::isWhitespace, Behavior::Removed);
    if (type == "Punctuation")
        return std::make_unique<ByChar>(unicode::isPunctuation, behaviorOf(j, source, Behavior::Isolated));
    if (type == "Digits")
        return std::make_unique<ByChar>(unicode::isNumber,
                                        get(j, "individual_digits", false) ? Behavior::Isolated : Behavior::Contiguous);
    if (type == "CharDelimiterSplit") {
        auto d = unicode::decode(get<std::string>(j, "delimiter", ""));
        if (d.size() != 1)
            source.fail("its pre_tokenizer \"CharDelimiterSplit\" has a delimiter that is not one character");
        char32_t c = d[0];
        return std::make_unique<ByChar>([c](char32_t x) { return x == c; }, Behavior::Removed);
    }
    if (type == "Metaspace") {
        std::string scheme = get<std::string>(j, "prepend_scheme", "");
        if (scheme.empty()) scheme = get(j, "add_prefix_space", true) ? "always" : "never";  // files before 0.19
        if (scheme != "always" && scheme != "first" && scheme != "never")
            source.fail("its pre_tokenizer \"Metaspace\" has an unknown prepend_scheme \"" + scheme +
                        "\" (known: first, always, never)");
        return std::make_unique<Metaspace>(get<std::string>(j, "replacement", "\u2581"), scheme, get(j, "split", true));
    }
    if (type == "Split") {
        const auto& pattern = j.value("pattern", nlohmann::json::object());
        Behavior behavior = behaviorOf(j, source, Behavior::Isolated);
        bool invert = get(j, "invert", false);
        if (pattern.contains("String") && pattern["String"].is_string())
            return std::make_unique<SplitString>(pattern["String"].get<std::string>(), behavior, invert);
        if (pattern.contains("Regex") && pattern["Regex"] == kGpt2Pattern)
            return std::make_unique<SplitGpt2>(behavior, invert);
        source.fail("its pre_tokenizer \"Split\" has the regular expression " + pattern.dump() +
                    ", which is not supported: Split takes a string pattern or GPT-2's expression " + kGpt2Pattern);
    }
    if (type == "Sequence") {
        std::vector<std::unique_ptr<PreTokenizer>> steps;
        for (const auto& step : j.value("pretokenizers", nlohmann::json::array()))
            steps.push_back(makePreTokenizer(step, source));
        return std::make_unique<Sequence>(std::move(steps));
    }
    source.unsupported("pre_tokenizer", type, kSupported);
}

}  // namespace pipelang::tokenizers
