// The text blocks' preparation and loaders. Items are the rows of a table
// with a text column; everything learned (the character vocabulary, the
// tokenizer, the classes) comes from the training split alone.
#include "runtime/data/text_data.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <numeric>
#include <set>

#include "runtime/data/labels.h"
#include "runtime/data/loader.h"
#include "runtime/data/prepared.h"
#include "runtime/data/random.h"
#include "runtime/data/text_sources.h"
#include "runtime/data/tokenizer.h"
#include "runtime/data/views.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/train/loss.h"  // kIgnoreToken: where y has nothing to predict
#include "runtime/values.h"

namespace pipelang::runtime {

void appendCharWindows(const std::vector<int64_t>& ids, int64_t context, std::vector<int64_t>& stream,
                       std::vector<int64_t>& starts) {
    const int64_t base = int64_t(stream.size());
    stream.insert(stream.end(), size_t(context), SpecialIds::bos);
    stream.insert(stream.end(), ids.begin(), ids.end());
    stream.push_back(SpecialIds::eos);
    for (int64_t k = 0; k <= int64_t(ids.size()); ++k) starts.push_back(base + k);
}

void windowAt(const std::vector<int64_t>& stream, int64_t start, int64_t context, int64_t* x, int64_t* y, int64_t pad,
              int64_t bos) {
    const int64_t n = int64_t(stream.size());
    for (int64_t t = 0; t < context; ++t) {
        int64_t at = start + t;
        x[t] = at < n ? stream[size_t(at)] : pad;
        y[t] = at + 1 < n && stream[size_t(at + 1)] != bos ? stream[size_t(at + 1)] : kIgnoreToken;
    }
}

namespace {

constexpr std::array<const char*, SpecialIds::count> kSpecialNames = {"<pad>", "<unk>", "<s>", "</s>", "<cls>"};

// A split's items once encoded: windows over a stream (chars, tokens) or
// one id sequence per item (text).
struct TextSplit {
    std::vector<std::string> texts;
    std::vector<int64_t> rows;              // the items' rows in the table of kept items, for messages
    std::vector<int64_t> sourceRows;        // the items' rows as the source has them (empty texts included)
    std::vector<int64_t> stream, starts;    // chars, tokens
    std::vector<int64_t> firstWindow;       // chars: each item's first window
    std::vector<std::vector<int64_t>> ids;  // text
    torch::Tensor y;                        // text: targets
    int64_t size(bool windows) const { return int64_t(windows ? starts.size() : ids.size()); }
};

class TextData : public PreparedData, public TextPreparation, public ItemViews {
public:
    TextData(const DataRequest& request, std::string block)
        : name_(request.name()), seed_(request.seed), block_(std::move(block)) {
        info_.input = block_ == "text" ? "text" : "tokens";
        info_.padId = SpecialIds::pad;
        info_.folds = request.split ? foldCount(*request.split) : 0;
        if (block_ == "text") {
            info_.context = intArg(request.input, "max_len");
        } else {
            info_.context = intArg(request.input, "context");
            info_.target = "tokens";
        }
        info_.itemShape = {info_.context};
        if (const Value* t = argOf(request.input, "tokenizer")) tokenizerName_ = t->text;
    }

    bool windows() const { return block_ != "text"; }

    const DataInfo& info() const override { return info_; }
    int64_t size(Split split) const override {
        const TextSplit& s = splits_[size_t(split)];
        return encoded_ ? s.size(windows()) : int64_t(s.texts.size());
    }

    std::unique_ptr<Loader> loader(Split split, int64_t batchSize, int64_t workers) const override {
        if (!encoded_)
            throw RuntimeError("internal error: data `" + name_ +
                               "` was not tokenized before its loader was asked for");
        bool training = split == Split::Train;
        LoaderOptions options = splitLoaderOptions(size(split), batchSize, workers, training, seed_);
        const TextSplit* data = &splits_[size_t(split)];
        const int64_t context = info_.context;
        const int64_t pad = info_.padId, bos = ids_.bos;
        // `chars` windows overlap: one per character, so every character is
        // the last target of exactly one window. Scored, only that target
        // counts (with the window's whole context), so that a model that
        // predicts every position and one that predicts the last are measured
        // on the same targets; training learns from every position.
        const bool lastOnly = block_ == "chars" && !training;
        // A batch of windows is a few kilobytes copied out of one stream:
        // cheaper to make on the training thread than to hand over from a
        // worker (the wake-ups cost more than the copying).
        if (windows()) {
            options.workers = 0;
            return std::make_unique<ThreadedLoader>(
                options, [data, context, lastOnly, pad, bos](const std::vector<int64_t>& positions, int64_t) {
                    const int64_t b = int64_t(positions.size());
                    Batch batch;
                    batch.x = torch::empty({b, context}, torch::kInt64);
                    batch.y = torch::empty({b, context}, torch::kInt64);
                    int64_t* y = batch.y.data_ptr<int64_t>();
                    for (int64_t i = 0; i < b; ++i) {
                        windowAt(data->stream, data->starts[size_t(positions[size_t(i)])], context,
                                 batch.x.data_ptr<int64_t>() + i * context, y + i * context, pad, bos);
                        if (lastOnly) std::fill_n(y + i * context, context - 1, kIgnoreToken);
                    }
                    batch.index = positions;
                    return batch;
                });
        }
        if (training)
            options.order = [data, batchSize, seed = seed_](int64_t epoch) {
                return bucketedOrder(*data, batchSize, seed, epoch);
            };
        return std::make_unique<ThreadedLoader>(options, [data, pad](const std::vector<int64_t>& positions, int64_t) {
            Batch batch = textBatch(data->ids, positions, pad);
            batch.y = gatherRows(data->y, positions);
            return batch;
        });
    }

    void save(const std::filesystem::path& runDir) const override {
        writeClasses(runDir, info_);
        nlohmann::ordered_json stats;
        stats["input"] = info_.input;
        stats["block"] = block_;
        stats["context"] = info_.context;
        stats["vocab"] = info_.vocab;
        stats["pad_id"] = info_.padId;
        stats["unk_id"] = ids_.unk;
        stats["bos_id"] = ids_.bos;
        stats["eos_id"] = ids_.eos;
        stats["cls_id"] = ids_.cls;
        if (tokenizer_) {
            stats["tokenizer"] = tokenizer_->save(runDir).string();
            stats["cls_position"] = info_.clsPosition;
        } else {
            stats["tokens"] = chars_;
        }
        writeJson(runDir, "stats.json", stats.dump(2));
        writeItemRows(runDir, {&splits_[0].sourceRows, &splits_[1].sourceRows, &splits_[2].sourceRows});
    }

    // ItemViews. An item is named by its source row: "FILE line N" (a
    // fortune by its own file); a chars window by the text it was cut from.
    std::string itemName(Split split, int64_t position) const override {
        const TextSplit& data = splits_[size_t(split)];
        if (block_ == "tokens") return "window " + std::to_string(position + 1) + " of the stream";
        int64_t item = position;
        if (block_ == "chars") {
            auto after = std::upper_bound(data.firstWindow.begin(), data.firstWindow.end(), position);
            item = int64_t(after - data.firstWindow.begin()) - 1;
        }
        const Table& table = *table_;
        const int64_t row = data.rows.at(size_t(item));
        std::string file = table.name;
        if (auto column = table.find("file"))
            file = (std::filesystem::path(table.name) / table.cell(row, *column)).string();
        std::string where = size_t(row) < table.lines.size()
                                ? file + " line " + std::to_string(table.lines[size_t(row)])
                                : file + " item " + std::to_string(row + 1);
        return block_ == "chars"
                   ? where + ", character " + std::to_string(position - data.firstWindow[size_t(item)] + 1)
                   : where;
    }
    // `text`: the text as the network reads it (decoded after truncation)
    // and its number of tokens. Windows: the context with its special tokens
    // shown, and the token that follows it.
    ItemView view(const Batch& batch, int64_t j) const override {
        torch::Tensor x = batch.x[j].to(torch::kCPU).contiguous();
        std::vector<int64_t> ids(x.data_ptr<int64_t>(), x.data_ptr<int64_t>() + x.numel());
        ItemView item;
        if (!windows()) {
            int64_t real = batch.mask.defined() ? batch.mask[j].sum().item<int64_t>() : int64_t(ids.size());
            ids.resize(size_t(real));
            item.fields = {{"text", decoded(ids)}, {"tokens", std::to_string(real)}};
            return item;
        }
        std::string context;
        for (int64_t id : ids) context += pieceOf(id);
        item.fields = {{"context", context}};
        if (batch.y.defined()) item.fields.push_back({"next", pieceOf(batch.y[j][-1].item<int64_t>())});
        return item;
    }

    // TextPreparation
    std::string tokenizerName() const override { return tokenizerName_; }
    std::vector<std::string> trainingText(const std::string& column) const override {
        // lines and fortunes have one text, whatever its name; a table's other column is read as asked.
        auto other = table_->find(column);
        if (!other || *other == column_) return splits_[0].texts;
        std::vector<std::string> texts;
        for (int64_t row : splits_[0].rows) texts.push_back(table_->cell(row, *other));
        return texts;
    }
    void tokenize(std::shared_ptr<const Tokenizer> tokenizer) override {
        tokenizer_ = std::move(tokenizer);
        ids_ = tokenizer_->specials();
        // Padding is masked out, so a tokenizer without a pad token pads with any valid id.
        info_.padId = std::max<int64_t>(0, ids_.pad);
        info_.clsPosition = tokenizer_->clsPosition();
        info_.vocab = tokenizer_->size();
        if (block_ == "tokens" && (ids_.bos < 0 || ids_.eos < 0))
            throw RuntimeError("data `" + name_ + "`: the tokenizer `" + tokenizerName_ +
                               "` has no tokens to mark where a text begins and ends (<s> and </s>, or "
                               "[CLS] and [SEP]), which a language model's stream needs; use another tokenizer.");
        if (windows()) info_.outputs = info_.vocab;
        if (block_ == "text") {
            encode([this](const std::string& text, bool* cut) {
                return tokenizer_->encodeForModel(text, info_.context, cut);
            });
        } else {
            encode([this](const std::string& text, bool*) { return tokenizer_->encode(text); });
        }
    }
    std::vector<std::vector<int64_t>> trainingIds() const override { return splits_[0].ids; }

    // The character vocabulary from the training split; then every split encoded.
    void useCharacters() {
        std::set<std::string> seen;
        for (const auto& text : splits_[0].texts)
            for (auto& c : utf8Chars(text)) seen.insert(std::move(c));
        chars_.assign(kSpecialNames.begin(), kSpecialNames.end());
        chars_.insert(chars_.end(), seen.begin(), seen.end());
        std::map<std::string, int64_t> ids;
        for (size_t i = SpecialIds::count; i < chars_.size(); ++i) ids[chars_[i]] = int64_t(i);
        info_.vocab = info_.outputs = int64_t(chars_.size());
        encode([&](const std::string& text, bool*) {
            std::vector<int64_t> out;
            for (const auto& c : utf8Chars(text)) {
                auto it = ids.find(c);
                out.push_back(it == ids.end() ? SpecialIds::unk : it->second);
            }
            return out;
        });
    }

    // Filled in by prepareText.
    std::array<TextSplit, 3> splits_;
    std::string name_;
    DataInfo info_;
    std::shared_ptr<const Table> table_;
    size_t column_ = 0;

private:
    template <class Encode>
    void encode(Encode&& encodeText) {
        int64_t truncated = 0;
        for (auto& split : splits_) {
            split.stream.clear(), split.starts.clear(), split.ids.clear(), split.firstWindow.clear();
            for (const auto& text : split.texts) {
                bool cut = false;
                std::vector<int64_t> ids = encodeText(text, &cut);
                if (block_ == "chars") {
                    split.firstWindow.push_back(int64_t(split.starts.size()));
                    appendCharWindows(ids, info_.context, split.stream, split.starts);
                } else if (block_ == "tokens") {
                    // One stream of every item between bos and eos, cut into
                    // windows of `context` (the last one padded).
                    split.stream.push_back(ids_.bos);
                    split.stream.insert(split.stream.end(), ids.begin(), ids.end());
                    split.stream.push_back(ids_.eos);
                } else {
                    if (cut) ++truncated;
                    split.ids.push_back(std::move(ids));
                }
            }
            if (block_ == "tokens")
                for (int64_t s = 0; s + 1 < int64_t(split.stream.size()); s += info_.context) split.starts.push_back(s);
        }
        if (truncated)
            log::note("note: data `" + name_ + "`: " + std::to_string(truncated) + " texts are longer than max_len = " +
                      std::to_string(info_.context) + " tokens and were cut to it");
        encoded_ = true;
    }

    // One id as a person reads it: a character, a sentencepiece piece, or
    // a special token's name.
    std::string pieceOf(int64_t id) const {
        if (id == kIgnoreToken) return "(none)";
        if (tokenizer_) return tokenizer_->piece(id);
        if (id >= 0 && id < SpecialIds::count) return kSpecialNames[size_t(id)];
        return id < int64_t(chars_.size()) ? chars_[size_t(id)] : "<" + std::to_string(id) + ">";
    }
    std::string decoded(const std::vector<int64_t>& ids) const {
        if (tokenizer_) return tokenizer_->decode(ids);
        std::string text;
        for (int64_t id : ids) text += pieceOf(id);
        return text;
    }

    static std::vector<int64_t> bucketedOrder(const TextSplit& data, int64_t batchSize, uint64_t seed, int64_t epoch);

    uint64_t seed_;
    std::string block_;
    std::string tokenizerName_;
    bool encoded_ = false;
    std::vector<std::string> chars_;
    std::shared_ptr<const Tokenizer> tokenizer_;
    // The special ids: chars' own, else the tokenizer's.
    TokenIds ids_{SpecialIds::pad, SpecialIds::unk, SpecialIds::bos, SpecialIds::eos, SpecialIds::cls};
};

// fastai's SortishSampler: a permutation from (seed, epoch), cut into chunks
// of 50 batches each sorted by length (longest first), so a batch holds texts
// of similar length and little padding; then the batches are shuffled from
// the same seed. The order depends on (seed, epoch) alone.
std::vector<int64_t> TextData::bucketedOrder(const TextSplit& data, int64_t batchSize, uint64_t seed, int64_t epoch) {
    const int64_t n = int64_t(data.ids.size());
    batchSize = std::max<int64_t>(1, batchSize);
    std::vector<int64_t> order = Rng(seed, uint64_t(epoch), 0x6f72646572).permutation(n);
    const int64_t chunk = batchSize * 50;
    for (int64_t begin = 0; begin < n; begin += chunk) {
        auto first = order.begin() + begin, last = order.begin() + std::min(n, begin + chunk);
        std::stable_sort(first, last,
                         [&](int64_t a, int64_t b) { return data.ids[size_t(a)].size() > data.ids[size_t(b)].size(); });
    }
    std::vector<int64_t> batches((n + batchSize - 1) / batchSize);
    std::iota(batches.begin(), batches.end(), int64_t(0));
    // A last, smaller batch stays last, where the training loader drops it.
    const bool ragged = n % batchSize != 0;
    std::vector<int64_t> whole(batches.begin(), batches.end() - (ragged ? 1 : 0));
    Rng(seed, uint64_t(epoch), 0x6275636b6574).shuffle(whole);
    if (ragged) whole.push_back(int64_t(batches.size()) - 1);
    std::vector<int64_t> out;
    out.reserve(size_t(n));
    for (int64_t b : whole)
        for (int64_t i = b * batchSize; i < std::min(n, (b + 1) * batchSize); ++i) out.push_back(order[size_t(i)]);
    return out;
}

}  // namespace

Batch textBatch(const std::vector<std::vector<int64_t>>& ids, const std::vector<int64_t>& positions, int64_t pad) {
    const int64_t b = int64_t(positions.size());
    int64_t longest = 1;
    for (int64_t p : positions) longest = std::max<int64_t>(longest, int64_t(ids[size_t(p)].size()));
    Batch batch;
    batch.x = torch::full({b, longest}, pad, torch::kInt64);
    batch.mask = torch::zeros({b, longest}, torch::kBool);
    auto* x = batch.x.data_ptr<int64_t>();
    auto* mask = batch.mask.data_ptr<bool>();
    for (int64_t i = 0; i < b; ++i) {
        const auto& item = ids[size_t(positions[size_t(i)])];
        std::copy(item.begin(), item.end(), x + i * longest);
        std::fill_n(mask + i * longest, item.size(), true);
    }
    batch.index = positions;
    return batch;
}

namespace {

std::string textColumn(const DataRequest& request, const Table& table) {
    if (request.x) {
        if (callName(request.x) != "column")
            throw RuntimeError("data `" + request.name() +
                               "`: the text comes from a column, e.g. `x = column(\"text\")`.");
        std::string column = stringArg(request.x, "name");
        table.require(column, "the text");
        return column;
    }
    if (table.find("text")) return "text";
    throw RuntimeError("data `" + request.name() + "`: say which column holds the text, e.g. `x = column(\"text\")`.");
}

}  // namespace

std::unique_ptr<PreparedData> prepareText(const DataRequest& request) {
    const std::string block = callName(request.input);
    const bool languageModel = block != "text";
    const Value& source = *request.section->field("source");
    Listing listing = listSource(source, request.baseDir);
    if (!listing.table)
        throw RuntimeError("data `" + request.name() + "`: text needs a csv, jsonl, json, lines or fortunes source.");
    const Table& table = *listing.table;
    const size_t column = table.require(textColumn(request, table), "the text");

    std::vector<std::string> labels(size_t(table.size()));
    if (!languageModel) {
        if (request.y)
            labels = readLabels(*request.y, listing);
        else if (auto label = table.find("label")) {
            for (int64_t r = 0; r < table.size(); ++r) labels[size_t(r)] = table.cell(r, *label);
        } else {
            throw RuntimeError("data `" + request.name() +
                               "`: say which column is the target, e.g. `y = column(\"label\")`.");
        }
    }
    // Empty texts are left out (counted): there is nothing to read in them.
    std::vector<int64_t> keep;
    for (int64_t r = 0; r < table.size(); ++r) {
        const std::string& text = table.cell(r, column);
        requireUtf8(text, table.name, table.lines[size_t(r)]);
        if (text.find_first_not_of(" \t\r\n") != std::string::npos) keep.push_back(r);
    }
    if (keep.size() < size_t(table.size()))
        note(request, "left out " + std::to_string(size_t(table.size()) - keep.size()) + " of " +
                          std::to_string(table.size()) + " items with an empty text");
    if (!languageModel) {
        std::vector<std::string> kept;
        for (int64_t r : keep) kept.push_back(labels[size_t(r)]);
        auto withTarget = itemsWithTarget(request, kept);
        std::vector<int64_t> both;
        for (int64_t i : withTarget) both.push_back(keep[size_t(i)]);
        keep = std::move(both);
    }
    if (keep.empty()) throw RuntimeError("data `" + request.name() + "`: every item's text is empty.");
    listing = subset(listing, keep);
    {
        std::vector<std::string> kept;
        for (int64_t r : keep) kept.push_back(labels[size_t(r)]);
        labels = std::move(kept);
    }
    auto sides = assignSplits(*request.split, listing, labels, request.fold);

    auto data = std::make_unique<TextData>(request, block);
    data->table_ = listing.table;
    data->column_ = column;
    std::array<std::vector<int64_t>, 3> rows;
    for (size_t i = 0; i < sides.size(); ++i) {
        if (sides[i] == Side::None) continue;
        TextSplit& split = data->splits_[size_t(sides[i])];
        split.texts.push_back(listing.table->cell(int64_t(i), column));
        split.rows.push_back(int64_t(i));
        split.sourceRows.push_back(keep[i]);
        rows[size_t(sides[i])].push_back(int64_t(i));
    }
    if (data->splits_[0].texts.empty())
        throw RuntimeError("data `" + request.name() + "` has no training items; check the source and the split.");
    if (!languageModel) {
        Targets targets = encodeTargets(callName(request.target), labels, sides, labelDelimiter(request.target));
        for (size_t s = 0; s < 3; ++s) data->splits_[s].y = targetTensor(targets, rows[s]);
        DataInfo& info = data->info_;
        info.target = targets.kind;
        info.classes = targets.classes;
        info.outputs = targets.kind == "number" ? 1 : int64_t(targets.classes.size());
    }
    if (block == "chars") data->useCharacters();
    return data;
}
const BlockMakers::Add kText{"text", {prepareText}};
const BlockMakers::Add kChars{"chars", {prepareText, true}};
const BlockMakers::Add kTokens{"tokens", {prepareText, true}};

}  // namespace pipelang::runtime
