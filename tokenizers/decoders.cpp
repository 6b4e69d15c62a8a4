// Decoders: from tokens back to text, as Hugging Face's decode_chain does.
#include <cctype>
#include <unordered_map>

#include "tokenizers/components.h"
#include "tokenizers/unicode.h"

namespace pipelang::tokenizers {

namespace {

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
    if (from.empty()) return s;
    std::string out;
    size_t at = 0;
    for (size_t hit; (hit = s.find(from, at)) != std::string::npos; at = hit + from.size())
        out.append(s, at, hit - at).append(to);
    return out.append(s, at);
}

class WordPiece : public Decoder {
public:
    WordPiece(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
        for (size_t i = 0; i < tokens.size(); ++i) {
            auto& t = tokens[i];
            if (i > 0) {
                if (t.rfind(prefix_, 0) == 0)
                    t.erase(0, prefix_.size());
                else
                    t = " " + t;
            }
            if (cleanup_) t = cleanup(std::move(t));
        }
        return tokens;
    }
    // BERT's clean_up_tokenization: the spaces a split put before punctuation and contractions.
    static std::string cleanup(std::string t) {
        for (auto [from, to] : {std::pair{" .", "."},
                                {" ?", "?"},
                                {" !", "!"},
                                {" ,", ","},
                                {" ' ", "'"},
                                {" n't", "n't"},
                                {" 'm", "'m"},
                                {" do not", " don't"},
                                {" 's", "'s"},
                                {" 've", "'ve"},
                                {" 're", "'re"}})
            t = replaceAll(std::move(t), from, to);
        return t;
    }

private:
    std::string prefix_;
    bool cleanup_;
};

class ByteLevel : public Decoder {
public:
    ByteLevel() {
        auto& alphabet = byteLevelAlphabet();
        for (int b = 0; b < 256; ++b) bytes_[unicode::decode(alphabet[b])[0]] = static_cast<char>(b);
    }
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
        std::string bytes;
        for (auto& t : tokens) {
            std::string mine;
            bool all = true;
            for (char32_t c : unicode::decode(t)) {
                auto it = bytes_.find(c);
                if (it == bytes_.end()) {
                    all = false;
                    break;
                }
                mine += it->second;
            }
            bytes += all ? mine : t;  // an added token outside the byte alphabet stays as it is
        }
        return {unicode::lossy(bytes)};
    }

private:
    std::unordered_map<char32_t, char> bytes_;
};

class Metaspace : public Decoder {
public:
    Metaspace(std::string replacement, bool prepend) : replacement_(unicode::decode(replacement)), prepend_(prepend) {}
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
        for (size_t i = 0; i < tokens.size(); ++i) {
            std::u32string out;
            for (char32_t c : unicode::decode(tokens[i])) {
                if (replacement_.size() == 1 && c == replacement_[0]) {
                    if (i == 0 && prepend_) continue;
                    out += U' ';
                } else
                    out += c;
            }
            tokens[i] = unicode::encode(out);
        }
        return tokens;
    }

private:
    std::u32string replacement_;
    bool prepend_;
};

class BpeDecoder : public Decoder {
public:
    explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
        for (size_t i = 0; i < tokens.size(); ++i)
            tokens[i] = replaceAll(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
        return tokens;
    }

private:
    std::string suffix_;
};

class Replace : public Decoder {
public:
    Replace(std::string pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
        for (auto& t : tokens) t = replaceAll(t, pattern_, content_);
        return tokens;
    }

private:
    std::string pattern_, content_;
};

class Strip : public Decoder {
public:
    Strip(char32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
        for (auto& t : tokens) {
            auto s = unicode::decode(t);
            size_t b = 0, e = s.size();
            while (b < start_ && b < e && s[b] == content_) ++b;
            for (size_t k = 0; k < stop_ && e > b && s[e - 1] == content_; ++k) --e;
            t = unicode::encode(std::u32string_view(s).substr(b, e - b));
        }
        return tokens;
    }

private:
    char32_t content_;
    size_t start_, stop_;
};

class Fuse : public Decoder {
public:
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
        std::string all;
        for (auto& t : tokens) all += t;
        return {all};
    }
};

// Runs of <0xAB> tokens become the text their bytes spell, or one U+FFFD a byte when they spell none.
class ByteFallback : public Decoder {
public:
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
        std::vector<std::string> out;
        std::string bytes;
        size_t count = 0;
        auto flush = [&] {
            if (!count) return;
            if (unicode::valid(bytes))
                out.push_back(bytes);
            else
                for (size_t k = 0; k < count; ++k) out.push_back("\uFFFD");
            bytes.clear();
            count = 0;
        };
        for (auto& t : tokens) {
            if (t.size() == 6 && t.rfind("<0x", 0) == 0 && t[5] == '>' &&
                std::isxdigit(static_cast<unsigned char>(t[3])) && std::isxdigit(static_cast<unsigned char>(t[4]))) {
                bytes += static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16));
                ++count;
                continue;
            }
            flush();
            out.push_back(t);
        }
        flush();
        return out;
    }
};

class Sequence : public Decoder {
public:
    explicit Sequence(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
        for (auto& s : steps_) tokens = s->decodeChain(std::move(tokens));
        return tokens;
    }

private:
    std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace

std::unique_ptr<Decoder> wordPieceDecoder() {
    return std::make_unique<WordPiece>("##", true);
}
std::unique_ptr<Decoder> byteLevelDecoder() {
    return std::make_unique<ByteLevel>();
}

std::unique_ptr<Decoder> makeDecoder(const nlohmann::json& j, const Source& source) {
    std::string type = typeOf(j, "decoder", source);
    if (type == "WordPiece")
        return std::make_unique<WordPiece>(get<std::string>(j, "prefix", "##"), get(j, "cleanup", true));
    if (type == "ByteLevel") return std::make_unique<ByteLevel>();
    if (type == "Metaspace") {
        std::string scheme = get<std::string>(j, "prepend_scheme", "");
        bool prepend = scheme.empty() ? get(j, "add_prefix_space", true) : scheme != "never";
        return std::make_unique<Metaspace>(get<std::string>(j, "replacement", "\u2581"), prepend);
    }
    if (type == "BPEDecoder") return std::make_unique<BpeDecoder>(get<std::string>(j, "suffix", "</w>"));
    if (type == "Replace") {
        const auto& pattern = j.value("pattern", nlohmann::json::object());
        if (!pattern.contains("String") || !pattern["String"].is_string())
            source.fail("its decoder \"Replace\" has a regular-expression pattern (" + pattern.dump() +
                        "); only Replace with a string pattern is supported");
        return std::make_unique<Replace>(pattern["String"].get<std::string>(), get<std::string>(j, "content", ""));
    }
    if (type == "Strip") {
        auto content = unicode::decode(get<std::string>(j, "content", " "));
        if (content.size() != 1) source.fail("its decoder \"Strip\" strips a content that is not one character");
        return std::make_unique<Strip>(content[0], get<size_t>(j, "start", 0), get<size_t>(j, "stop", 0));
    }
    if (type == "Fuse") return std::make_unique<Fuse>();
    if (type == "ByteFallback") return std::make_unique<ByteFallback>();
    if (type == "Sequence") {
        std::vector<std::unique_ptr<Decoder>> steps;
        for (const auto& step : j.value("decoders", nlohmann::json::array()))
            steps.push_back(makeDecoder(step, source));
        return std::make_unique<Sequence>(std::move(steps));
    }
    source.unsupported(
        "decoder", type,
        "WordPiece, ByteLevel, Metaspace, BPEDecoder, Replace (with a string pattern), Strip, Fuse, ByteFallback "
        "and Sequence");
}

}  // namespace pipelang::tokenizers
