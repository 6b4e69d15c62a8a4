// The tokenizer stage: a `tokenizer` section made into a Tokenizer.
#include "hub/locations.h"
#include "runtime/data/text_data.h"
#include "runtime/data/tokenizer.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

// A tokenizer trainer's maker reads its call into the options it trains with.
using TrainerMaker = TokenizerOptions (*)(const Value& call);
using TrainerMakers = stdlib::Implementations<stdlib::Family::Trainer, TrainerMaker>;

TokenizerOptions sentencepieceOptions(const Value& train) {
    TokenizerOptions options;
    options.kind = stringArg(train, "kind");
    options.vocab = intArg(train, "vocab");
    options.characterCoverage = numberArg(train, "character_coverage");
    options.normalization = stringArg(train, "normalization");
    options.byteFallback = boolArg(train, "byte_fallback");
    options.splitDigits = boolArg(train, "split_digits");
    options.maxSentences = intArg(train, "max_sentences");
    return options;
}
const TrainerMakers::Add kSentencepiece{"sentencepiece", sentencepieceOptions};

}  // namespace

std::shared_ptr<const Tokenizer> makeTokenizer(const Section& section, PreparedData* from,
                                               const std::filesystem::path& baseDir, uint64_t seed,
                                               const std::filesystem::path& dir) {
    const std::string where = "tokenizer `" + section.name + "`: ";
    const Value* load = section.field("load");
    if (load && !load->isNone()) {
        // A path, or a model's `org/name` in Hugging Face's cache, as weights are found.
        hub::FoundWeights found = hub::findWeights(load->text, baseDir);
        if (!found.path) throw RuntimeError(where + hub::notFound(load->text, found, "the tokenizer"));
        auto tokenizer = Tokenizer::load(*found.path);
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        tokenizer->save(dir);
        log::info("tokenizer " + section.name + ": " + std::to_string(tokenizer->size()) + " tokens (" +
                  tokenizer->kind() + ") from " + load->text);
        return tokenizer;
    }
    const Value* train = section.field("train");
    const Value* fromRef = section.field("from");
    if (!train || train->isNone() || !fromRef || fromRef->isNone())
        throw RuntimeError(where +
                           "give `load = \"file.model\"`, or `train = sentencepiece(...)` with `from = "
                           "data.train.column`.");
    // `from` is `data.train.column`: the checker allows the training split only.
    const std::string ref = fromRef->text;
    const std::string dataName = ref.substr(0, ref.find('.'));
    const std::string column = ref.substr(ref.rfind('.') + 1);
    auto* text = dynamic_cast<TextPreparation*>(from);
    if (!text)
        throw RuntimeError(where + "`" + ref + "` is not text: train a tokenizer on a data block with a text input.");
    TokenizerOptions options = makerOf<TrainerMakers>(*train)(*train);
    if (const Value* specials = section.field("specials"); specials && specials->kind == Value::Kind::List) {
        options.specials.clear();
        for (const auto& item : specials->items) options.specials.push_back(item.text);
    }
    auto texts = text->trainingText(column);
    auto tokenizer = Tokenizer::train(texts, options, seed, section.name);
    std::error_code ignored;
    std::filesystem::create_directories(dir, ignored);
    tokenizer->save(dir);
    log::info("tokenizer " + section.name + ": " + options.kind + ", " + std::to_string(tokenizer->size()) +
              " pieces, trained on " + std::to_string(texts.size()) + " texts of " + dataName + ".train");
    return tokenizer;
}

}  // namespace pipelang::runtime
