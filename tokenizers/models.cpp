// The models: WordPiece, BPE, Unigram and WordLevel, turning one
// pre-tokenized word into ids exactly as Hugging Face's do.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <unordered_map>

#include "tokenizers/components.h"
#include "tokenizers/unicode.h"

namespace pipelang::tokenizers {

namespace {

struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Map = std::unordered_map<std::string, int64_t, Hash, std::equal_to<>>;

size_t charLength(unsigned char b) {
    return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

// The vocabulary both ways; a token listed twice keeps its last id, as a JSON object's would.
class Vocab {
public:
    void add(const std::string& token, int64_t id) {
        ids_[token] = id;
        tokens_[id] = token;
    }
    std::optional<int64_t> id(std::string_view t) const {
        auto it = ids_.find(t);
        return it == ids_.end() ? std::nullopt : std::optional<int64_t>(it->second);
    }
    std::optional<std::string> token(int64_t id) const {
        auto it = tokens_.find(id);
        return it == tokens_.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    int64_t size() const { return static_cast<int64_t>(ids_.size()); }

private:
    Map ids_;
    std::unordered_map<int64_t, std::string> tokens_;
};

Vocab vocabFromObject(const nlohmann::json& j, const Source& source) {
    if (!j.is_object()) source.fail("its model's \"vocab\" is not a map from tokens to ids");
    Vocab v;
    for (auto& [token, id] : j.items()) {
        v.add(token, source.id(id, "model's vocab's token \"" + token + "\" id"));
    }
    return v;
}

class VocabModel : public Model {
public:
    std::optional<int64_t> id(std::string_view t) const override { return vocab_.id(t); }
    std::optional<std::string> token(int64_t id) const override { return vocab_.token(id); }
    int64_t size() const override { return vocab_.size(); }
    std::optional<std::string> unkToken() const override { return unk_; }

protected:
    int64_t unkId(const std::string& word) const {
        auto id = unk_ ? vocab_.id(*unk_) : std::nullopt;
        if (!id)
            throw TokenizerError("the tokenizer meets \"" + word +
                                 "\", which its vocabulary cannot spell, and its unknown token " +
                                 (unk_ ? "\"" + *unk_ + "\" is not in the vocabulary" : std::string("is not set")));
        return *id;
    }
    Vocab vocab_;
    std::optional<std::string> unk_;
};

class WordPiece : public VocabModel {
public:
    WordPiece(Vocab vocab, std::string unk, std::string prefix, size_t maxChars)
        : prefix_(std::move(prefix)), maxChars_(maxChars) {
        vocab_ = std::move(vocab);
        unk_ = std::move(unk);
    }
    void tokenize(const std::string& word, std::vector<int64_t>& ids) const override {
        if (unicode::decode(word).size() > maxChars_) {
            ids.push_back(unkId(word));
            return;
        }
        size_t first = ids.size();
        std::string candidate;
        for (size_t start = 0; start < word.size();) {
            std::optional<int64_t> found;
            size_t end = word.size();
            for (; end > start; --end) {
                if (end < word.size() && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) continue;
                candidate.assign(start > 0 ? prefix_ : "").append(word, start, end - start);
                if ((found = vocab_.id(candidate))) break;
            }
            if (!found) {
                ids.resize(first);
                ids.push_back(unkId(word));
                return;
            }
            ids.push_back(*found);
            start = end;
        }
    }

private:
    std::string prefix_;
    size_t maxChars_;
};

class WordLevel : public VocabModel {
public:
    WordLevel(Vocab vocab, std::optional<std::string> unk) {
        vocab_ = std::move(vocab);
        unk_ = std::move(unk);
    }
    void tokenize(const std::string& word, std::vector<int64_t>& ids) const override {
        auto id = vocab_.id(word);
        ids.push_back(id ? *id : unkId(word));
    }
};

struct PairHash {
    size_t operator()(const std::pair<int64_t, int64_t>& p) const {
        return std::hash<int64_t>{}(p.first * 1000003 + p.second);
    }
};

class Bpe : public VocabModel {
public:
    struct Options {
        std::optional<std::string> unk, prefix, suffix;
        bool byteFallback = false, fuseUnk = false, ignoreMerges = false;
    };
    Bpe(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges, Options o, const Source& source)
        : o_(std::move(o)) {
        vocab_ = std::move(vocab);
        unk_ = o_.unk;
        size_t prefixLength = o_.prefix ? o_.prefix->size() : 0;
        int64_t rank = 0;
        // Not a structured binding: clang before 16 (scripts/fuzz's) cannot capture one in a lambda.
        for (const auto& merge : merges) {
            const std::string &a = merge.first, &b = merge.second;
            auto need = [&](const std::string& t) {
                auto id = vocab_.id(t);
                if (!id)
                    source.fail("a merge (\"" + a + "\" \"" + b + "\") names the token \"" + t +
                                "\", which is not in the vocabulary");
                return *id;
            };
            int64_t x = need(a), y = need(b);
            int64_t merged = need(a + b.substr(std::min(prefixLength, b.size())));
            merges_[{x, y}] = {rank++, merged};
        }
    }

    void tokenize(const std::string& word, std::vector<int64_t>& ids) const override {
        if (word.empty()) return;
        if (o_.ignoreMerges)
            if (auto id = vocab_.id(word)) {
                ids.push_back(*id);
                return;
            }
        {
            std::shared_lock lock(cacheMutex_);
            auto it = cache_.find(word);
            if (it != cache_.end()) {
                ids.insert(ids.end(), it->second.begin(), it->second.end());
                return;
            }
        }
        auto symbols = merge(split(word));
        {
            std::unique_lock lock(cacheMutex_);
            if (cache_.size() < 100000) cache_.emplace(word, symbols);
        }
        ids.insert(ids.end(), symbols.begin(), symbols.end());
    }

private:
    // The word's characters as ids, as Hugging Face's BPE::merge_word lays them out.
    std::vector<int64_t> split(const std::string& w) const {
        std::vector<int64_t> out;
        std::optional<int64_t> pendingUnk;
        for (size_t i = 0; i < w.size();) {
            size_t n = std::min(charLength(static_cast<unsigned char>(w[i])), w.size() - i);
            std::string s;
            if (i > 0 && o_.prefix) s = *o_.prefix;
            s.append(w, i, n);
            if (i + n == w.size() && o_.suffix) s += *o_.suffix;
            i += n;
            if (auto id = vocab_.id(s)) {
                if (pendingUnk) out.push_back(*pendingUnk), pendingUnk.reset();
                out.push_back(*id);
                continue;
            }
            if (o_.byteFallback) {
                std::vector<int64_t> bytes;
                for (unsigned char b : s) {
                    char code[8];
                    std::snprintf(code, sizeof code, "<0x%02X>", b);
                    if (auto id = vocab_.id(code))
                        bytes.push_back(*id);
                    else
                        break;
                }
                if (bytes.size() == s.size()) {
                    out.insert(out.end(), bytes.begin(), bytes.end());
                    continue;
                }
            }
            if (o_.unk) {
                if (pendingUnk && !o_.fuseUnk) out.push_back(*pendingUnk);
                if (!pendingUnk || !o_.fuseUnk) pendingUnk = unkId(w);
            }
        }
        if (pendingUnk) out.push_back(*pendingUnk);
        return out;
    }

    // Hugging Face's Word::merge_all without dropout: a heap of candidate
    // merges, lowest rank first and leftmost among equals, over a linked
    // list of symbols, so a long word (a whole text, when there is no
    // pre-tokenizer) costs n log n, not n squared.
    std::vector<int64_t> merge(std::vector<int64_t> ids) const {
        struct Symbol {
            int64_t id;
            std::ptrdiff_t prev, next;
            bool gone;
        };
        struct Candidate {
            int64_t rank;
            size_t pos;
            int64_t merged;
            bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
        };
        std::vector<Symbol> sym(ids.size());
        for (size_t i = 0; i < ids.size(); ++i)
            sym[i] = {ids[i], static_cast<std::ptrdiff_t>(i) - 1,
                      i + 1 < ids.size() ? static_cast<std::ptrdiff_t>(i + 1) : -1, false};
        std::priority_queue<Candidate> queue;
        auto consider = [&](size_t pos, int64_t a, int64_t b) {
            auto it = merges_.find({a, b});
            if (it != merges_.end()) queue.push({it->second.first, pos, it->second.second});
        };
        for (size_t i = 0; i + 1 < ids.size(); ++i) consider(i, ids[i], ids[i + 1]);
        while (!queue.empty()) {
            Candidate top = queue.top();
            queue.pop();
            Symbol& left = sym[top.pos];
            if (left.gone || left.next < 0) continue;
            Symbol& right = sym[static_cast<size_t>(left.next)];
            auto it = merges_.find({left.id, right.id});
            if (it == merges_.end() || it->second.second != top.merged) continue;  // an expired candidate
            left.id = top.merged;
            right.gone = true;
            left.next = right.next;
            if (right.next >= 0) sym[static_cast<size_t>(right.next)].prev = static_cast<std::ptrdiff_t>(top.pos);
            if (left.prev >= 0)
                consider(static_cast<size_t>(left.prev), sym[static_cast<size_t>(left.prev)].id, left.id);
            if (left.next >= 0) consider(top.pos, left.id, sym[static_cast<size_t>(left.next)].id);
        }
        std::vector<int64_t> out;
        for (auto& s : sym)
            if (!s.gone) out.push_back(s.id);
        return out;
    }

    Options o_;
    std::unordered_map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>, PairHash>
        merges_;  // -> (rank, merged id)
    mutable std::shared_mutex cacheMutex_;
    mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

class Unigram : public Model {
public:
    Unigram(std::vector<std::pair<std::string, double>> pieces, std::optional<int64_t> unkId, bool byteFallback)
        : pieces_(std::move(pieces)), unkId_(unkId), byteFallback_(byteFallback) {
        for (size_t i = 0; i < pieces_.size(); ++i) {
            ids_[pieces_[i].first] = static_cast<int64_t>(i);
            minScore_ = std::min(minScore_, pieces_[i].second);
            maxLength_ = std::max(maxLength_, pieces_[i].first.size());
        }
    }
    std::optional<int64_t> id(std::string_view t) const override {
        auto it = ids_.find(t);
        return it == ids_.end() ? std::nullopt : std::optional<int64_t>(it->second);
    }
    std::optional<std::string> token(int64_t id) const override {
        if (id < 0 || id >= static_cast<int64_t>(pieces_.size())) return std::nullopt;
        return pieces_[static_cast<size_t>(id)].first;
    }
    int64_t size() const override { return static_cast<int64_t>(pieces_.size()); }
    std::optional<std::string> unkToken() const override { return unkId_ ? token(*unkId_) : std::nullopt; }

    // sentencepiece's Viterbi as Hugging Face's encode_optimized runs it, unknown characters fused.
    void tokenize(const std::string& s, std::vector<int64_t>& ids) const override {
        struct Node {
            int64_t id = -1;
            double score = 0;
            int64_t from = -1;
        };
        const double unkScore = minScore_ - 10.0;
        std::vector<Node> best(s.size() + 1);
        for (size_t start = 0; start < s.size();) {
            size_t charLen = std::min(charLength(static_cast<unsigned char>(s[start])), s.size() - start);
            double here = best[start].score;
            bool single = false;
            for (size_t len = 1; len <= maxLength_ && start + len <= s.size(); ++len) {
                if (start + len < s.size() && (static_cast<unsigned char>(s[start + len]) & 0xC0) == 0x80) continue;
                auto it = ids_.find(std::string_view(s).substr(start, len));
                if (it == ids_.end()) continue;
                Node& target = best[start + len];
                double candidate = pieces_[static_cast<size_t>(it->second)].second + here;
                if (target.from < 0 || candidate > target.score)
                    target = {it->second, candidate, static_cast<int64_t>(start)};
                if (len == charLen) single = true;
            }
            if (!single) {
                if (!unkId_)
                    throw TokenizerError("the tokenizer meets \"" + s +
                                         "\", which its Unigram vocabulary cannot spell, and it has no unk_id");
                Node& target = best[start + charLen];
                double candidate = unkScore + here;
                if (target.from < 0 || candidate > target.score)
                    target = {*unkId_, candidate, static_cast<int64_t>(start)};
            }
            start += charLen;
        }
        std::vector<std::string> pieces;
        std::string fused;
        for (size_t end = s.size(); end > 0;) {
            const Node& n = best[end];
            size_t from = static_cast<size_t>(n.from);
            if (unkId_ && n.id == *unkId_)
                fused.insert(0, s, from, end - from);
            else {
                if (!fused.empty()) pieces.push_back(std::move(fused)), fused.clear();
                pieces.push_back(s.substr(from, end - from));
            }
            end = from;
        }
        if (!fused.empty()) pieces.push_back(std::move(fused));
        for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
            if (auto known = id(*it)) {
                ids.push_back(*known);
                continue;
            }
            if (byteFallback_) {
                std::vector<int64_t> bytes;
                for (unsigned char b : *it) {
                    char code[8];
                    std::snprintf(code, sizeof code, "<0x%02X>", b);
                    if (auto byte = id(code))
                        bytes.push_back(*byte);
                    else
                        break;
                }
                if (bytes.size() == it->size()) {
                    ids.insert(ids.end(), bytes.begin(), bytes.end());
                    continue;
                }
            }
            ids.push_back(*unkId_);
        }
    }

private:
    std::vector<std::pair<std::string, double>> pieces_;
    Map ids_;
    std::optional<int64_t> unkId_;
    bool byteFallback_;
    double minScore_ = std::numeric_limits<double>::max();
    size_t maxLength_ = 0;
};

std::optional<std::string> optionalString(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    return it->get<std::string>();
}

std::vector<std::pair<std::string, std::string>> mergesOf(const nlohmann::json& j, const Source& source) {
    std::vector<std::pair<std::string, std::string>> merges;
    for (const auto& m : j.value("merges", nlohmann::json::array())) {
        if (m.is_string()) {
            // "a b": tokens never hold the space that separates them here.
            auto s = m.get<std::string>();
            auto space = s.find(' ', 1);
            if (space == std::string::npos)
                source.fail("its merge \"" + s + "\" is not two tokens separated by a space");
            merges.emplace_back(s.substr(0, space), s.substr(space + 1));
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
            merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        else
            source.fail("its merge " + m.dump() + " is neither \"a b\" nor [\"a\", \"b\"]");
    }
    return merges;
}

}  // namespace

std::unique_ptr<Model> wordPiece(std::vector<std::pair<std::string, int64_t>> entries, std::string unk, const Source&) {
    Vocab v;
    for (auto& [t, id] : entries) v.add(t, id);
    return std::make_unique<WordPiece>(std::move(v), std::move(unk), "##", 100);
}

std::unique_ptr<Model> byteLevelBpe(std::vector<std::pair<std::string, int64_t>> entries,
                                    std::vector<std::pair<std::string, std::string>> merges, const Source& source) {
    Vocab v;
    for (auto& [t, id] : entries) v.add(t, id);
    return std::make_unique<Bpe>(std::move(v), merges, Bpe::Options{}, source);
}

std::unique_ptr<Model> makeModel(const nlohmann::json& j, const Source& source) {
    if (!j.is_object()) source.fail("it has no \"model\" object");
    std::string type = j.contains("type") ? typeOf(j, "model", source) : "";
    if (type.empty()) {  // files older than the "type" field: the fields tell
        if (j.contains("merges"))
            type = "BPE";
        else if (j.contains("continuing_subword_prefix"))
            type = "WordPiece";
        else if (j.value("vocab", nlohmann::json()).is_array())
            type = "Unigram";
        else
            type = "WordLevel";
    }
    if (type == "WordPiece")
        return std::make_unique<WordPiece>(
            vocabFromObject(j.value("vocab", nlohmann::json()), source), get<std::string>(j, "unk_token", "[UNK]"),
            get<std::string>(j, "continuing_subword_prefix", "##"), get<size_t>(j, "max_input_chars_per_word", 100));
    if (type == "WordLevel")
        return std::make_unique<WordLevel>(vocabFromObject(j.value("vocab", nlohmann::json()), source),
                                           optionalString(j, "unk_token"));
    if (type == "BPE") {
        if (get(j, "dropout", 0.0) > 0)
            source.fail("its BPE model has dropout, which makes encoding random; it is not supported");
        Bpe::Options o{optionalString(j, "unk_token"),
                       optionalString(j, "continuing_subword_prefix"),
                       optionalString(j, "end_of_word_suffix"),
                       get(j, "byte_fallback", false),
                       get(j, "fuse_unk", false),
                       get(j, "ignore_merges", false)};
        return std::make_unique<Bpe>(vocabFromObject(j.value("vocab", nlohmann::json()), source), mergesOf(j, source),
                                     o, source);
    }
    if (type == "Unigram") {
        const auto& vocab = j.value("vocab", nlohmann::json());
        if (!vocab.is_array()) source.fail("its Unigram model's \"vocab\" is not a list of [piece, score] pairs");
        std::vector<std::pair<std::string, double>> pieces;
        for (const auto& p : vocab) {
            if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_number())
                source.fail("its Unigram model's vocab holds " + p.dump() + ", not a [piece, score] pair");
            pieces.emplace_back(p[0].get<std::string>(), p[1].get<double>());
        }
        std::optional<int64_t> unk;
        if (j.contains("unk_id") && !j["unk_id"].is_null()) unk = source.id(j["unk_id"], "Unigram model's unk_id");
        if (unk && (*unk < 0 || *unk >= static_cast<int64_t>(pieces.size())))
            source.fail("its Unigram model's unk_id " + std::to_string(*unk) + " is outside its vocabulary");
        return std::make_unique<Unigram>(std::move(pieces), unk, get(j, "byte_fallback", false));
    }
    source.unsupported("model", type, "WordPiece, BPE, Unigram and WordLevel");
}

}  // namespace pipelang::tokenizers
