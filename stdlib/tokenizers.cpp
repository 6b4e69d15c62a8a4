// Tokenizer trainers: the `train =` of a tokenizer block. The text comes from
// the block's `from` (a column of a training split) and the special tokens from
// its `specials`.
#include "stdlib/registry.h"

namespace pipelang::stdlib {

void addTokenizers(Registry& r) {
    r.add({"sentencepiece",
           Family::Trainer,
           "Trains a SentencePiece model (Kudo & Richardson 2018) on the text of the tokenizer block's `from`.",
           {
               {"vocab", "int", "", "the number of tokens in the vocabulary, special tokens included", {}, 1, {}},
               {"kind",
                "string",
                "\"unigram\"",
                "how text is cut: `unigram` or `bpe` subwords, single `char`acters, or whitespace-separated `word`s",
                {"unigram", "bpe", "char", "word"}},
               {"character_coverage",
                "float",
                "0.9995",
                "the share of characters given their own token; rarer ones become <unk> (1.0 for small alphabets)",
                {},
                0,
                1},
               {"normalization",
                "string",
                "\"nmt_nfkc\"",
                "Unicode normalisation before training: NFKC (`_cf` also lowercases), or `identity` for none",
                {"nmt_nfkc", "nfkc", "nmt_nfkc_cf", "nfkc_cf", "identity"}},
               {"byte_fallback", "bool", "false", "spell characters outside the vocabulary as UTF-8 bytes, not <unk>"},
               {"split_digits", "bool", "false", "make every digit its own token"},
               {"max_sentences",
                "int",
                "none",
                "train on at most this many lines, sampled with the run's `seed`; by default all",
                {},
                1,
                {}},
           }});
}

}  // namespace pipelang::stdlib
