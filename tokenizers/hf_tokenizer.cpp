// Reading the files and running the pipeline: added tokens found in the raw
// text, the rest normalized, added tokens found again in what is normalized,
// pre-tokenized, handed word by word to the model, and the template around it.
#include "tokenizers/hf_tokenizer.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "tokenizers/components.h"
#include "tokenizers/unicode.h"

namespace pipelang::tokenizers {

namespace fs = std::filesystem;
using nlohmann::json;

void Source::fail(const std::string& what) const {
    throw TokenizerError("cannot use the tokenizer " + file + ": " + what);
}

void Source::unsupported(const std::string& kind, const std::string& type, const std::string& supported) const {
    fail("its " + kind + " \"" + type + "\" is not supported; supported " + kind + "s are " + supported);
}

int64_t Source::id(const json& value, const std::string& what) const {
    constexpr int64_t kLargest = 0xFFFFFFFFLL;
    if (!value.is_number_integer() ||
        (value.is_number_unsigned() ? value.get<uint64_t>() > uint64_t(kLargest) : value.get<int64_t>() < 0))
        fail("its " + what + " is " + value.dump() + ", not a token id (a whole number from 0 to " +
             std::to_string(kLargest) + ")");
    return value.get<int64_t>();
}

std::string typeOf(const json& j, const std::string& kind, const Source& source) {
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
        source.fail("its " + kind + " has no \"type\"");
    return j["type"].get<std::string>();
}

namespace {

std::string readFile(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw TokenizerError("cannot read the tokenizer file " + file.string() + ": it cannot be opened");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Arrays and objects inside each other in one file: tokenizer.json nests
// fewer than ten (a Sequence of normalizers, a template's special tokens).
// Copying a value recurses once per level, so a file nested 30,000 deep would
// overflow the stack; it is refused while parsing, before a deep value exists.
constexpr int kMaxNesting = 100;

json parseJson(const fs::path& file) {
    try {
        return json::parse(readFile(file), [&](int depth, json::parse_event_t event, json&) {
            // `depth` counts the containers already open around this one.
            bool opens = event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
            if (opens && depth >= kMaxNesting)
                throw TokenizerError("cannot use the tokenizer " + file.string() +
                                     ": it nests arrays and objects deeper than " + std::to_string(kMaxNesting) +
                                     " levels, which no tokenizer file does");
            return true;
        });
    } catch (const json::exception& e) {  // also out_of_range: a number past a double's range
        throw TokenizerError("cannot use the tokenizer " + file.string() + ": it is not JSON (" + e.what() + ")");
    }
}

std::optional<int64_t> firstOf(const HfTokenizer& t, std::initializer_list<const char*> names) {
    for (auto* n : names)
        if (auto id = t.id(n)) return id;
    return std::nullopt;
}

}  // namespace

// Leftmost-longest matching of the added tokens, as Hugging Face's aho-corasick automaton does.
struct HfTokenizer::Matcher {
    const std::vector<AddedToken>* tokens = nullptr;
    std::map<unsigned char, std::vector<std::pair<std::string, size_t>>> byFirstByte;  // longest first

    bool empty() const { return byFirstByte.empty(); }
    void add(std::string pattern, size_t token) {
        if (!pattern.empty())
            byFirstByte[static_cast<unsigned char>(pattern[0])].emplace_back(std::move(pattern), token);
    }
    void sort() {
        for (auto& [_, list] : byFirstByte)
            std::stable_sort(list.begin(), list.end(),
                             [](auto& a, auto& b) { return a.first.size() > b.first.size(); });
    }

    struct Segment {
        std::string text;
        std::optional<int64_t> id;  // an added token's
        bool atStart = false;
    };

    // Hugging Face's AddedVocabulary::find_matches: single_word, lstrip and rstrip included.
    void split(const std::string& s, bool atStart, std::vector<Segment>& out) const {
        size_t from = 0;
        auto wordBefore = [&](size_t at) {
            if (at == 0) return false;
            size_t b = at - 1;
            while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
            auto c = unicode::decode(std::string_view(s).substr(b, at - b));
            return !c.empty() && unicode::isWordChar(c[0]);
        };
        auto wordAfter = [&](size_t at) {
            if (at >= s.size()) return false;
            auto c = unicode::decode(std::string_view(s).substr(at, 4));
            return !c.empty() && unicode::isWordChar(c[0]);
        };
        for (size_t i = 0; i < s.size();) {
            auto it = byFirstByte.find(static_cast<unsigned char>(s[i]));
            const std::pair<std::string, size_t>* hit = nullptr;
            if (it != byFirstByte.end())
                for (auto& candidate : it->second)
                    if (s.compare(i, candidate.first.size(), candidate.first) == 0) {
                        hit = &candidate;
                        break;
                    }
            if (!hit) {
                ++i;
                continue;
            }
            size_t start = i, stop = i + hit->first.size();
            i = stop;
            const AddedToken& t = (*tokens)[hit->second];
            if (t.singleWord && (wordBefore(start) || wordAfter(stop))) continue;
            if (t.lstrip) {
                auto chars = unicode::decode(std::string_view(s).substr(from, start - from));
                size_t keep = chars.size();
                while (keep > 0 && unicode::isWhitespace(chars[keep - 1])) --keep;
                start = from + unicode::encode(std::u32string_view(chars).substr(0, keep)).size();
            }
            if (t.rstrip) {
                auto chars = unicode::decode(std::string_view(s).substr(stop));
                size_t skip = 0;
                while (skip < chars.size() && unicode::isWhitespace(chars[skip])) ++skip;
                stop += unicode::encode(std::u32string_view(chars).substr(0, skip)).size();
                i = stop;
            }
            if (from < start) out.push_back({s.substr(from, start - from), std::nullopt, atStart && from == 0});
            out.push_back({s.substr(start, stop - start), t.id, atStart && start == 0});
            from = stop;
        }
        if (from < s.size() || s.empty()) out.push_back({s.substr(from), std::nullopt, atStart && from == 0});
    }
};

HfTokenizer::HfTokenizer() = default;
HfTokenizer::~HfTokenizer() = default;

fs::path HfTokenizer::fileIn(const fs::path& folder) {
    std::error_code ec;
    for (const char* name : {"tokenizer.json", "vocab.txt", "vocab.json"})
        if (fs::is_regular_file(folder / name, ec)) return folder / name;
    return {};
}

std::unique_ptr<HfTokenizer> HfTokenizer::load(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        if (fs::path file = fileIn(path); !file.empty()) return load(file);
        throw TokenizerError(
            "the folder " + path.string() +
            " holds no tokenizer: neither tokenizer.json, nor vocab.txt, nor vocab.json with merges.txt");
    }
    if (!fs::exists(path, ec)) throw TokenizerError("there is no tokenizer file or folder " + path.string());
    try {
        if (path.filename() == "merges.txt") return fromVocabJson(path.parent_path() / "vocab.json");
        if (path.filename() == "vocab.txt" || path.extension() == ".txt") return fromVocabTxt(path);
        if (path.filename() == "vocab.json") return fromVocabJson(path);
        return fromJson(path);
    } catch (const json::exception& e) {
        throw TokenizerError("cannot use the tokenizer " + path.string() + ": it is malformed (" + e.what() + ")");
    }
}

std::unique_ptr<HfTokenizer> HfTokenizer::fromJson(const fs::path& file) {
    Source source{file.string()};
    json j = parseJson(file);
    if (!j.is_object()) source.fail("it is not a JSON object");
    if (!j.contains("model")) source.fail("it has no \"model\"");
    std::unique_ptr<HfTokenizer> t(new HfTokenizer());
    t->model_ = makeModel(j["model"], source);
    if (j.contains("normalizer") && !j["normalizer"].is_null())
        t->normalizer_ = makeNormalizer(j["normalizer"], source);
    if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null())
        t->preTokenizer_ = makePreTokenizer(j["pre_tokenizer"], source);
    t->template_ = std::make_unique<Template>();
    if (j.contains("post_processor") && !j["post_processor"].is_null())
        *t->template_ = makeTemplate(j["post_processor"], source);
    if (j.contains("decoder") && !j["decoder"].is_null()) t->decoder_ = makeDecoder(j["decoder"], source);
    if (j.contains("padding") && j["padding"].is_object() && j["padding"].contains("pad_id"))
        t->padId_ = source.id(j["padding"]["pad_id"], "padding's pad_id");
    std::vector<AddedToken> added;
    for (const auto& a : j.value("added_tokens", json::array())) {
        if (!a.is_object() || !a.contains("content") || !a.contains("id"))
            source.fail("its added_tokens hold " + a.dump() + ", not a token with a content and an id");
        bool special = a.value("special", false);
        added.push_back({a["content"].get<std::string>(),
                         source.id(a["id"], "added token " + a["content"].dump() + "'s id"), special,
                         a.value("single_word", false), a.value("lstrip", false), a.value("rstrip", false),
                         a.value("normalized", !special)});
    }
    t->addTokens(std::move(added));
    return t;
}

std::unique_ptr<HfTokenizer> HfTokenizer::fromVocabTxt(const fs::path& file) {
    Source source{file.string()};
    std::string text = readFile(file);
    if (!unicode::valid(text)) source.fail("it is not UTF-8 text");
    std::vector<std::pair<std::string, int64_t>> vocab;
    std::istringstream in(text);
    std::string line;
    for (int64_t index = 0; std::getline(in, line); ++index) {
        auto chars = unicode::decode(line);  // Rust's trim_end: Unicode whitespace, \r included
        while (!chars.empty() && unicode::isWhitespace(chars.back())) chars.pop_back();
        vocab.emplace_back(unicode::encode(chars), index);
    }
    if (vocab.empty()) source.fail("it is empty");
    bool lowercase = true;
    std::error_code ec;
    fs::path config = file.parent_path() / "tokenizer_config.json";
    if (fs::is_regular_file(config, ec)) {
        json c = parseJson(config);
        if (c.is_object() && c.contains("do_lower_case") && c["do_lower_case"].is_boolean())
            lowercase = c["do_lower_case"];
    }
    std::unique_ptr<HfTokenizer> t(new HfTokenizer());
    t->model_ = wordPiece(std::move(vocab), "[UNK]", source);
    t->normalizer_ = bertNormalizer(lowercase);
    t->preTokenizer_ = bertPreTokenizer();
    t->decoder_ = wordPieceDecoder();
    t->template_ = std::make_unique<Template>();
    auto cls = t->model_->id("[CLS]"), sep = t->model_->id("[SEP]");
    if (cls && sep) t->template_->items = {{false, {*cls}, "[CLS]"}, {true, {}, {}}, {false, {*sep}, "[SEP]"}};
    std::vector<AddedToken> added;
    for (const char* name : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
        if (auto id = t->model_->id(name)) added.push_back({name, *id, true, false, false, false, false});
    t->addTokens(std::move(added));
    return t;
}

std::unique_ptr<HfTokenizer> HfTokenizer::fromVocabJson(const fs::path& file) {
    Source source{file.string()};
    fs::path mergesFile = file.parent_path() / "merges.txt";
    std::error_code ec;
    if (!fs::is_regular_file(mergesFile, ec))
        source.fail("a byte-level BPE vocabulary needs merges.txt beside it, and there is none");
    json j = parseJson(file);
    if (!j.is_object()) source.fail("it is not a map from tokens to ids");
    std::vector<std::pair<std::string, int64_t>> vocab;
    for (auto& [token, id] : j.items()) {
        vocab.emplace_back(token, source.id(id, "token \"" + token + "\"'s id"));
    }
    std::vector<std::pair<std::string, std::string>> merges;
    std::istringstream in(readFile(mergesFile));
    std::string line;
    Source mergesSource{mergesFile.string()};
    for (int64_t number = 1; std::getline(in, line); ++number) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.rfind("#version", 0) == 0 || line.empty()) continue;
        auto space = line.find(' ');
        if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
            mergesSource.fail("its line " + std::to_string(number) + " is not two tokens separated by a space");
        merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    }
    std::unique_ptr<HfTokenizer> t(new HfTokenizer());
    t->model_ = byteLevelBpe(std::move(vocab), std::move(merges), mergesSource);
    t->preTokenizer_ = byteLevelPreTokenizer(false);
    t->decoder_ = byteLevelDecoder();
    t->template_ = std::make_unique<Template>();
    auto bos = t->model_->id("<s>"), eos = t->model_->id("</s>");
    if (bos && eos) t->template_->items = {{false, {*bos}, "<s>"}, {true, {}, {}}, {false, {*eos}, "</s>"}};
    std::vector<AddedToken> added;
    for (const char* name : {"<s>", "<pad>", "</s>", "<unk>", "<mask>", "<|endoftext|>"})
        if (auto id = t->model_->id(name)) added.push_back({name, *id, true, false, false, false, false});
    t->addTokens(std::move(added));
    return t;
}

void HfTokenizer::addTokens(std::vector<AddedToken> tokens) {
    added_ = std::move(tokens);
    raw_ = std::make_unique<Matcher>();
    normalized_ = std::make_unique<Matcher>();
    raw_->tokens = normalized_->tokens = &added_;
    for (size_t k = 0; k < added_.size(); ++k) {
        const auto& t = added_[k];
        if (t.normalized)
            normalized_->add(normalizer_ ? normalizer_->normalize(t.content) : t.content, k);
        else
            raw_->add(t.content, k);
    }
    raw_->sort();
    normalized_->sort();
}

std::vector<int64_t> HfTokenizer::encode(const std::string& input, bool addSpecial) const {
    std::string text = unicode::valid(input) ? input : unicode::lossy(input);
    std::vector<Matcher::Segment> rawSegments, segments;
    raw_->split(text, true, rawSegments);
    for (auto& r : rawSegments) {
        if (r.id) {
            segments.push_back(std::move(r));
            continue;
        }
        std::string normalized = normalizer_ ? normalizer_->normalize(std::move(r.text)) : std::move(r.text);
        normalized_->split(normalized, r.atStart, segments);
    }
    std::vector<int64_t> ids;
    std::vector<Piece> pieces;
    for (auto& s : segments) {
        if (s.id) {
            ids.push_back(*s.id);
            continue;
        }
        pieces.assign(1, Piece{std::move(s.text), s.atStart});
        if (preTokenizer_) preTokenizer_->split(pieces);
        for (auto& p : pieces)
            if (!p.text.empty()) model_->tokenize(p.text, ids);
    }
    return addSpecial ? addSpecialTokens(ids) : ids;
}

std::vector<int64_t> HfTokenizer::addSpecialTokens(const std::vector<int64_t>& ids) const {
    std::vector<int64_t> out;
    out.reserve(ids.size() + static_cast<size_t>(specialTokensAdded()));
    for (auto& item : template_->items)
        out.insert(out.end(), item.sequence ? ids.begin() : item.ids.begin(),
                   item.sequence ? ids.end() : item.ids.end());
    return out;
}

int64_t HfTokenizer::specialTokensAdded() const {
    int64_t n = 0;
    for (auto& item : template_->items) n += static_cast<int64_t>(item.ids.size());
    return n;
}

std::string HfTokenizer::decode(const std::vector<int64_t>& ids, bool skipSpecial) const {
    std::vector<std::string> tokens;
    for (int64_t id : ids) {
        auto it = std::find_if(added_.begin(), added_.end(), [&](const AddedToken& a) { return a.id == id; });
        if (it != added_.end()) {
            if (!(skipSpecial && it->special)) tokens.push_back(it->content);
            continue;
        }
        auto t = model_->token(id);
        if (!t) continue;
        // A model token that is also a special added token is skipped by its name, as Hugging Face does.
        if (skipSpecial && std::any_of(added_.begin(), added_.end(),
                                       [&](const AddedToken& a) { return a.special && a.content == *t; }))
            continue;
        tokens.push_back(std::move(*t));
    }
    if (decoder_)
        tokens = decoder_->decodeChain(std::move(tokens));
    else {
        std::string joined;
        for (size_t i = 0; i < tokens.size(); ++i) joined += (i ? " " : "") + tokens[i];
        return joined;
    }
    std::string out;
    for (auto& t : tokens) out += t;
    return out;
}

int64_t HfTokenizer::size() const {
    int64_t n = model_->size();
    std::vector<std::string> extra;
    for (auto& a : added_)
        if (!model_->id(a.content)) extra.push_back(a.content);
    std::sort(extra.begin(), extra.end());
    return n + static_cast<int64_t>(std::unique(extra.begin(), extra.end()) - extra.begin());
}

std::string HfTokenizer::token(int64_t id) const {
    for (auto& a : added_)
        if (a.id == id) return a.content;
    return model_->token(id).value_or("");
}

std::optional<int64_t> HfTokenizer::id(const std::string& token) const {
    for (auto& a : added_)
        if (a.content == token) return a.id;
    return model_->id(token);
}

HfTokenizer::Specials HfTokenizer::specials() const {
    Specials s;
    auto orMinus = [](std::optional<int64_t> v) { return v.value_or(-1); };
    s.pad = padId_ ? *padId_ : orMinus(firstOf(*this, {"[PAD]", "<pad>"}));
    auto unk = model_->unkToken();
    s.unk = orMinus(unk ? id(*unk) : firstOf(*this, {"[UNK]", "<unk>"}));
    s.mask = orMinus(firstOf(*this, {"[MASK]", "<mask>"}));
    const auto& items = template_->items;
    auto sequence = std::find_if(items.begin(), items.end(), [](auto& i) { return i.sequence; });
    bool hasSequence = sequence != items.end();
    if (hasSequence && sequence != items.begin() && !items.front().ids.empty())
        s.cls = items.front().ids.front();
    else if (hasSequence && items.end() - sequence >= 3 && !items.back().ids.empty())
        s.cls = items.back().ids.front();
    else
        s.cls = orMinus(firstOf(*this, {"[CLS]", "<s>"}));
    if (hasSequence && sequence + 1 != items.end() && !sequence[1].ids.empty())
        s.sep = sequence[1].ids.front();
    else
        s.sep = orMinus(firstOf(*this, {"[SEP]", "</s>"}));
    return s;
}

int64_t HfTokenizer::clsPosition() const {
    const auto& items = template_->items;
    auto sequence = std::find_if(items.begin(), items.end(), [](auto& i) { return i.sequence; });
    if (sequence != items.end() && sequence == items.begin() && items.end() - sequence >= 3) return -1;
    return 0;
}

}  // namespace pipelang::tokenizers
