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
    "BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, Replace (with a string pattern), Prepend "
    "and "
    "Sequence";

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
        if (!pattern.contains("String") || !pattern["String"].is_string())
            source.fail("its normalizer \"Replace\" has a regular-expression pattern (" + pattern.dump() +
                        "); only Replace with a string pattern is supported");
        return std::make_unique<Replace>(pattern["String"].get<std::string>(), get<std::string>(j, "content", ""));
    }
    if (type == "Sequence") {
        std::vector<std::unique_ptr<Normalizer>> steps;
        for (const auto& step : j.value("normalizers", nlohmann::json::array()))
            steps.push_back(makeNormalizer(step, source));
        return std::make_unique<Sequence>(std::move(steps));
    }
    if (type == "Precompiled")
        source.fail(
            "its normalizer \"Precompiled\" (sentencepiece's compiled character map, as in T5, ALBERT and XLM-R files) "
            "is "
            "not supported; supported normalizers are " +
            std::string(kSupported));
    source.unsupported("normalizer", type, kSupported);
}

}  // namespace pipelang::tokenizers
