#include "stdlib/registry.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace pipelang::stdlib {

namespace {

struct FamilyInfo {
    Family family;
    const char* name;
    const char* title;
    const char* article;  // for describe(): "a source", "an item transform"
};

const FamilyInfo kFamilies[] = {
    {Family::Section, "section", "Top-level blocks", "a block"},
    {Family::Source, "source", "Sources", "a source"},
    {Family::Block, "block", "Data blocks", "a data block"},
    {Family::Label, "label", "Label getters", "a label getter"},
    {Family::Splitter, "splitter", "Splitters", "a splitter"},
    {Family::Item, "item", "Item transforms", "an item transform"},
    {Family::Batch, "batch", "Batch transforms", "a batch transform"},
    {Family::Backbone, "backbone", "Backbones", "a backbone"},
    {Family::Head, "head", "Heads", "a head"},
    {Family::Loss, "loss", "Losses", "a loss"},
    {Family::Optimizer, "optimizer", "Optimizers", "an optimizer"},
    {Family::Schedule, "schedule", "Schedules", "a schedule"},
    {Family::Metric, "metric", "Metrics", "a metric"},
    {Family::Callback, "callback", "Callbacks", "a callback"},
    {Family::Trainer, "trainer", "Tokenizer trainers", "a tokenizer trainer"},
    {Family::Strategy, "strategy", "Sweep strategies", "a sweep strategy"},
    {Family::Column, "column", "Columns", "a column"},
    {Family::Range, "range", "Ranges", "a range"},
    {Family::SweepRange, "sweep_range", "Sweep ranges", "a sweep range"},
};

const FamilyInfo& info(Family family) {
    for (const auto& f : kFamilies)
        if (f.family == family) return f;
    return kFamilies[0];
}

}  // namespace

const char* familyName(Family family) {
    return info(family).name;
}
const char* familyTitle(Family family) {
    return info(family).title;
}

std::optional<Family> familyFromName(std::string_view name) {
    for (const auto& f : kFamilies)
        if (name == f.name) return f.family;
    return std::nullopt;
}

const std::vector<Family>& allFamilies() {
    static const std::vector<Family> families = [] {
        std::vector<Family> out;
        for (const auto& f : kFamilies) out.push_back(f.family);
        return out;
    }();
    return families;
}

bool higherIsBetter(std::string_view monitor) {
    if (monitor == "valid_loss" || monitor == "train_loss" || monitor == "loss") return false;
    const Builtin* metric = registry().find(Family::Metric, monitor);
    return !(metric && metric->lowerIsBetter);
}

namespace {

// Whether `text` is all of `pattern`, each `*` standing for any characters.
bool globMatches(std::string_view pattern, std::string_view text) {
    size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            resume = t;
        } else if (p < pattern.size() && pattern[p] == text[t]) {
            ++p, ++t;
        } else if (star != std::string_view::npos) {  // let the last `*` take one more character
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

}  // namespace

bool LayerGroup::holds(std::string_view parameter) const {
    for (const auto& pattern : patterns)
        if (globMatches(pattern, parameter)) return true;
    return false;
}

const Param* Builtin::param(std::string_view n) const {
    for (const auto& p : params)
        if (p.name == n) return &p;
    return nullptr;
}

void Registry::add(Builtin builtin) {
    if (find(builtin.family, builtin.name)) {
        std::fprintf(stderr, "pipe: internal error: built-in %s `%s` registered twice\n", familyName(builtin.family),
                     builtin.name.c_str());
        std::abort();
    }
    entries_.push_back(std::move(builtin));
}

const Builtin* Registry::find(Family family, std::string_view name) const {
    for (const auto& b : entries_)
        if (b.family == family && b.name == name) return &b;
    return nullptr;
}

std::vector<const Builtin*> Registry::all(Family family) const {
    std::vector<const Builtin*> out;
    for (const auto& b : entries_)
        if (b.family == family) out.push_back(&b);
    return out;
}

std::vector<std::string> Registry::names(Family family) const {
    std::vector<std::string> out;
    for (const auto& b : entries_)
        if (b.family == family) out.push_back(b.name);
    return out;
}

std::vector<const Builtin*> Registry::lookup(std::string_view name) const {
    std::vector<const Builtin*> out;
    for (const auto& b : entries_)
        if (b.name == name) out.push_back(&b);
    return out;
}

const Registry& registry() {
    static const Registry r = [] {
        Registry reg;
        addSections(reg);
        addData(reg);
        addTransforms(reg);
        addModels(reg);
        addTraining(reg);
        addMetrics(reg);
        addTokenizers(reg);
        addAudio(reg);
        addVideo(reg);
        return reg;
    }();
    return r;
}

// ---- type expressions ------------------------------------------------------

namespace {

class TypeParser {
public:
    explicit TypeParser(std::string_view text) : text_(text) {}

    Type parseAll() {
        Type t = parseUnion();
        skipSpace();
        if (pos_ != text_.size()) fail("unexpected text");
        return t;
    }

private:
    Type parseUnion() {
        Type first = parseOne();
        skipSpace();
        if (pos_ >= text_.size() || text_[pos_] != '|') return first;
        Type u;
        u.kind = Type::Kind::Union;
        u.items.push_back(std::move(first));
        while (pos_ < text_.size() && text_[pos_] == '|') {
            ++pos_;
            u.items.push_back(parseOne());
            skipSpace();
        }
        return u;
    }

    Type parseOne() {
        skipSpace();
        size_t start = pos_;
        while (pos_ < text_.size() && (isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
        std::string word(text_.substr(start, pos_ - start));
        if (word.empty()) fail("expected a type name");
        Type t;
        if (word == "list" || word == "tuple") {
            t.kind = word == "list" ? Type::Kind::List : Type::Kind::Tuple;
            expect('<');
            t.items.push_back(parseUnion());
            expect('>');
            return t;
        }
        static const std::pair<const char*, Type::Kind> scalars[] = {
            {"any", Type::Kind::Any},         {"int", Type::Kind::Int},       {"float", Type::Kind::Float},
            {"bool", Type::Kind::Bool},       {"string", Type::Kind::String}, {"path", Type::Kind::Path},
            {"monitor", Type::Kind::Monitor}, {"key", Type::Kind::Key},
        };
        for (const auto& [name, kind] : scalars)
            if (word == name) {
                t.kind = kind;
                return t;
            }
        static const char* refs[] = {"tokenizer", "data", "model", "train", "split", "text", "backbone"};
        for (const char* r : refs)
            if (word == std::string(r) + "_ref") {
                t.kind = Type::Kind::Ref;
                t.ref = r;
                return t;
            }
        if (auto family = familyFromName(word); family && *family != Family::Section) {
            t.kind = Type::Kind::Call;
            t.family = *family;
            return t;
        }
        fail("unknown type `" + word + "`");
        return t;
    }

    void expect(char c) {
        skipSpace();
        if (pos_ >= text_.size() || text_[pos_] != c) fail(std::string("expected `") + c + "`");
        ++pos_;
    }
    void skipSpace() {
        while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
    }
    [[noreturn]] void fail(const std::string& why) {
        throw std::invalid_argument("bad type expression `" + std::string(text_) + "`: " + why);
    }

    std::string_view text_;
    size_t pos_ = 0;
};

}  // namespace

Type Type::parse(std::string_view text) {
    return TypeParser(text).parseAll();
}

std::string Type::describe() const {
    switch (kind) {
    case Kind::Any: return "a value";
    case Kind::Int: return "an integer";
    case Kind::Float: return "a number";
    case Kind::Bool: return "true or false";
    case Kind::String: return "a string";
    case Kind::Path: return "a path (a string)";
    case Kind::Monitor: return "a metric name or valid_loss";
    case Kind::Key: return "a dotted setting name";
    case Kind::List: {
        std::string inner = items[0].describe();
        return "a list of " + inner.substr(inner.find(' ') + 1) + "s";
    }
    case Kind::Tuple: {
        std::string inner = items[0].describe();
        return "a tuple of " + inner.substr(inner.find(' ') + 1) + "s";
    }
    case Kind::Union: {
        std::string out;
        for (size_t i = 0; i < items.size(); ++i) {
            if (i) out += i + 1 == items.size() ? " or " : ", ";
            out += items[i].describe();
        }
        return out;
    }
    case Kind::Call: return info(family).article;
    case Kind::Ref:
        if (ref == "split") return "a split such as `data.valid`";
        if (ref == "text") return "a column of a split such as `data.train.text`";
        if (ref == "backbone") return "a trained backbone such as `stage.backbone`";
        return std::string("the name of a ") + ref + " block";
    }
    return "a value";
}

}  // namespace pipelang::stdlib
