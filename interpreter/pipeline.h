// The checked pipeline: every block of every file, with each value resolved
// (`let` constants substituted, built-ins found, defaults filled) and marked
// with where it came from. It is what `pipe plan` prints, what the graph is
// compiled from, and what the runtime reads. No ANTLR or AST types here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "interpreter/source.h"
#include "stdlib/registry.h"

namespace pipelang {

enum class Origin {
    Written,      // in the .pipe file
    Default,      // the registry's default
    Derived,      // chosen from the data (the loss from the target kind, ...)
    Weights,      // chosen for the pretrained weights (ImageNet's normalisation)
    ModelConfig,  // read from a model folder's config.json (a transformer's sizes)
    Override,     // `--set` on the command line
};
const char* originName(Origin origin);

struct Value {
    enum class Kind { None, Bool, Int, Float, String, List, Tuple, Call, Ref };
    Value() = default;
    explicit Value(Kind k) : kind(k) {}

    Kind kind = Kind::None;
    bool boolean = false;
    int64_t integer = 0;
    double number = 0;                         // Float, and Int as a double
    std::string text;                          // String: the value; Call: the built-in's name; Ref: "a.b.c"
    std::vector<Value> items;                  // List, Tuple; Call: arguments in signature order
    std::vector<std::string> names;            // Call: the parameter name of each item
    const stdlib::Builtin* builtin = nullptr;  // Call
    Origin origin = Origin::Written;
    Span span;  // where it was written (invalid for defaults)

    // A call's argument by parameter name, or null.
    const Value* arg(std::string_view name) const;
    Value* arg(std::string_view name);
    bool isNone() const { return kind == Kind::None; }
    // .pipe source text for this value (`adamw(lr = 0.003)`, `[1, 2]`).
    std::string str() const;
};

// One top-level block (or `evaluate` / `export` statement), every field present.
struct Section {
    const stdlib::Builtin* schema = nullptr;            // the Section-family registry entry
    std::string kind;                                   // "data", "train", "evaluate", ...
    std::string name;                                   // given or implied ("data", "train", ...)
    bool named = false;                                 // the user wrote the name
    Span span;                                          // the whole block
    Span nameSpan;                                      // its name, or its keyword when unnamed
    std::vector<std::pair<std::string, Value>> fields;  // in schema order, then sweep keys

    const Value* field(std::string_view name) const;
    Value* field(std::string_view name);
};

// What the data block gives a model: the kind of input and of target.
struct DataShape {
    std::string input;   // image, tabular, text, tokens
    std::string target;  // category, multi_category, number, tokens
};

struct Pipeline {
    std::optional<int64_t> seed;
    Origin seedOrigin = Origin::Default;
    std::vector<Section> sections;  // in dependency-friendly file order: imports first

    // The first section of that kind and name, or null.
    const Section* find(std::string_view kind, std::string_view name) const;
    Section* find(std::string_view kind, std::string_view name);
    std::vector<const Section*> all(std::string_view kind) const;
    // Makes find() a lookup instead of a scan, for the sections there are
    // now: the checker finds a section per train block, which over thousands
    // of blocks would make checking quadratic. Sections added or renamed
    // later are still found, by a scan.
    void index();
    // The last train section that measures `metric` each epoch (every one
    // measures valid_loss and train_loss), or null: the stage whose epochs
    // a sweep's points are compared by.
    const Section* measuring(std::string_view metric) const;
    // The input/target kinds of a data section (from its blocks).
    DataShape shape(const Section& data) const;

private:
    size_t scan(std::string_view kind, std::string_view name) const;  // sections.size() when absent
    std::map<std::pair<std::string, std::string>, size_t, std::less<>> byName_;
    size_t indexed_ = 0;  // how many sections byName_ covers; stale unless it is sections.size()
};

}  // namespace pipelang
