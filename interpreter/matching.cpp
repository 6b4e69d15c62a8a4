// Defaults that come from the data, and the checks that the parts fit: the
// loss, head and metrics against the target, the backbone against the input,
// schedules against themselves, tokenizers against validation text, stages
// against cycles. Each check reads the registry's contracts (`accepts`,
// `defaultFor`, `produces`); none names a particular built-in's case.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>

#include "interpreter/checker.h"

namespace pipelang {

using stdlib::Family;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

std::string joinNames(const std::vector<std::string>& names) {
    std::string out;
    for (size_t i = 0; i < names.size(); ++i)
        out += (i ? (i + 1 == names.size() ? " or `" : ", `") : "`") + names[i] + "`";
    return out;
}

std::vector<const stdlib::Builtin*> defaultsFor(Family family, const std::string& kind) {
    std::vector<const stdlib::Builtin*> out;
    for (const auto* b : stdlib::registry().all(family))
        if (contains(b->defaultFor, kind)) out.push_back(b);
    return out;
}

double number(const Value* v, double fallback) {
    if (!v || (v->kind != Value::Kind::Int && v->kind != Value::Kind::Float)) return fallback;
    return v->number;
}

// The block calls of a data section, in order.
std::vector<const Value*> blockCalls(const Section& data) {
    std::vector<const Value*> out;
    const Value* blocks = data.field("blocks");
    if (!blocks) return out;
    if (blocks->kind == Value::Kind::Call) out.push_back(blocks);
    if (blocks->kind == Value::Kind::Tuple)
        for (const auto& item : blocks->items)
            if (item.kind == Value::Kind::Call) out.push_back(&item);
    return out;
}

Span spanOr(const Value& v, Span fallback) {
    return v.span.valid() ? v.span : fallback;
}

// A value as the user wrote it (`2e-5`, not `2e-05`), or as pipe would write it.
std::string shown(const Value& v) {
    return v.span.valid() ? std::string(v.span.text()) : v.str();
}

// A field whose written value had an error (already reported): checks that
// would see it as missing must not report it again.
bool failed(const Value* v) {
    return v && v->isNone() && v->origin == Origin::Written;
}

// The column names in the header line of a CSV file, or nothing when it
// cannot be read. Quoted names may hold the delimiter.
std::optional<std::vector<std::string>> csvHeader(const std::filesystem::path& path, char delimiter) {
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // a byte-order mark
    std::vector<std::string> names(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (c == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
            names.back() += '"';
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == delimiter && !quoted) {
            names.emplace_back();
        } else {
            names.back() += c;
        }
    }
    return names;
}

// Every column a data section names: `column("x")` wherever it stands, the
// columns of a `tabular(cont = [...], cat = [...])` block, and a series' time,
// targets and inputs.
void namedColumns(const Value& v, std::vector<const Value*>& out) {
    if (v.kind == Value::Kind::Call && v.builtin) {
        if (v.builtin->name == "column") {
            if (const Value* name = v.arg("name"); name && name->kind == Value::Kind::String) out.push_back(name);
        } else if (v.builtin->family == Family::Block && v.builtin->produces == "tabular") {
            for (const char* list : {"cont", "cat"})
                if (const Value* names = v.arg(list))
                    for (const auto& item : names->items)
                        if (item.kind == Value::Kind::String) out.push_back(&item);
        } else if (v.builtin->family == Family::Block && v.builtin->produces == "series") {
            if (const Value* time = v.arg("time"); time && time->kind == Value::Kind::String) out.push_back(time);
            for (const char* list : {"targets", "inputs"})
                if (const Value* names = v.arg(list))
                    for (const auto& item : names->items)
                        if (item.kind == Value::Kind::String) out.push_back(&item);
        }
    }
    for (const auto& item : v.items) namedColumns(item, out);
}

// The blocks make sense: inputs first, one target last (checkData says why not).
bool validBlocks(const Section& data) {
    auto calls = blockCalls(data);
    if (calls.empty()) return false;
    for (const Value* c : calls)
        if (!c->builtin) return false;
    if (calls.size() == 1) return calls[0]->builtin->canBeInput && calls[0]->builtin->canBeTarget;
    if (calls.size() > 2 || !calls.back()->builtin->canBeTarget) return false;
    return calls[0]->builtin->canBeInput;
}

}  // namespace

DataShape Checker::shapeOf(const Section& data) const {
    // Blocks in the wrong order are reported once, by checkData; what fits
    // them is not checked.
    return validBlocks(data) ? c_.pipeline.shape(data) : DataShape{};
}

void Checker::checkColumns(const Section& data, const Value& source, const std::filesystem::path& file) {
    const Value* header = source.arg("header");
    const Value* delimiter = source.arg("delimiter");
    if (!header || header->kind != Value::Kind::Bool || !header->boolean) return;
    if (!delimiter || delimiter->kind != Value::Kind::String || delimiter->text.size() != 1) return;
    auto columns = csvHeader(file, delimiter->text[0]);
    if (!columns) return;
    std::vector<const Value*> named;
    for (const auto& [field, value] : data.fields) namedColumns(value, named);
    for (const Value* name : named) {
        if (contains(*columns, name->text) || !name->span.valid()) continue;
        auto& d = c_.diags.error("unknown-column", name->span,
                                 "`" + source.arg("path")->text + "` has no column \"" + name->text + "\"");
        if (auto guess = closest(name->text, *columns); !guess.empty())
            d.didYouMean("\"" + guess + "\"", name->span, "\"" + guess + "\"");
        else if (columns->size() <= 12) {
            std::string list;
            for (size_t i = 0; i < columns->size(); ++i)
                list += (i == 0 ? "\"" : i + 1 == columns->size() ? " and \"" : ", \"") + (*columns)[i] + "\"";
            d.hints.push_back("its columns are " + list);
        }
    }
}

void Checker::derive() {
    // Listed once, not once per train block that leaves the choice to the checker.
    std::map<std::string, std::vector<const Section*>> byKind;
    auto pickOnly = [&](Section& train, const char* field, const char* kind) {
        Value* v = train.field(field);
        if (!v || !v->isNone() || v->origin != Origin::Derived) return;
        auto [listed, fresh] = byKind.try_emplace(kind);
        if (fresh) listed->second = c_.pipeline.all(kind);
        const auto& all = listed->second;
        if (all.size() == 1) {
            v->kind = Value::Kind::Ref;
            v->text = all[0]->name;
            usedNames_.insert(all[0]->name);
            return;
        }
        std::vector<std::string> names;
        for (const auto* s : all) {
            if (duplicates_.count(s->name)) return;  // two blocks of one name: reported already
            names.push_back(s->name);
        }
        failedRefKinds_.insert(kind);  // its blocks are not "unused": the train block does not say
        auto& d = c_.diags.error(
            "missing-field", train.nameSpan,
            all.empty() ? "there is no " + std::string(kind) + " block for `" + train.name + "` to train"
                        : "the train block `" + train.name + "` must say which " + kind + " block it uses");
        if (all.empty())
            d.hints.push_back("add a `" + std::string(kind) + " { ... }` block");
        else
            d.hints.push_back("add `" + std::string(field) + " = ...`, one of " + joinNames(names));
    };
    auto bare = [&](const stdlib::Builtin& b) {
        ast::Expr e;
        e.kind = ast::Expr::Kind::Ref;
        e.path.parts.push_back({b.name, Span{}});
        auto v = resolveCall(e, b, "");
        Value out = v ? *v : Value{};
        for (auto& item : out.items) item.origin = Origin::Default;
        out.origin = Origin::Derived;
        out.span = Span{};
        return out;
    };
    for (auto& model : c_.pipeline.sections)
        if (model.kind == "model") configureFromWeights(model);
    // A series is split in time unless told how: its last share validates.
    if (const auto* last = stdlib::registry().find(Family::Splitter, "last"))
        for (auto& data : c_.pipeline.sections) {
            auto calls = data.kind == "data" ? blockCalls(data) : std::vector<const Value*>{};
            Value* split = data.kind == "data" ? data.field("split") : nullptr;
            if (calls.empty() || !calls[0]->builtin || !calls[0]->builtin->timeOrdered || !split ||
                split->origin != Origin::Default)
                continue;
            *split = bare(*last);
        }
    for (auto& train : c_.pipeline.sections) {
        if (train.kind != "train") continue;
        pickOnly(train, "model", "model");
        pickOnly(train, "data", "data");
        const Value* dataRef = train.field("data");
        Section* data =
            dataRef && dataRef->kind == Value::Kind::Ref ? c_.pipeline.find("data", dataRef->text) : nullptr;
        if (!data) continue;
        std::string target = shapeOf(*data).target;
        if (target.empty()) continue;
        Value* loss = train.field("loss");
        if (loss->isNone() && loss->origin == Origin::Derived)
            if (auto found = defaultsFor(Family::Loss, target); !found.empty()) *loss = bare(*found[0]);
        Value* metrics = train.field("metrics");
        if (metrics->isNone() && metrics->origin == Origin::Derived) {
            Value list{Value::Kind::List};
            list.origin = Origin::Derived;
            for (const auto* b : defaultsFor(Family::Metric, target)) list.items.push_back(bare(*b));
            *metrics = list;
        }
        const Value* modelRef = train.field("model");
        Section* model =
            modelRef && modelRef->kind == Value::Kind::Ref ? c_.pipeline.find("model", modelRef->text) : nullptr;
        if (!model) continue;
        Value* head = model->field("head");
        if (head->isNone() && head->origin == Origin::Derived)
            if (auto found = defaultsFor(Family::Head, target); !found.empty()) *head = bare(*found[0]);
        if (std::string input = shapeOf(*data).input; input == "image" || input == "video")
            normalizeForWeights(*data, *model);
    }
    for (auto& ev : c_.pipeline.sections) {
        if (ev.kind != "evaluate") continue;
        Value* with = ev.field("with");
        const Value* stage = ev.field("stage");
        if (!with || !with->isNone() || !stage || stage->kind != Value::Kind::Ref) continue;
        if (const Section* train = c_.pipeline.find("train", stage->text)) {
            *with = *train->field("metrics");
            with->origin = Origin::Derived;
        }
    }
}

void Checker::checkContract(const Value& v, const std::string& kind, const char* role, Family family, Span fallback) {
    if (v.kind != Value::Kind::Call || !v.builtin || kind.empty() || v.builtin->accepts.empty()) return;
    if (contains(v.builtin->accepts, kind)) return;
    auto& d = c_.diags.error("does-not-fit", spanOr(v, fallback),
                             "`" + v.text + "` does not fit " +
                                 (std::string("aeiou").find(kind[0]) != std::string::npos ? "an " : "a ") + kind + " " +
                                 role);
    if (v.origin == Origin::Derived) d.hints.push_back("`" + v.text + "` was chosen from the data; write another");
    std::vector<std::string> fits;
    for (const auto* b : stdlib::registry().all(family))
        if (contains(b->accepts, kind)) fits.push_back(b->name);
    d.hints.push_back("`" + v.text + "` works with " + joinNames(v.builtin->accepts) + " " + role + "s");
    if (!fits.empty()) d.hints.push_back("for " + kind + " " + role + "s use " + joinNames(fits));
    // A part that wraps this one for the input (`frames` runs an image backbone on every frame).
    for (const auto* b : stdlib::registry().all(family))
        if (contains(b->accepts, kind) && !b->produces.empty() && contains(v.builtin->accepts, b->produces))
            d.hints.push_back("or wrap it: `" + b->name + "(" + v.text + "(...))` gives it " + b->produces + "s");
}

void Checker::checkData(const Section& data) {
    auto calls = blockCalls(data);
    const Value* blocks = data.field("blocks");
    if (calls.empty() && blocks && blocks->kind == Value::Kind::Tuple && blocks->items.empty())
        c_.diags.error("blocks", spanOr(*blocks, data.nameSpan), "`blocks` is empty: name the input and the target")
            .hints.push_back("for example `blocks = (image, category)`");
    if (calls.empty()) return;
    if (calls.size() == 1) {
        const auto& b = *calls[0]->builtin;
        if (!(b.canBeInput && b.canBeTarget)) {
            auto& d = c_.diags.error("blocks", spanOr(*blocks, data.nameSpan),
                                     "`" + b.name + "` alone says what the input is, but not what to predict");
            d.hints.push_back("add a target block: `(" + b.name + ", category)`");
        }
    } else {
        for (size_t i = 0; i + 1 < calls.size(); ++i)
            if (!calls[i]->builtin->canBeInput) {
                auto& d = c_.diags.error("blocks", calls[i]->span, "`" + calls[i]->text + "` cannot be an input");
                d.hints.push_back("the last block is the target; the ones before it are inputs");
            }
        if (!calls.back()->builtin->canBeTarget) {
            auto& d = c_.diags.error("blocks", calls.back()->span, "`" + calls.back()->text + "` cannot be a target");
            d.hints.push_back("the last block is what the model predicts, e.g. `category` or `number`");
        }
        if (calls.size() > 2) {
            auto& d = c_.diags.error("blocks", spanOr(*blocks, data.nameSpan), "only one input block is supported");
            d.hints.push_back("combine table columns in one `tabular(...)` block");
        }
    }
    // Item transforms that name the input blocks they work on (sound's) take
    // only those; the others are image transforms, which sound refuses.
    const std::string block = calls[0]->builtin->produces;
    if (const Value* items = data.field("item"); items && items->kind == Value::Kind::List && !block.empty())
        for (const auto& t : items->items) {
            if (t.kind != Value::Kind::Call || !t.builtin) continue;
            const auto& accepts = t.builtin->accepts;
            bool fits = accepts.empty() ? block != "audio" : contains(accepts, block);
            if (fits) continue;
            auto& d = c_.diags.error("does-not-fit", spanOr(t, data.nameSpan),
                                     "`" + t.text + "` does not work on " + block + " items");
            if (accepts.empty()) {
                std::vector<std::string> own;
                for (const auto* b : stdlib::registry().all(Family::Item))
                    if (contains(b->accepts, block)) own.push_back(b->name);
                d.hints.push_back("`" + t.text + "` changes images; for " + block + " use " + joinNames(own));
            } else {
                d.hints.push_back("`" + t.text + "` works on " + joinNames(accepts) + " items");
            }
        }
    // A k-fold run picks one fold, which must exist.
    const Value* split = data.field("split");
    const Value* fold = data.field("fold");
    if (split && fold && !fold->isNone() && split->builtin) {
        const Value* k = split->arg("k");
        if (!k)
            c_.diags.error("fold", fold->span, "`fold` needs a k-fold splitter, but the split is `" + split->text + "`")
                .hints.push_back("use `kfold`, `stratified_kfold` or `group_kfold`, or remove `fold`");
        else if (fold->integer >= k->integer)
            c_.diags
                .error("fold", fold->span,
                       "fold " + std::to_string(fold->integer) + " does not exist: `" + split->text + "` makes " +
                           std::to_string(k->integer) + " folds, numbered from 0")
                .hints.push_back("pick a fold from 0 to " + std::to_string(k->integer - 1));
    }
    // Missing data is reported at run time, but a wrong path is worth knowing now.
    const Value* source = data.field("source");
    if (source && source->builtin) {
        const Value* path = source->arg("path");
        std::error_code ec;
        if (path && path->kind == Value::Kind::String && !path->text.empty() && path->span.valid()) {
            // Relative paths are relative to the .pipe file, as imports are.
            auto full = std::filesystem::path(path->span.file->name).parent_path() / path->text;
            if (!std::filesystem::exists(full, ec)) {
                auto& w = c_.diags.warning("missing-data", path->span, "`" + path->text + "` does not exist here");
                if (std::filesystem::path(path->text).is_relative())
                    w.hints.push_back("looked for `" + full.lexically_normal().string() +
                                      "`; relative paths start from the .pipe file's folder");
            } else if (source->builtin->name == "csv") {
                checkColumns(data, *source, full);
            }
        }
    }
    checkTimeOrder(data, *calls[0]);
}

// A series is split in time and scaled on its training span alone: a split
// that mixes times, or a transform that measures the whole series, would
// let the future into training.
void Checker::checkTimeOrder(const Section& data, const Value& input) {
    const Value* split = data.field("split");
    if (!input.builtin || !split || split->kind != Value::Kind::Call || !split->builtin) return;
    const bool ordered = input.builtin->timeOrdered, byTime = split->builtin->timeOrdered;
    if (ordered && !byTime) {
        auto& d = c_.diags.error("leakage", spanOr(*split, data.nameSpan),
                                 "`" + split->text + "` mixes the times of the series `" + data.name +
                                     "`: training would learn from steps that come after the ones it is judged on");
        d.hints.push_back("split in time: `last(valid = 0.2)`, or `before(\"2014-01-01\")` with a time of the series");
    } else if (!ordered && byTime) {
        auto& d = c_.diags.error(
            "does-not-fit", spanOr(*split, data.nameSpan),
            "`" + split->text + "` splits a series in time, but `" + input.text + "` items have no time order");
        d.hints.push_back("use a `series(...)` block, or another splitter such as `random(valid = 0.2)`");
    }
    if (!ordered) return;
    const Value* valid = split->arg("valid");
    const Value* test = split->arg("test");
    if (valid && test && (valid->kind == Value::Kind::Float || valid->kind == Value::Kind::Int) &&
        (test->kind == Value::Kind::Float || test->kind == Value::Kind::Int) && valid->number + test->number >= 1) {
        auto& d = c_.diags.error("split", spanOr(*split, data.nameSpan),
                                 "`" + split->text + "` keeps " + shown(*valid) + " of the series for validation and " +
                                     shown(*test) + " for testing: nothing is left to train on");
        d.hints.push_back("keep the two shares under 1 together, e.g. `last(valid = 0.2, test = 0.1)`");
    }
    for (const char* field : {"item", "batch"}) {
        const Value* list = data.field(field);
        if (!list || list->kind != Value::Kind::List) continue;
        for (const auto& t : list->items) {
            auto& d = c_.diags.error("leakage", spanOr(t, data.nameSpan),
                                     "`" + t.text + "` would scale or change the series `" + data.name +
                                         "` outside its block: a series is scaled by its block, on the training "
                                         "span only");
            d.hints.push_back("remove `" + std::string(field) +
                              "`; `series(scale = \"standard\")` standardises each "
                              "column with the training span's mean and standard deviation");
        }
    }
}

void Checker::checkTokenizer(const Section& t) {
    const Value* train = t.field("train");
    const Value* from = t.field("from");
    const Value* load = t.field("load");
    if (failed(train) || failed(load) || failed(from)) {
        // the value's own error says enough
    } else if (!train->isNone() && !load->isNone()) {
        auto& d = c_.diags.error("tokenizer", load->span, "a tokenizer is either trained or loaded, not both");
        d.hints.push_back("remove `load` to train a new one, or `train` and `from` to load this one");
        d.notes.push_back({train->span, "`train` is set here"});
    } else if (train->isNone() && load->isNone()) {
        auto& d = c_.diags.error("tokenizer", t.nameSpan, "the tokenizer `" + t.name + "` needs `train` or `load`");
        d.hints.push_back("train one: `train = sentencepiece(vocab = 8000)` with `from = data.train.text`");
    }
    if (!train->isNone() && from->isNone() && !failed(from))
        c_.diags.error("tokenizer", train->span, "a trained tokenizer needs `from`: the text it learns from")
            .hints.push_back("add `from = data.train.column`");
    if (from->kind == Value::Kind::Ref) {
        auto dot = from->text.find('.');
        std::string split = from->text.substr(dot + 1, from->text.find('.', dot + 1) - dot - 1);
        if (split != "train") {
            auto& d =
                c_.diags.error("leak", from->span,
                               "the tokenizer would learn from the " + split + " split, which the model is judged on");
            d.hints.push_back("train it on the training split: `" + from->text.substr(0, dot) + ".train" +
                              from->text.substr(from->text.find('.', dot + 1)) + "`");
        }
    }
}

// Each model on a chain is followed once, whichever train block asks first:
// a chain of thousands of stages would otherwise be walked once per stage.
const Value* Checker::featureMaker(const Section& model) {
    std::vector<const Section*> chain;
    std::set<const Section*> onChain;
    const Section* m = &model;
    const Value* found = nullptr;
    while (true) {
        if (auto known = featureMakers_.find(m); known != featureMakers_.end()) {
            found = known->second;
            break;
        }
        if (!onChain.insert(m).second) break;  // a circle, which checkStages reports
        chain.push_back(m);
        const Value* backbone = m->field("backbone");
        if (!backbone || backbone->kind != Value::Kind::Ref) {
            found = backbone;
            break;
        }
        const Section* stage = c_.pipeline.find("train", backbone->text.substr(0, backbone->text.find('.')));
        const Value* next = stage ? stage->field("model") : nullptr;
        m = next && next->kind == Value::Kind::Ref ? c_.pipeline.find("model", next->text) : nullptr;
        if (!m) break;
    }
    for (const Section* link : chain) featureMakers_[link] = found;
    return found;
}

void Checker::checkTrain(const Section& train) {
    const Value* dataRef = train.field("data");
    const Value* modelRef = train.field("model");
    const Section* data = dataRef->kind == Value::Kind::Ref ? c_.pipeline.find("data", dataRef->text) : nullptr;
    const Section* model = modelRef->kind == Value::Kind::Ref ? c_.pipeline.find("model", modelRef->text) : nullptr;
    DataShape shape = data ? shapeOf(*data) : DataShape{};
    auto at = [&](const Value& v) { return v.span.valid() ? v.span : train.nameSpan; };

    // Contracts: loss, metrics and head against the target; backbone against the input.
    const Value* loss = train.field("loss");
    checkContract(*loss, shape.target, "target", Family::Loss, train.nameSpan);
    for (const auto& m : train.field("metrics")->items)
        checkContract(m, shape.target, "target", Family::Metric, train.nameSpan);
    if (model) {
        const Value* head = model->field("head");
        checkContract(*head, shape.target, "target", Family::Head, model->nameSpan);
        // Follow `stage.backbone` to the built-in that makes the features.
        const Value* backbone = featureMaker(*model);
        if (backbone && backbone->kind == Value::Kind::Call) {
            // A transferred backbone is reported where this model names it.
            const Value* own = model->field("backbone");
            Value shown = *backbone;
            if (own != backbone) shown.span = own->span;
            checkContract(shown, shape.input, "input", Family::Backbone, model->nameSpan);
            // A backbone that wraps another gives it what it `produces` (`frames`: images).
            const Value* inner = backbone->arg("backbone");
            if (backbone->builtin && !backbone->builtin->produces.empty() && inner && inner->kind == Value::Kind::Call)
                checkContract(*inner, backbone->builtin->produces, "input", Family::Backbone, model->nameSpan);
        }
    }

    // The schedule against itself.
    const Value* schedule = train.field("schedule");
    double epochs = number(schedule->arg("epochs"), 1);
    if (const Value* freeze = schedule->arg("freeze_epochs"); freeze && freeze->number > epochs) {
        auto& d = c_.diags.error(
            "schedule", at(*freeze),
            "`freeze_epochs` (" + shown(*freeze) + ") is more than `epochs` (" + shown(*schedule->arg("epochs")) + ")");
        d.hints.push_back("the frozen phase is a warm-up for the head; keep it shorter than the unfrozen one");
        // fastai's fine_tune freezes for one epoch.
        if (freeze->origin == Origin::Written && freeze->span.valid() && epochs >= 1)
            d.fixes.push_back({freeze->span, "1"});
    }
    if (const Value* freeze = model ? model->field("freeze") : nullptr;
        freeze && freeze->boolean && schedule->text == "fine_tune") {
        auto& w = c_.diags.warning("suspicious", at(*schedule),
                                   "model `" + model->name +
                                       "` keeps its backbone frozen (`freeze = true`), so `fine_tune` never "
                                       "unfreezes it: every epoch trains the head alone");
        w.hints.push_back("for feature extraction, use `one_cycle(epochs = N)`; to fine-tune, drop `freeze`");
    }
    if (const Value* warmup = schedule->arg("warmup"); warmup && warmup->number >= 1 && warmup->number >= epochs) {
        auto& d = c_.diags.error("schedule", at(*warmup),
                                 "a warmup of " + shown(*warmup) + " epoch" + (warmup->number == 1 ? "" : "s") +
                                     " leaves no time for the run of " + shown(*schedule->arg("epochs")) + " epoch" +
                                     (epochs == 1 ? "" : "s"));
        d.hints.push_back("write the warmup as a share of the run, e.g. `warmup = 0.1`");
    }

    // Learning rates: `slice(lo, hi)` runs from the backbone's first layer group to the head.
    const Value* optimizer = train.field("optimizer");
    if (const Value* lr = optimizer->arg("lr")) {
        if (lr->kind == Value::Kind::Call && lr->items.size() >= 2 && lr->items[0].number > lr->items[1].number) {
            auto& d = c_.diags.error("slice", lr->span,
                                     "`slice(lo, hi)` needs lo ≤ hi: the backbone learns slower than the head");
            d.hints.push_back("swap them: `slice(" + shown(lr->items[1]) + ", " + shown(lr->items[0]) + ")`");
        } else if (lr->kind == Value::Kind::Call && lr->items.size() >= 2 && schedule->text == "fine_tune") {
            // fastai's fine_tune takes a base rate, not a slice: its unfrozen
            // epochs run at base_lr / 2 / lr_mult .. base_lr / 2 whatever `lo` says.
            auto& w = c_.diags.warning("suspicious", lr->span,
                                       "`fine_tune` sets its own rates for the layer groups (base_lr / 2 / lr_mult .. "
                                       "base_lr / 2, base_lr by default `hi`): the slice's `lo` is not used");
            w.hints.push_back("write `lr = " + shown(lr->items[1]) +
                              "` and set `lr_mult` in `fine_tune`, or train at the slice with `one_cycle(epochs = N)`");
        } else if (lr->kind == Value::Kind::Float && lr->number > 1) {
            c_.diags.warning("suspicious", lr->span, "a learning rate of " + shown(*lr) + " is very large")
                .hints.push_back("common values lie between 1e-5 and 1e-1");
        }
    }

    // What `keep` and `early_stop` watch must be measured.
    std::vector<std::string> measured = {"valid_loss", "train_loss"};
    for (const auto& m : train.field("metrics")->items) measured.push_back(m.text);
    std::vector<const Value*> watchers = {train.field("keep")};
    for (const auto& cb : train.field("callbacks")->items) watchers.push_back(&cb);
    for (const Value* w : watchers) {
        const Value* monitor = w && w->kind == Value::Kind::Call ? w->arg("monitor") : nullptr;
        if (!monitor || monitor->kind != Value::Kind::String || contains(measured, monitor->text)) continue;
        auto& d = c_.diags.error(
            "monitor", at(*monitor),
            "`" + w->text + "` watches `" + monitor->text + "`, which this train block does not measure");
        d.hints.push_back("add `" + monitor->text + "` to `metrics`, or watch one of " + joinNames(measured));
    }

    if (data) {
        const Value* split = data->field("split");
        const Value* valid = split ? split->arg("valid") : nullptr;
        const Value* keep = train.field("keep");
        if (valid && valid->number == 0 && keep->kind == Value::Kind::Call)
            c_.diags
                .error(
                    "no-validation", at(*keep),
                    "`" + keep->text + "` needs a validation split, but `" + data->name + "` keeps none (`valid = 0`)")
                .hints.push_back("keep some items for validation, e.g. `valid = 0.2`, or remove `keep`");
    }
}

void Checker::checkStages() {
    // A train stage depends on the stages whose backbones its model starts from.
    std::map<std::string, std::vector<std::pair<std::string, Span>>> edges;
    for (const auto* train : c_.pipeline.all("train")) {
        const Value* m = train->field("model");
        const Section* model = m && m->kind == Value::Kind::Ref ? c_.pipeline.find("model", m->text) : nullptr;
        const Value* backbone = model ? model->field("backbone") : nullptr;
        if (backbone && backbone->kind == Value::Kind::Ref)
            edges[train->name].push_back({backbone->text.substr(0, backbone->text.find('.')), backbone->span});
    }
    // Depth first, with the path on the heap: stages can start from one
    // another in a chain as long as the file has train blocks.
    std::map<std::string, int> state;  // 0 new, 1 on the path, 2 done
    std::vector<std::string> path;
    std::vector<size_t> nextEdge;  // per node on the path, the edge to follow next
    auto visit = [&](const std::string& root) {
        state[root] = 1;
        path.push_back(root);
        nextEdge.push_back(0);
        while (!path.empty()) {
            std::string n = path.back();
            const auto& out = edges[n];
            if (nextEdge.back() == out.size()) {
                path.pop_back();
                nextEdge.pop_back();
                state[n] = 2;
                continue;
            }
            const auto& [next, span] = out[nextEdge.back()++];
            if (state[next] == 1) {
                std::string cycle;
                auto start = std::find(path.begin(), path.end(), next);
                for (auto it = start; it != path.end(); ++it) cycle += "`" + *it + "` → ";
                if (next == n) {
                    auto& d = c_.diags.error("cycle", span, "the stage `" + n + "` cannot start from its own backbone");
                    d.hints.push_back("a model can start only from a stage that runs before it");
                    continue;
                }
                auto& d = c_.diags.error("cycle", span, "the stages depend on each other in a circle");
                d.hints.push_back("the circle is " + cycle + "`" + next + "`");
                d.hints.push_back("a model can start only from a stage that runs before it");
            } else if (state[next] == 0) {
                state[next] = 1;
                path.push_back(next);
                nextEdge.push_back(0);
            }
        }
    };
    for (const auto& [n, _] : edges)
        if (state[n] == 0) visit(n);
}

void Checker::checkFit() {
    for (const auto& s : c_.pipeline.sections) {
        if (s.kind == "data") checkData(s);
        if (s.kind == "data") checkAugmentation(s);
        if (s.kind == "evaluate") checkTta(s);
        if (s.kind == "tokenizer") checkTokenizer(s);
        if (s.kind == "train") checkTrain(s);
        if (s.kind == "evaluate") {
            const Value* on = s.field("on");
            if (!on || on->kind != Value::Kind::Ref) continue;
            const Section* data = c_.pipeline.find("data", on->text.substr(0, on->text.find('.')));
            const Value* source = data ? data->field("source") : nullptr;
            const Value* split = data ? data->field("split") : nullptr;
            const Value* splitTest = split && split->kind == Value::Kind::Call ? split->arg("test") : nullptr;
            bool splitTests =
                splitTest && (splitTest->kind == Value::Kind::String ||
                              ((splitTest->kind == Value::Kind::Float || splitTest->kind == Value::Kind::Int) &&
                               splitTest->number > 0));
            if (on->text.ends_with(".test") && source && source->builtin && !source->builtin->param("test") &&
                !splitTests) {
                auto& d = c_.diags.error(
                    "no-test-split", on->span,
                    "`" + data->name + "` has no test split: its source `" + source->text + "` gives none");
                if (split && split->builtin && split->builtin->param("test"))
                    d.hints.push_back("evaluate on `" + data->name + ".valid`, or give `" + split->text +
                                      "` a test span with `test = ...`");
                else
                    d.hints.push_back("evaluate on `" + data->name + ".valid`, or use a source with a test split");
            }
            const Value* stage = s.field("stage");
            const Section* train =
                stage && stage->kind == Value::Kind::Ref ? c_.pipeline.find("train", stage->text) : nullptr;
            const Value* trainData = train ? train->field("data") : nullptr;
            if (data && trainData && trainData->kind == Value::Kind::Ref) {
                const Section* other = c_.pipeline.find("data", trainData->text);
                std::string predicts = other ? shapeOf(*other).target : "", holds = shapeOf(*data).target;
                if (other && !predicts.empty() && !holds.empty() && predicts != holds)
                    c_.diags
                        .error("does-not-fit", on->span,
                               "`" + train->name + "` predicts " + predicts + " targets, but `" + data->name +
                                   "` holds " + holds + " targets")
                        .hints.push_back("evaluate on a split of `" + other->name + "`, e.g. `" + other->name +
                                         ".valid`");
                else if (other)
                    for (const auto& m : s.field("with")->items)
                        checkContract(m, shapeOf(*data).target, "target", Family::Metric, on->span);
            }
        }
        if (s.kind == "sweep") {
            // The runs are ranked by a metric, which some train block must
            // report; `asha` compares the points by it after each rung's epochs.
            const Value* metric = s.field("metric");
            const Value* strategy = s.field("strategy");
            const Value* minEpochs = strategy && strategy->text == "asha" ? strategy->arg("min_epochs") : nullptr;
            if (!metric || metric->kind != Value::Kind::String) continue;
            const Section* watched = c_.pipeline.measuring(metric->text);
            if (!watched) {
                std::vector<std::string> measured = {"valid_loss", "train_loss"};
                for (const auto* train : c_.pipeline.all("train"))
                    for (const auto& m : train->field("metrics")->items)
                        if (!contains(measured, m.text)) measured.push_back(m.text);
                if (!metric->span.valid() && !minEpochs) continue;
                Span at = metric->span.valid() ? metric->span : strategy->span;
                auto& d = c_.diags.error(
                    "monitor", at,
                    minEpochs ? "`asha` stops points by their `" + metric->text +
                                    "` after each rung's epochs, but no train block measures it"
                              : "the sweep ranks runs by `" + metric->text + "`, which no train block measures");
                d.hints.push_back("add `" + metric->text + "` to a train block's `metrics`, or rank by one of " +
                                  joinNames(measured));
                continue;
            }
            const Value* schedule = watched->field("schedule");
            if (minEpochs && schedule && schedule->kind == Value::Kind::Call && schedule->arg("epochs")) {
                const Value* freeze = schedule->arg("freeze_epochs");
                double epochs = number(schedule->arg("epochs"), 1) + (freeze ? freeze->number : 0);
                if (double(minEpochs->integer) >= epochs)
                    c_.diags
                        .warning("suspicious", minEpochs->span.valid() ? minEpochs->span : strategy->span,
                                 "`asha` compares the points after " + std::to_string(minEpochs->integer) +
                                     " epochs at the earliest, but `" + watched->name + "` trains for " +
                                     shown(*schedule->arg("epochs")) +
                                     (freeze ? " (and " + shown(*freeze) + " frozen)" : "") +
                                     ": no point is ever stopped")
                        .hints.push_back("lower `min_epochs`, or train each point longer");
            }
        }
        if (s.kind == "export") {
            const Value* to = s.field("to");
            if (to && to->kind == Value::Kind::String && !to->text.ends_with(".safetensors")) {
                auto& d = c_.diags.error("export", to->span,
                                         "weights are written as safetensors; name the file `*.safetensors`");
                auto stem = std::filesystem::path(to->text).replace_extension(".safetensors").string();
                d.hints.push_back("name it \"" + stem + "\"");
            }
        }
    }
    checkStages();
}

}  // namespace pipelang
