#include "interpreter/graph.h"

#include <algorithm>

namespace pipelang {

namespace {

using stdlib::Type;

// What each kind of stage hands on to the stages that take it.
const char* artifactOf(StageKind kind) {
    switch (kind) {
    case StageKind::Load: return "items + split";
    case StageKind::Tokenizer: return "tokenizer model";
    case StageKind::Prepare: return "vocab + stats";
    case StageKind::Train: return "weights";
    case StageKind::Evaluate: return "scores";
    case StageKind::Export: return "file";
    }
    return "";
}

// The block a reference starts with: `corpus` for `corpus.train.text`.
std::string refHead(const Value* v) {
    if (!v || v->kind != Value::Kind::Ref) return "";
    return v->text.substr(0, v->text.find('.'));
}

bool typeRefersTo(const Type& type, std::string_view ref) {
    if (type.kind == Type::Kind::Ref) return type.ref == ref;
    return std::any_of(type.items.begin(), type.items.end(), [&](const Type& t) { return typeRefersTo(t, ref); });
}

// The tokenizers a value names, found through the parameter types of the
// registry (`tokenizer_ref`), so a new block that takes a tokenizer needs no
// case here.
void tokenizersIn(const Value& v, std::vector<std::string>& out) {
    for (size_t i = 0; i < v.items.size(); ++i) {
        const Value& item = v.items[i];
        const stdlib::Param* p = v.kind == Value::Kind::Call && v.builtin ? v.builtin->param(v.names[i]) : nullptr;
        if (p && item.kind == Value::Kind::Ref && typeRefersTo(Type::parse(p->type), "tokenizer") &&
            std::find(out.begin(), out.end(), item.text) == out.end())
            out.push_back(item.text);
        tokenizersIn(item, out);
    }
}

bool chosen(const Value& v) {
    return v.origin == Origin::Written || v.origin == Origin::Override;
}

// A value as the researcher chose it: calls show only the arguments written or
// overridden (`one_cycle(epochs = 5)`, a derived loss as just `cross_entropy`),
// so what tells stages apart is not buried under defaults.
std::string chosenText(const Value& v) {
    if (v.kind == Value::Kind::Call) {
        std::string args;
        for (size_t i = 0; i < v.items.size(); ++i)
            if (chosen(v.items[i]) && !v.items[i].isNone())
                args += (args.empty() ? "" : ", ") + v.names[i] + " = " + chosenText(v.items[i]);
        return args.empty() ? v.text : v.text + "(" + args + ")";
    }
    if (v.kind == Value::Kind::List || v.kind == Value::Kind::Tuple) {
        std::string items;
        for (const auto& item : v.items) items += (items.empty() ? "" : ", ") + chosenText(item);
        return v.kind == Value::Kind::List ? "[" + items + "]" : "(" + items + ")";
    }
    return v.str();
}

// Long values (paths, lists of transforms) are cut so a DOT box stays narrow.
std::string brief(const Value& v) {
    constexpr size_t kMax = 48;
    std::string s = chosenText(v);
    return s.size() <= kMax ? s : s.substr(0, kMax - 3) + "...";
}

// Adds `name: value` for the fields that are set (not none, not an empty list).
void summarize(Stage& stage, const Section* section, std::initializer_list<const char*> fields) {
    for (const char* name : fields) {
        const Value* v = section ? section->field(name) : nullptr;
        if (!v || v->isNone() || ((v->kind == Value::Kind::List || v->kind == Value::Kind::Tuple) && v->items.empty()))
            continue;
        stage.summary.push_back({name, brief(*v)});
    }
}

class Builder {
public:
    explicit Builder(const Pipeline& p) : p_(p) {}

    Graph build() {
        for (const auto& s : p_.sections) addStages(s);
        for (auto& stage : g_.stages) connect(stage);
        return sorted();
    }

private:
    void add(StageKind kind, std::string name, const Section& s) {
        Stage stage;
        stage.kind = kind;
        stage.name = std::move(name);
        stage.section = &s;
        g_.stages.push_back(std::move(stage));
    }

    void addStages(const Section& s) {
        if (s.kind == "data") {
            add(StageKind::Load, s.name, s);
            add(StageKind::Prepare, s.name, s);
        } else if (s.kind == "tokenizer") {
            add(StageKind::Tokenizer, s.name, s);
        } else if (s.kind == "train") {
            add(StageKind::Train, s.name, s);
        } else if (s.kind == "evaluate") {
            const Value* on = s.field("on");
            add(StageKind::Evaluate, refHead(s.field("stage")) + " on " + (on ? on->str() : "?"), s);
        } else if (s.kind == "export") {
            add(StageKind::Export, refHead(s.field("stage")), s);
        }
    }

    // An input from the stage `kind name`, when there is one (a pipeline that
    // did not check may name a stage that does not exist).
    void need(Stage& stage, StageKind kind, const std::string& name, std::string artifact = "") {
        auto from = g_.find(kind, name);
        if (!from) return;
        if (artifact.empty()) artifact = artifactOf(kind);
        stage.inputs.push_back({*from, std::move(artifact)});
    }

    const Section* modelOf(const Section& train) const {
        const Value* m = train.field("model");
        return m && m->kind == Value::Kind::Ref ? p_.find("model", m->text) : nullptr;
    }

    void connect(Stage& stage) {
        const Section& s = *stage.section;
        switch (stage.kind) {
        case StageKind::Load: summarize(stage, &s, {"source", "split"}); break;
        case StageKind::Tokenizer:
            need(stage, StageKind::Load, refHead(s.field("from")));
            summarize(stage, &s, {"train", "load", "from"});
            break;
        case StageKind::Prepare: {
            need(stage, StageKind::Load, s.name);
            std::vector<std::string> tokenizers;
            for (const auto& [_, value] : s.fields) tokenizersIn(value, tokenizers);
            for (const auto& t : tokenizers) need(stage, StageKind::Tokenizer, t);
            summarize(stage, &s, {"blocks", "item", "batch", "batch_size"});
            break;
        }
        case StageKind::Train: {
            need(stage, StageKind::Prepare, refHead(s.field("data")));
            const Section* model = modelOf(s);
            // `backbone = pre.backbone`: this stage starts from `pre`'s weights (transfer).
            if (model) need(stage, StageKind::Train, refHead(model->field("backbone")), "backbone weights");
            summarize(stage, model, {"backbone", "head"});
            summarize(stage, &s, {"loss", "optimizer", "schedule"});
            break;
        }
        case StageKind::Evaluate:
            need(stage, StageKind::Train, refHead(s.field("stage")));
            need(stage, StageKind::Prepare, refHead(s.field("on")));
            summarize(stage, &s, {"with"});
            break;
        case StageKind::Export:
            need(stage, StageKind::Train, refHead(s.field("stage")));
            summarize(stage, &s, {"to"});
            break;
        }
    }

    // Kahn's algorithm, always taking the earliest ready stage, so the run
    // order follows the file wherever the dependencies allow. A cycle (which
    // the checker reports) is broken at its earliest stage so that every input
    // still comes before the stage that takes it.
    Graph sorted() const {
        const size_t n = g_.stages.size();
        std::vector<size_t> position(n, n);  // new index of each placed stage; n while unplaced
        std::vector<size_t> order;
        auto ready = [&](size_t i) {
            return std::all_of(g_.stages[i].inputs.begin(), g_.stages[i].inputs.end(),
                               [&](const StageInput& in) { return position[in.stage] < n; });
        };
        while (order.size() < n) {
            size_t next = n;
            for (size_t i = 0; i < n && next == n; ++i)
                if (position[i] == n && ready(i)) next = i;
            for (size_t i = 0; i < n && next == n; ++i)
                if (position[i] == n) next = i;
            position[next] = order.size();
            order.push_back(next);
        }
        Graph out;
        for (size_t i : order) {
            Stage stage = g_.stages[i];
            std::erase_if(stage.inputs, [&](const StageInput& in) { return position[in.stage] >= position[i]; });
            for (auto& in : stage.inputs) in.stage = position[in.stage];
            out.stages.push_back(std::move(stage));
        }
        return out;
    }

    const Pipeline& p_;
    Graph g_;  // stages in file order, before sorting
};

// ---- DOT -------------------------------------------------------------------

std::string dotEscape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

const char* fillColor(StageKind kind) {
    switch (kind) {
    case StageKind::Load:
    case StageKind::Prepare: return "#dbe9f6";
    case StageKind::Tokenizer: return "#fdf1c7";
    case StageKind::Train: return "#fbd9b5";
    case StageKind::Evaluate: return "#d5eed3";
    case StageKind::Export: return "#e4e4e4";
    }
    return "white";
}

// The title centred, then one left-aligned line (`\l`) per key setting.
std::string dotLabel(const Stage& stage) {
    std::string label = dotEscape(stage.title()) + "\\n";
    for (const auto& [name, value] : stage.summary) label += dotEscape(name + ": " + value) + "\\l";
    return label;
}

}  // namespace

const char* stageKindName(StageKind kind) {
    switch (kind) {
    case StageKind::Load: return "load";
    case StageKind::Tokenizer: return "tokenizer";
    case StageKind::Prepare: return "prepare";
    case StageKind::Train: return "train";
    case StageKind::Evaluate: return "evaluate";
    case StageKind::Export: return "export";
    }
    return "";
}

std::optional<size_t> Graph::find(StageKind kind, const std::string& name) const {
    for (size_t i = 0; i < stages.size(); ++i)
        if (stages[i].kind == kind && stages[i].name == name) return i;
    return std::nullopt;
}

Graph buildGraph(const Pipeline& pipeline) {
    return Builder(pipeline).build();
}

std::string renderText(const Graph& graph) {
    std::string out;
    for (size_t i = 0; i < graph.stages.size(); ++i) {
        const Stage& stage = graph.stages[i];
        out += std::to_string(i + 1) + ". " + stage.title() + "\n";
        for (const auto& in : stage.inputs)
            out += "     <- " + std::to_string(in.stage + 1) + ". " + graph.stages[in.stage].title() + " (" +
                   in.artifact + ")\n";
    }
    return out;
}

std::string renderDot(const Graph& graph) {
    std::string out =
        "digraph pipeline {\n"
        "    node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n"
        "    edge [fontname=\"Helvetica\", fontsize=9];\n";
    for (size_t i = 0; i < graph.stages.size(); ++i) {
        const Stage& stage = graph.stages[i];
        out += "    s" + std::to_string(i + 1) + " [label=\"" + dotLabel(stage) + "\", fillcolor=\"" +
               fillColor(stage.kind) + "\"];\n";
    }
    for (size_t i = 0; i < graph.stages.size(); ++i)
        for (const auto& in : graph.stages[i].inputs)
            out += "    s" + std::to_string(in.stage + 1) + " -> s" + std::to_string(i + 1) + " [label=\"" +
                   dotEscape(in.artifact) + "\"];\n";
    return out + "}\n";
}

}  // namespace pipelang
