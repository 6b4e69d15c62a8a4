// Text data: the `chars`, `text` and `tokens` blocks over a table with a text
// column (csv, jsonl, lines, fortunes). `chars` builds its vocabulary from
// the training split's characters, in code point order after the special
// tokens at SpecialIds (a trained sentencepiece model has them there too);
// `text` and `tokens` take a tokenizer block's tokenizer and its special ids.
// See dataset.h for the batches.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/data/dataset.h"
#include "runtime/data/prepared.h"

namespace pipelang::runtime {

class Tokenizer;

// The ids of the special tokens of `chars` and of trained sentencepiece models.
struct SpecialIds {
    static constexpr int64_t pad = 0, unk = 1, bos = 2, eos = 3, cls = 4, count = 5;
};

// What a text data block needs from, and gives to, the tokenizer stage: its
// training split's text before any tokenizer exists, and then the tokenizer.
class TextPreparation {
public:
    virtual ~TextPreparation() = default;
    // The tokenizer block the input block names, or "" (chars needs none).
    virtual std::string tokenizerName() const = 0;
    // The training split's text: the column `column` of a table source (the
    // text of lines and fortunes, whatever the name). Never validation text.
    virtual std::vector<std::string> trainingText(const std::string& column) const = 0;
    // Encodes every split with `tokenizer`; before this a text or tokens
    // block has no batches.
    virtual void tokenize(std::shared_ptr<const Tokenizer> tokenizer) = 0;
    // The token ids of every training item (text input), for statistics a
    // model takes from the training split such as tf-idf's document frequencies.
    virtual std::vector<std::vector<int64_t>> trainingIds() const = 0;
};

std::unique_ptr<PreparedData> prepareText(const DataRequest& request);

// The tokenizer a `tokenizer` section describes: loaded from its `load`
// file, or trained on its `from` text (`data.train.column`) of `from`, the
// data block that names (null for one that loads). A trained one is saved as
// `dir/tokenizer.model`.
std::shared_ptr<const Tokenizer> makeTokenizer(const Section& section, PreparedData* from,
                                               const std::filesystem::path& baseDir, uint64_t seed,
                                               const std::filesystem::path& dir);

// A `text` batch of the items `positions` of `ids`: x padded with `pad` to the
// longest item (at least 1 column), mask true at real tokens; y left undefined.
Batch textBatch(const std::vector<std::vector<int64_t>>& ids, const std::vector<int64_t>& positions, int64_t pad);

// The windows of the `chars` block over one item's ids, makemore's set-up:
// the item is preceded by `context` bos tokens and followed by eos, and
// there is one window per character and one for the eos; window k's last
// target is the item's k-th token (eos for the last). Appends the sequence
// to `stream` and each window's first position to `starts`.
void appendCharWindows(const std::vector<int64_t>& ids, int64_t context, std::vector<int64_t>& stream,
                       std::vector<int64_t>& starts);

// A window of `context` ids from `stream` at `start` into x (`pad` beyond
// its end), and the ids that follow each into y, -100 where the next is a
// `bos` (padding: nothing to predict) or beyond the stream.
void windowAt(const std::vector<int64_t>& stream, int64_t start, int64_t context, int64_t* x, int64_t* y,
              int64_t pad = SpecialIds::pad, int64_t bos = SpecialIds::bos);

}  // namespace pipelang::runtime
