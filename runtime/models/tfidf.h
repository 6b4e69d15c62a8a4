// The `tfidf` backbone's statistics: its n-gram vocabulary and inverse
// document frequencies come from the training split, as scikit-learn's
// TfidfVectorizer fits them, and are kept as buffers (saved with the weights,
// so `pipe predict` needs nothing else).
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/data/dataset.h"
#include "runtime/models/network.h"

namespace pipelang::runtime {

// Fits every tfidf module of `network` on the training split of `data` (a
// text data block). Does nothing for a network without one.
void fitTextFeatures(Network& network, const PreparedData& data);

// The tf-idf features of `docs` (token ids) as scikit-learn computes them:
// the `maxFeatures` n-grams (lengths lo..hi) most frequent in the fitted
// documents, tf = count (or 1 + ln count when sublinear), idf = ln((1 + n) /
// (1 + df)) + 1, each row scaled to unit length. For tests: {docs, maxFeatures}.
torch::Tensor tfidfFeatures(const std::vector<std::vector<int64_t>>& fit, const std::vector<std::vector<int64_t>>& docs,
                            int64_t vocab, int64_t lo, int64_t hi, int64_t maxFeatures, bool sublinear);

}  // namespace pipelang::runtime
