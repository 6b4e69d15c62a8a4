// The one table of built-ins: every source, block, splitter, transform, model
// part, loss, optimizer, schedule, metric and callback, and the fields of each
// top-level block. The checker, `pipe doc`, the formatter, the language server
// and the runtime all read it; nothing else lists built-ins.
//
// Adding a built-in is one `Builtin` entry in the file of its family (plus its
// runtime code). Parameter types are small type expressions, parsed once:
//
//   int  float  bool  string  path  any          scalars (`float` accepts ints)
//   list<T>   tuple<T>   T|U                       containers and alternatives
//   source block label splitter item batch backbone head loss optimizer
//   schedule metric callback trainer strategy column range sweep_range
//                                                  a call of a built-in of that family
//                                                  (a bare name means a call without arguments)
//   tokenizer_ref data_ref model_ref train_ref     the name of a block of that kind
//   split_ref      `data.split`                    (train, valid, test)
//   text_ref       `data.split.column`             the text a tokenizer is trained on
//   backbone_ref   `stage.backbone`                weights a train stage produced
//   monitor        a metric name, or valid_loss / train_loss
//   key            a dotted path to a setting      (sweep)
//
// Defaults are written as .pipe source text. Two words are special:
//   "none"  the parameter is optional and has no value unless written
//   "auto"  the checker derives the value from the data (see `defaultFor`)
// An empty default means the parameter is required.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipelang::stdlib {

enum class Family {
    Section,  // the top-level blocks: tokenizer, data, model, train, sweep, evaluate, export
    Source,
    Block,
    Label,
    Splitter,
    Item,
    Batch,
    Backbone,
    Head,
    Loss,
    Optimizer,
    Schedule,
    Metric,
    Callback,
    Trainer,
    Strategy,
    Column,
    Range,
    SweepRange,  // what a sweep draws a setting's values from: uniform(a, b), choice([...])
};
// The family's name as used in type expressions ("item", "backbone").
const char* familyName(Family family);
// A heading for documentation ("Item transforms").
const char* familyTitle(Family family);
std::optional<Family> familyFromName(std::string_view name);
const std::vector<Family>& allFamilies();

struct Param {
    std::string name;
    std::string type;                          // a type expression, see above
    std::string defaultValue;                  // .pipe source text; "" required, "none", "auto"
    std::string doc;                           // one line
    std::vector<std::string> choices = {};     // allowed values (strings, names or integers as text)
    std::optional<double> min = std::nullopt;  // inclusive bounds for numbers
    std::optional<double> max = std::nullopt;

    bool required() const { return defaultValue.empty(); }
};

// A part of a backbone that `lr = slice(lo, hi)` gives one learning rate (a
// layer group, as fastai splits a model): its name, as `pipe plan` shows it,
// and the parameters it holds, by their state-dict names. A pattern's `*`
// stands for any characters (`layer1.*`, `rnn.*_l0`).
struct LayerGroup {
    std::string name;
    std::vector<std::string> patterns;

    bool holds(std::string_view parameter) const;
};
// What a backbone's layer groups depend on: an int parameter of its resolved
// call, or the length of a list parameter (`layers`, `channels`).
using SizeOf = std::function<int64_t(std::string_view param)>;

// What kind of thing a data block yields and a model part or loss works on.
// Data blocks declare `produces`; heads, losses and metrics declare `accepts`
// (target kinds); backbones declare `accepts` (input kinds); item transforms
// that declare `accepts` work only on those input blocks (the others act on
// images and refuse sound). The checker
// enforces these generically, with no case per built-in.
//   inputs:  image  tabular  text  tokens  audio  series  video
//   targets: category  multi_category  number  tokens
struct Builtin {
    std::string name;
    Family family = Family::Source;
    std::string doc;  // one line
    std::vector<Param> params;
    std::vector<std::string> accepts = {};
    std::vector<std::string> defaultFor = {};  // target kinds for which this is the default
    std::string produces = {};                 // data blocks; item transforms that change the input's kind
                                               // (`mel_spectrogram`: audio in, an image out); backbones that
                                               // wrap another: what that one is given (`frames`: images)
    bool canBeTarget = false;                  // data blocks only: may stand last as the label
    bool canBeInput = false;                   // data blocks only
    bool lowerIsBetter = false;                // metrics only: a smaller value is better (error_rate, mse)
    // Backbones only: their layer groups, in order from the input (the head
    // is one more group, the last), and the same in words for the reference.
    // The split lives here so that `pipe plan` names the groups the runtime makes.
    std::vector<LayerGroup> (*layerGroups)(const SizeOf& size) = nullptr;
    std::string groupsDoc = {};
    // Splitters: every validation (and test) item comes after every training
    // item in time (`before`, `last`). Data blocks: the items are windows of
    // a series in time, which only such splitters may split, or the future
    // would leak into training (`series`).
    bool timeOrdered = false;

    const Param* param(std::string_view name) const;
};

class Registry {
public:
    void add(Builtin builtin);  // a name registered twice in one family aborts: a programming error
    const Builtin* find(Family family, std::string_view name) const;
    std::vector<const Builtin*> all(Family family) const;
    std::vector<std::string> names(Family family) const;
    // Every entry named `name`, whatever its family (for `pipe doc NAME`).
    std::vector<const Builtin*> lookup(std::string_view name) const;
    const std::vector<Builtin>& entries() const { return entries_; }

private:
    std::vector<Builtin> entries_;
};

// Whether a larger value of what a `monitor` names is better: false for the
// losses (valid_loss, train_loss, loss) and metrics marked `lowerIsBetter`.
// Callbacks, sweeps and their plots all ask here.
bool higherIsBetter(std::string_view monitor);

// The registry with every built-in, built on first use.
const Registry& registry();

// The entries of each family, one function per file in stdlib/.
void addSections(Registry& r);
void addData(Registry& r);  // sources, data blocks, labels, splitters, columns
void addTransforms(Registry& r);
void addModels(Registry& r);    // backbones, heads
void addTraining(Registry& r);  // losses, optimizers, schedules, ranges, callbacks, strategies, sweep ranges
void addMetrics(Registry& r);
void addTokenizers(Registry& r);
void addAudio(Registry& r);  // the audio block, its spectrogram transforms and masks, cnn1d
void addVideo(Registry& r);  // the video block and the frames backbone

// A parsed type expression.
struct Type {
    enum class Kind { Any, Int, Float, Bool, String, Path, List, Tuple, Union, Call, Ref, Monitor, Key };
    Kind kind = Kind::Any;
    Family family = Family::Source;  // Call
    std::string ref;                 // Ref: "tokenizer", "data", "model", "train", "split", "text", "backbone"
    std::vector<Type> items;         // List/Tuple: one element type; Union: the alternatives

    // Parses a type expression; throws std::invalid_argument on a malformed one
    // (registry entries are code, so this is a programming error caught by tests).
    static Type parse(std::string_view text);
    // For messages: "a list of item transforms", "an integer".
    std::string describe() const;
};

}  // namespace pipelang::stdlib
