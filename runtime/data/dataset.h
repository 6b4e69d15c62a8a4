// Data for training: one `data` section of a checked pipeline, loaded, split
// and prepared (vocabularies, normalisation statistics measured on the
// training split), served as batches by a multi-threaded loader.
//
// Order of work, as the execution graph names it: `load` reads the source's
// listing (paths or in-memory items, labels) and splits it; `prepare` builds the
// target vocabulary and measures statistics on the training split only.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "interpreter/pipeline.h"

namespace pipelang::runtime {

enum class Split { Train, Valid, Test };
const char* splitName(Split split);

// What the data tells the model and the loss, known after `prepare`.
struct DataInfo {
    std::string input;                 // "image", "tabular", "text" or "tokens" (see Batch)
    std::string target;                // "category", "multi_category", "number" or "tokens" (next token)
    std::vector<int64_t> itemShape;    // one input after item transforms: {C, H, W}, or {features}
    std::vector<std::string> classes;  // category / multi_category vocabulary, in a stable order
    int64_t outputs = 1;               // what the head must produce: classes.size(), or 1 for a number
    // tabular inputs
    int64_t continuous = 0;              // normalised continuous columns (+ is-missing indicators)
    std::vector<int64_t> cardinalities;  // per categorical column, including the "missing" level
    // text and tokens inputs
    int64_t vocab = 0;        // token ids lie in [0, vocab)
    int64_t padId = 0;        // the id that pads a text batch (where mask is false)
    int64_t clsPosition = 0;  // text: where the tokenizer put the classification token (-1: last)
    int64_t context = 0;      // tokens: window length; text: max_len
    // cross-validation
    int64_t folds = 0;  // k of a k-fold splitter (its `fold` picks the valid one), else 0
    // series: itemShape is {lookback, columns}; outputs = horizon × targets,
    // predicted scaled, each target column c as (value − mean[c]) / std[c]
    int64_t horizon = 0;
    std::vector<std::string> seriesTargets;     // the target columns, in output order
    std::vector<double> seriesMean, seriesStd;  // per target column
    std::vector<double> naiveScale;             // per target column: `mase`'s divisor, in its units
};

// Text contract. `text` input: x is int64 token ids {B, T}, padded to the
// batch's longest item with padId, and mask is bool {B, T}, true at real
// tokens. `tokens` input and target (language modelling): x is int64 {B, T}
// windows of `context` ids and y is int64 {B, T}, y[:, t] being the token that
// follows x[:, t], or -100 where there is nothing to predict (cross entropy's
// ignore index). A network whose predictions are {B, V} (a model that reads the
// whole window, such as embedding_mlp) is compared with y's last column; one
// whose predictions are {B, T, V} with every column.
// Series: x is float32 {B, lookback, columns} (the targets, then the inputs)
// and y float32 {B, horizon × targets}, step-major, both scaled.
struct Batch {
    torch::Tensor x;             // float32: {B, C, H, W} images; {B, F} continuous tabular features;
                                 // int64 {B, T} token ids for text and tokens
    torch::Tensor xCat;          // int64 {B, K} categorical tabular codes; undefined otherwise
    torch::Tensor mask;          // bool {B, T} for text: true at real tokens; undefined otherwise
    torch::Tensor y;             // int64 {B} category; float32 {B, classes} multi_category; float32 {B} number;
                                 // int64 {B, T} next tokens
    std::vector<int64_t> index;  // the items' positions in their split, for interpretation
    // A training batch mixed by `mixup` or `cutmix` (mix.h): each item is
    // part its own and part item perm[i]'s; yMix holds those partners'
    // targets (y's shape) and lam {B} float32 the share of each item's own
    // target in its loss. Undefined in unmixed batches.
    torch::Tensor yMix, lam;
    int64_t size() const { return x.size(0); }
};

class Loader {
public:
    virtual ~Loader() = default;
    // Batches in one epoch.
    virtual int64_t batches() const = 0;
    // Starts an epoch: the training order is a permutation drawn from
    // (seed, epoch) alone, so a run repeats exactly whatever the thread count.
    // `firstBatch` > 0 resumes an epoch there: the batches before it are
    // neither made nor handed out.
    virtual void start(int64_t epoch, int64_t firstBatch = 0) = 0;
    // The next batch of the epoch in order, or nothing at its end.
    virtual std::optional<Batch> next() = 0;
};

class PreparedData {
public:
    virtual ~PreparedData() = default;
    virtual const DataInfo& info() const = 0;
    virtual int64_t size(Split split) const = 0;  // 0 when the split does not exist
    // A loader over a split. Training loaders shuffle and apply random
    // transforms; the others keep order and are deterministic.
    virtual std::unique_ptr<Loader> loader(Split split, int64_t batchSize, int64_t workers) const = 0;
    // Test-time augmentation (fastai's Learner.tta): a loader over `split`
    // in its own order whose items get the training item transforms, drawn
    // afresh for each `pass` but the same for the same seed and pass, with
    // no batch mixed. Null where the data has no such transforms (images
    // only have them).
    virtual std::unique_ptr<Loader> augmentedLoader(Split, int64_t, int64_t, int64_t) const { return nullptr; }
    // Writes what `predict` needs to turn raw inputs into batches and outputs
    // into labels (vocabulary, statistics) into the run directory.
    virtual void save(const std::filesystem::path& runDir) const = 0;

    // Naive forecasts of a split's items, to score beside the model's (a
    // series' last value and seasonal naive): outputs shaped and scaled as
    // the network's predictions, with the split's targets in loader order.
    struct Baseline {
        std::string name;
        torch::Tensor output, target;
    };
    virtual std::vector<Baseline> baselines(Split) const { return {}; }
};

// `pipe predict`: raw inputs made into a batch as a finished run's
// validation loader made its items, from the data section and what `save`
// wrote into the run directory; the training data is not read again.
struct Inputs {
    Batch batch;                     // y is left undefined
    std::vector<std::string> names;  // per item: its image file, or "FILE line N" for a table row
};

class InputEncoder {
public:
    virtual ~InputEncoder() = default;
    virtual const DataInfo& info() const = 0;
    // Image data: image files (JPEG or PNG). Tabular data: csv, json or jsonl
    // files with the feature columns, every row an item.
    virtual Inputs encode(const std::vector<std::filesystem::path>& inputs) const = 0;
    // Test-time augmentation: the inputs with the training item transforms,
    // drawn for augmented copy `pass` from `seed`. Nothing where the data
    // has no such transforms (only images have them).
    virtual std::optional<Inputs> encodeAugmented(const std::vector<std::filesystem::path>&, uint64_t, int64_t) const {
        return std::nullopt;
    }
};

std::unique_ptr<InputEncoder> loadInputEncoder(const Section& data, const std::filesystem::path& baseDir,
                                               const std::filesystem::path& runDir);

// Loads, splits and prepares `data`. Relative paths are relative to `baseDir`
// (the .pipe file's folder). Throws RuntimeError with a clear message on bad
// or missing data.
std::unique_ptr<PreparedData> prepareData(const Section& data, const std::filesystem::path& baseDir, uint64_t seed);

}  // namespace pipelang::runtime
