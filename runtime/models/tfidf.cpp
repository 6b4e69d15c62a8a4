// tf-idf features of token n-grams: a fixed module with no parameters. An
// n-gram is keyed exactly by its ids in base vocab + 1 (so n-grams of
// different lengths never share a key); the vocabulary is a sorted key list,
// looked up by binary search.
#include "runtime/models/tfidf.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include "runtime/data/text_data.h"
#include "runtime/error.h"
#include "runtime/models/parts.h"

namespace pipelang::runtime {

namespace {

// Calls `use(key)` for every n-gram of `ids` with lo <= n <= hi.
template <class Use>
void forNgrams(const int64_t* ids, int64_t length, int64_t vocab, int64_t lo, int64_t hi, Use&& use) {
    for (int64_t start = 0; start < length; ++start) {
        int64_t key = 0;
        for (int64_t n = 1; n <= hi && start + n <= length; ++n) {
            key = key * (vocab + 1) + ids[start + n - 1] + 1;
            if (n >= lo) use(key);
        }
    }
}

struct Vocabulary {
    std::vector<int64_t> keys;  // sorted
    std::vector<float> idf;
};

Vocabulary fitVocabulary(const std::vector<std::vector<int64_t>>& docs, int64_t vocab, int64_t lo, int64_t hi,
                         int64_t maxFeatures) {
    std::unordered_map<int64_t, std::pair<int64_t, int64_t>> counts;  // key → (total count, documents)
    for (const auto& doc : docs) {
        std::unordered_map<int64_t, int64_t> here;
        forNgrams(doc.data(), int64_t(doc.size()), vocab, lo, hi, [&](int64_t key) { ++here[key]; });
        for (const auto& [key, count] : here) {
            auto& c = counts[key];
            c.first += count;
            c.second += 1;
        }
    }
    std::vector<std::pair<int64_t, int64_t>> ranked;  // (count, key)
    for (const auto& [key, c] : counts) ranked.push_back({c.first, key});
    // The most frequent first, ties by key, so the choice never depends on hashing.
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    if (int64_t(ranked.size()) > maxFeatures) ranked.resize(size_t(maxFeatures));
    Vocabulary v;
    for (const auto& r : ranked) v.keys.push_back(r.second);
    std::sort(v.keys.begin(), v.keys.end());
    const double n = double(docs.size());
    for (int64_t key : v.keys) v.idf.push_back(float(std::log((1 + n) / (1 + double(counts[key].second))) + 1));
    return v;
}

void featuresOf(const int64_t* ids, int64_t length, int64_t vocab, int64_t lo, int64_t hi, const int64_t* keys,
                const float* idf, int64_t used, bool sublinear, float* out) {
    std::map<int64_t, int64_t> counts;  // feature → count
    forNgrams(ids, length, vocab, lo, hi, [&](int64_t key) {
        const int64_t* at = std::lower_bound(keys, keys + used, key);
        if (at != keys + used && *at == key) ++counts[at - keys];
    });
    double norm = 0;
    for (const auto& [feature, count] : counts) {
        double tf = sublinear ? 1 + std::log(double(count)) : double(count);
        double value = tf * idf[feature];
        out[feature] = float(value);
        norm += value * value;
    }
    if (norm > 0) {
        float scale = float(1 / std::sqrt(norm));
        for (const auto& [feature, count] : counts) out[feature] *= scale;
    }
}

void checkKeys(int64_t vocab, int64_t hi) {
    // Keys must fit in 63 bits: (vocab + 1)^hi.
    double bits = double(hi) * std::log2(double(vocab + 1));
    if (bits > 62)
        throw RuntimeError("tfidf: n-grams of " + std::to_string(hi) + " tokens over a vocabulary of " +
                           std::to_string(vocab) +
                           " are too many to count; use shorter `ngrams` or a smaller "
                           "vocabulary.");
}

// The fitted n-grams and their idf: a child module, so that the network
// adopts it (ComposedNetwork registers the backbone's children), saves it with
// the weights as `vocabulary.keys` / `vocabulary.idf`, and fitTextFeatures
// finds it.
class TfidfVocabulary : public torch::nn::Module {
public:
    TfidfVocabulary(int64_t vocab, int64_t lo, int64_t hi, int64_t maxFeatures)
        : vocab(vocab), lo(lo), hi(hi), maxFeatures(maxFeatures) {
        checkKeys(vocab, hi);
        // Unused slots hold the largest key, so the sorted list stays sorted.
        keys = register_buffer("keys", torch::full({maxFeatures}, std::numeric_limits<int64_t>::max(), torch::kInt64));
        idf = register_buffer("idf", torch::zeros({maxFeatures}, torch::kFloat32));
    }

    void fit(const std::vector<std::vector<int64_t>>& docs) {
        Vocabulary v = fitVocabulary(docs, vocab, lo, hi, maxFeatures);
        torch::NoGradGuard noGrad;
        torch::Tensor k = torch::full({maxFeatures}, std::numeric_limits<int64_t>::max(), torch::kInt64);
        torch::Tensor f = torch::zeros({maxFeatures}, torch::kFloat32);
        for (size_t i = 0; i < v.keys.size(); ++i) {
            k[int64_t(i)] = v.keys[i];
            f[int64_t(i)] = v.idf[i];
        }
        keys.copy_(k);
        idf.copy_(f);
    }

    const int64_t vocab, lo, hi, maxFeatures;
    torch::Tensor keys, idf;
};

class Tfidf : public models::Backbone {
public:
    Tfidf(int64_t vocab, int64_t lo, int64_t hi, int64_t maxFeatures, bool sublinear)
        : sublinear_(sublinear),
          vocabulary_(register_module("vocabulary", std::make_shared<TfidfVocabulary>(vocab, lo, hi, maxFeatures))) {}

    torch::Tensor forward(const Batch& batch) override {
        if (batch.x.dim() != 2 || batch.x.scalar_type() != torch::kInt64)
            throw RuntimeError("tfidf reads text: token ids {batch, length}; use a `text(...)` input block.");
        const TfidfVocabulary& v = *vocabulary_;
        torch::Tensor x = batch.x.to(torch::kCPU).contiguous();
        torch::Tensor mask = batch.mask.defined() ? batch.mask.to(torch::kCPU).contiguous() : torch::Tensor();
        torch::Tensor keys = v.keys.to(torch::kCPU).contiguous(), idf = v.idf.to(torch::kCPU).contiguous();
        const int64_t b = x.size(0), t = x.size(1);
        torch::Tensor out = torch::zeros({b, v.maxFeatures}, torch::kFloat32);
        const int64_t* k = keys.data_ptr<int64_t>();
        const int64_t used = std::lower_bound(k, k + v.maxFeatures, std::numeric_limits<int64_t>::max()) - k;
        for (int64_t i = 0; i < b; ++i) {
            int64_t length = t;
            if (mask.defined()) length = mask[i].sum().item<int64_t>();  // real tokens come first
            featuresOf(x.data_ptr<int64_t>() + i * t, length, v.vocab, v.lo, v.hi, k, idf.data_ptr<float>(), used,
                       sublinear_, out.data_ptr<float>() + i * v.maxFeatures);
        }
        return out.to(batch.x.device());
    }
    int64_t features() const override { return vocabulary_->maxFeatures; }
    bool spatial() const override { return false; }
    std::string builtinName() const override { return "tfidf"; }

private:
    bool sublinear_;
    std::shared_ptr<TfidfVocabulary> vocabulary_;
};

}  // namespace

torch::Tensor tfidfFeatures(const std::vector<std::vector<int64_t>>& fit, const std::vector<std::vector<int64_t>>& docs,
                            int64_t vocab, int64_t lo, int64_t hi, int64_t maxFeatures, bool sublinear) {
    checkKeys(vocab, hi);
    Vocabulary v = fitVocabulary(fit, vocab, lo, hi, maxFeatures);
    torch::Tensor out = torch::zeros({int64_t(docs.size()), maxFeatures}, torch::kFloat32);
    for (size_t i = 0; i < docs.size(); ++i)
        featuresOf(docs[i].data(), int64_t(docs[i].size()), vocab, lo, hi, v.keys.data(), v.idf.data(),
                   int64_t(v.keys.size()), sublinear, out.data_ptr<float>() + int64_t(i) * maxFeatures);
    return out;
}

void fitTextFeatures(Network& network, const PreparedData& data) {
    std::vector<std::vector<int64_t>> docs;
    bool read = false;
    for (const auto& module : network.modules()) {
        auto* tfidf = dynamic_cast<TfidfVocabulary*>(module.get());
        if (!tfidf) continue;
        if (!read) {
            auto* text = dynamic_cast<const TextPreparation*>(&data);
            if (!text) throw RuntimeError("tfidf reads text: use a data block with a `text(...)` input.");
            docs = text->trainingIds();
            read = true;
        }
        tfidf->fit(docs);
    }
}

namespace models {

static std::shared_ptr<Backbone> makeTfidf(const Value& call, const DataInfo& info) {
    if (info.input != "text" || info.vocab < 1)
        throw RuntimeError("tfidf reads text: use a data block with a `text(tokenizer = ..., max_len = ...)` input.");
    // `ngrams = 2` or `ngrams = [1, 3]`.
    const Value* given = call.arg("ngrams");
    int64_t lo = 1, hi = 1;
    if (given && given->kind == Value::Kind::Int) lo = hi = given->integer;
    if (given && !given->items.empty()) lo = given->items.front().integer, hi = given->items.back().integer;
    if (lo > hi) std::swap(lo, hi);
    return std::make_shared<Tfidf>(info.vocab, lo, hi, intArg(call, "max_features"), boolArg(call, "sublinear"));
}
const BackboneMakers::Add kTfidf{"tfidf", makeTfidf};

}  // namespace models

}  // namespace pipelang::runtime
