// Normalizers: what Hugging Face's normalizers do to the text, without the
// alignments to the original that only offsets need.
#include "tokenizers/components.h"
#include "tokenizers/unicode.h"

namespace pipelang::tokenizers {

namespace {

using unicode::Form;

class Bert : public Normalizer {
public:
    Bert(bool cleanText, bool chinese, bool stripAccents, bool lowercase)
        : cleanText_(cleanText), chinese_(chinese), stripAccents_(stripAccents), lowercase_(lowercase) {}
    std::string normalize(std::string text) const override {
        std::u32string s = unicode::decode(text), t;
        t.reserve(s.size());
        for (char32_t c : s) {
            if (cleanText_) {
                bool keptAsWhitespace = c == '\t' || c == '\n' || c == '\r';
                if (c == 0 || c == 0xFFFD || (!keptAsWhitespace && unicode::isOther(c))) continue;
                if (unicode::isWhitespace(c)) c = ' ';
            }
            if (chinese_ && unicode::isChinese(c)) {
                t += U' ';
                t += c;
                t += U' ';
            } else
                t += c;
        }
        if (stripAccents_) {
            s = unicode::decode(unicode::normalize(unicode::encode(t), Form::NFD));
            t.clear();
            for (char32_t c : s)
                if (!unicode::isNonspacingMark(c)) t += c;
        }
        if (lowercase_) {
            s.clear();
            for (char32_t c : t) unicode::appendLowercase(s, c);
            t = std::move(s);
        }
        return unicode::encode(t);
    }

private:
    bool cleanText_, chinese_, stripAccents_, lowercase_;
};

class Unicode : public Normalizer {
public:
    explicit Unicode(Form form) : form_(form) {}
    std::string normalize(std::string text) const override { return unicode::normalize(text, form_); }

private:
    Form form_;
};

class Lowercase : public Normalizer {
public:
    std::string normalize(std::string text) const override {
        std::u32string t;
        for (char32_t c : unicode::decode(text)) unicode::appendLowercase(t, c);
        return unicode::encode(t);
    }
};

// Only removes the marks: decomposing first is NFD's job, as in Hugging Face's.
class StripAccents : public Normalizer {
public:
    std::string normalize(std::string text) const override {
        std::u32string t;
        for (char32_t c : unicode::decode(text))
            if (!unicode::isNonspacingMark(c)) t += c;
        return unicode::encode(t);
    }
};

class Strip : public Normalizer {
public:
    Strip(bool left, bool right) : left_(left), right_(right) {}
    std::string normalize(std::string text) const override {
        std::u32string t = unicode::decode(text);
        size_t b = 0, e = t.size();
        if (left_)
            while (b < e && unicode::isWhitespace(t[b])) ++b;
        if (right_)
            while (e > b && unicode::isWhitespace(t[e - 1])) --e;
        return unicode::encode(std::u32string_view(t).substr(b, e - b));
    }

private:
    bool left_, right_;
};

class Replace : public Normalizer {
public:
    Replace(std::string pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
    std::string normalize(std::string text) const override {
        if (pattern_.empty()) return text;
        std::string out;
        size_t from = 0;
        for (size_t at; (at = text.find(pattern_, from)) != std::string::npos; from = at + pattern_.size())
            out.append(text, from, at - from).append(content_);
        return out.append(text, from);
    }

private:
    std::string pattern_, content_;
};

// " {2,}": the one regular expression transformers writes into the files it
// converts from sentencepiece (runs of spaces made one), done by hand.
class SqueezeSpaces : public Normalizer {
public:
    explicit SqueezeSpaces(std::string content) : content_(std::move(content)) {}
    std::string normalize(std::string text) const override {
        std::string out;
        for (size_t i = 0; i < text.size();) {
            size_t j = i;
            while (j < text.size() && text[j] == ' ') ++j;
            if (j - i >= 2)
                out += content_, i = j;
            else
                out += text[i++];
        }
        return out;
    }

private:
    std::string content_;
};

// sentencepiece's compiled normalization rules: a darts-clone double-array
// trie from UTF-8 strings to offsets in a blob of NUL-terminated
// replacements, applied to each grapheme cluster whole, else to each of its
// characters, as Hugging Face's spm_precompiled does.
class Precompiled : public Normalizer {
public:
    Precompiled(const std::string& charsmap, const Source& source) {
        if (charsmap.empty()) return;  // no rules: the text as it is
        if (charsmap.size() < 4)
            source.fail("its normalizer \"Precompiled\" has a charsmap too short to hold its trie");
        uint32_t trieBytes = 0;
        for (int k = 3; k >= 0; --k)
            trieBytes = (trieBytes << 8) | static_cast<unsigned char>(charsmap[static_cast<size_t>(k)]);
        if (trieBytes % 4 || trieBytes > charsmap.size() - 4)
            source.fail("its normalizer \"Precompiled\" has a charsmap whose trie is longer than the charsmap");
        units_.resize(trieBytes / 4);
        for (size_t u = 0; u < units_.size(); ++u)
            for (int k = 3; k >= 0; --k)
                units_[u] = (units_[u] << 8) | static_cast<unsigned char>(charsmap[4 + 4 * u + static_cast<size_t>(k)]);
        normalized_ = charsmap.substr(4 + trieBytes);
    }
    std::string normalize(std::string text) const override {
        if (units_.empty()) return text;
        std::string out;
        for (std::string_view g : unicode::graphemes(text)) {
            if (g.size() < 6)
                if (auto n = transform(g)) {
                    out += *n;
                    continue;
                }
            for (size_t i = 0; i < g.size();) {
                size_t n = 1;
                while (i + n < g.size() && (static_cast<unsigned char>(g[i + n]) & 0xC0) == 0x80) ++n;
                auto part = g.substr(i, n);
                auto t = transform(part);
                out += t ? *t : part;
                i += n;
            }
        }
        return out;
    }

private:
    // The replacement of the shortest prefix of `chunk` the trie holds.
    std::optional<std::string_view> transform(std::string_view chunk) const {
        size_t node = offset(units_[0]);
        for (unsigned char c : chunk) {
            if (c == 0) break;
            node ^= c;
            if (node >= units_.size()) return std::nullopt;
            uint32_t unit = units_[node];
            if ((unit & ((1u << 31) | 0xFF)) != c) return std::nullopt;
            node ^= offset(unit);
            if ((unit >> 8) & 1) {
                if (node >= units_.size()) return std::nullopt;
                size_t at = units_[node] & ((1u << 31) - 1);
                if (at >= normalized_.size()) return std::nullopt;
                size_t end = normalized_.find('\0', at);
                return std::string_view(normalized_)
                    .substr(at, (end == std::string::npos ? normalized_.size() : end) - at);
            }
        }
        return std::nullopt;
    }
    static size_t offset(uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }

    std::vector<uint32_t> units_;
    std::string normalized_;
};

std::string base64(const std::string& in, const Source& source) {
    std::string out;
    uint32_t bits = 0;
    int count = 0;
    for (char ch : in) {
        int v;
        if (ch >= 'A' && ch <= 'Z')
            v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z')
            v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9')
            v = ch - '0' + 52;
        else if (ch == '+')
            v = 62;
        else if (ch == '/')
            v = 63;
        else if (ch == '=' || ch == '\n' || ch == '\r')
            continue;
        else
            source.fail("its normalizer \"Precompiled\" has a precompiled_charsmap that is not base64");
        bits = (bits << 6) | static_cast<uint32_t>(v);
        if ((count += 6) >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xFF);
        }
    }
    return out;
}

class Prepend : public Normalizer {
public:
    explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
    std::string normalize(std::string text) const override { return text.empty() ? text : prefix_ + text; }

private:
    std::string prefix_;
};

class Sequence : public Normalizer {
public:
    explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
    std::string normalize(std::string text) const override {
        for (auto& step : steps_) text = step->normalize(std::move(text));
        return text;
    }

private:
    std::vector<std::unique_ptr<Normalizer>> steps_;
};

const char* kSupported =
    "BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, Replace (with a string pattern or \" "
    "{2,}\"), "
    "Prepend, Precompiled and Sequence";

}  // namespace

std::unique_ptr<Normalizer> bertNormalizer(bool lowercase) {
    return std::make_unique<Bert>(true, true, lowercase, lowercase);
}

std::unique_ptr<Normalizer> makeNormalizer(const nlohmann::json& j, const Source& source) {
    std::string type = typeOf(j, "normalizer", source);
    if (type == "BertNormalizer") {
        bool lowercase = get(j, "lowercase", true);
        return std::make_unique<Bert>(get(j, "clean_text", true), get(j, "handle_chinese_chars", true),
                                      get(j, "strip_accents", lowercase), lowercase);
    }
    if (type == "NFC") return std::make_unique<Unicode>(Form::NFC);
    if (type == "NFD") return std::make_unique<Unicode>(Form::NFD);
    if (type == "NFKC") return std::make_unique<Unicode>(Form::NFKC);
    if (type == "NFKD") return std::make_unique<Unicode>(Form::NFKD);
    if (type == "Lowercase") return std::make_unique<Lowercase>();
    if (type == "StripAccents") return std::make_unique<StripAccents>();
    if (type == "Strip") return std::make_unique<Strip>(get(j, "strip_left", true), get(j, "strip_right", true));
    if (type == "Prepend") return std::make_unique<Prepend>(get<std::string>(j, "prepend", ""));
    if (type == "Replace") {
        const auto& pattern = j.value("pattern", nlohmann::json::object());
        if (pattern.value("Regex", nlohmann::json()) == " {2,}")
            return std::make_unique<SqueezeSpaces>(get<std::string>(j, "content", ""));
        if (!pattern.contains("String") || !pattern["String"].is_string())
            source.fail("its normalizer \"Replace\" has a regular-expression pattern (" + pattern.dump() +
                        "); Replace takes a string pattern, or the regular expression \" {2,}\"");
        return std::make_unique<Replace>(pattern["String"].get<std::string>(), get<std::string>(j, "content", ""));
    }
    if (type == "Sequence") {
        std::vector<std::unique_ptr<Normalizer>> steps;
        for (const auto& step : j.value("normalizers", nlohmann::json::array()))
            steps.push_back(makeNormalizer(step, source));
        return std::make_unique<Sequence>(std::move(steps));
    }
    if (type == "Precompiled")
        return std::make_unique<Precompiled>(base64(get<std::string>(j, "precompiled_charsmap", ""), source), source);
    source.unsupported("normalizer", type, kSupported);
}

}  // namespace pipelang::tokenizers
