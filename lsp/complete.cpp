// textDocument/completion: what may be written at the cursor, from the
// registry's types and contracts and the file's own declarations.
#include <algorithm>

#include "lsp/context.h"
#include "lsp/document.h"
#include "stdlib/doc.h"

namespace pipelang::lsp {

using stdlib::Builtin;
using stdlib::Family;
using stdlib::Param;
using stdlib::Type;

namespace {

// LSP CompletionItemKind and InsertTextFormat numbers.
enum ItemKind { kFunction = 3, kField = 5, kClass = 7, kModule = 9, kProperty = 10, kValue = 12, kKeyword = 14 };
enum ItemKindMore { kReference = 18, kConstant = 21 };
constexpr int kSnippetFormat = 2;

json markdown(const std::string& text) {
    return {{"kind", "markdown"}, {"value", text}};
}

// A signature on one line, for an item's detail.
std::string flat(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\n') {
            out += text[i];
            continue;
        }
        while (i + 1 < text.size() && text[i + 1] == ' ') ++i;
        if (!out.empty() && out.back() != '(' && out.back() != '{') out += ' ';
    }
    return out;
}

// The answer being built: each label once (the editor filters by what was typed).
class Items {
public:
    json& add(const std::string& label, int kind, const std::string& detail = "") {
        json item = {{"label", label}, {"kind", kind}};
        if (!detail.empty()) item["detail"] = detail;
        return push(std::move(item));
    }
    json& push(json item) {
        for (auto& existing : items_)
            if (existing["label"] == item["label"]) return existing;
        items_.push_back(std::move(item));
        return items_.back();
    }
    json done() { return items_; }

private:
    json items_ = json::array();
};

// The input and target kinds the block around the cursor works on, when the file tells.
DataShape shapeAt(const Document& doc, const Context& c) {
    const Pipeline& p = doc.pipeline();
    if (!c.section) return {};
    auto dataOf = [&](const Section* train) -> DataShape {
        if (!train) return {};
        const Value* data = train->field("data");
        if (!data || data->kind != Value::Kind::Ref) return {};
        const Section* section = p.find("data", data->text);
        return section ? p.shape(*section) : DataShape{};
    };
    if (c.section->name == "train") return dataOf(p.find("train", c.sectionName));
    if (c.section->name == "model")
        for (const Section* train : p.all("train")) {
            const Value* model = train->field("model");
            if (model && model->kind == Value::Kind::Ref && model->text == c.sectionName) return dataOf(train);
        }
    return {};
}

// A built-in whose contracts rule it out for this data.
bool fits(const Builtin& b, const DataShape& shape) {
    if (b.accepts.empty()) return true;
    const std::string& kind = b.family == Family::Backbone ? shape.input : shape.target;
    if (kind.empty()) return true;
    return std::find(b.accepts.begin(), b.accepts.end(), kind) != b.accepts.end();
}

void addBuiltin(Items& items, const Builtin& b) {
    auto& item = items.add(b.name, b.family == Family::Block ? kClass : kFunction, flat(stdlib::signature(b)));
    item["documentation"] = markdown(stdlib::renderMarkdown({&b}));
    bool required = std::any_of(b.params.begin(), b.params.end(), [](const Param& p) { return p.required(); });
    if (required) {
        item["insertText"] = b.name + "($1)$0";
        item["insertTextFormat"] = kSnippetFormat;
    }
}

void addDeclarations(Items& items, const Document& doc, const std::string& kind, const std::string& suffix = "") {
    for (const Declaration* d : doc.declarations(kind))
        items.add(d->name + suffix, kind == "let" ? kConstant : kReference, kind + " " + d->name);
}

// What may stand where a value of `type` goes.
void addValues(Items& items, const Document& doc, const Type& type, const Param* param, const DataShape& shape) {
    switch (type.kind) {
    case Type::Kind::Call:
        for (const Builtin* b : stdlib::registry().all(type.family))
            if (fits(*b, shape)) addBuiltin(items, *b);
        return;
    case Type::Kind::Union:
        for (const auto& t : type.items) addValues(items, doc, t, param, shape);
        return;
    case Type::Kind::Bool:
        items.add("true", kValue);
        items.add("false", kValue);
        return;
    case Type::Kind::String:
        if (param)
            for (const auto& choice : param->choices) items.add("\"" + choice + "\"", kValue);
        return;
    case Type::Kind::Int:
        if (param)
            for (const auto& choice : param->choices) items.add(choice, kValue);
        return;
    case Type::Kind::Monitor:
        items.add("valid_loss", kValue);
        items.add("train_loss", kValue);
        for (const Builtin* b : stdlib::registry().all(Family::Metric)) items.add(b->name, kValue, "metric");
        return;
    case Type::Kind::Ref:
        if (type.ref == "split")
            for (const char* split : {".train", ".valid", ".test"}) addDeclarations(items, doc, "data", split);
        else if (type.ref == "text")
            addDeclarations(items, doc, "data", ".train.");
        else if (type.ref == "backbone")
            addDeclarations(items, doc, "train", ".backbone");
        else
            addDeclarations(items, doc, type.ref);
        return;
    default: return;
    }
}

void addParams(Items& items, const Builtin& b, const std::vector<std::string>& written, int kind) {
    for (const auto& p : b.params) {
        if (std::find(written.begin(), written.end(), p.name) != written.end()) continue;
        auto& item = items.add(p.name, kind, stdlib::signature(p));
        item["documentation"] = markdown(p.doc);
        item["insertText"] = p.name + " = ";
    }
}

// After `name.`: splits of a data block, the backbone of a stage, and in a
// sweep the settings below a block (`fit.optimizer.` → adamw's parameters).
void addMembers(Items& items, const Document& doc, const Context& c) {
    const Declaration* d = doc.declaration(c.path[0]);
    if (!d) return;
    if (!c.keyPosition) {
        if (c.path.size() == 1 && d->kind == "data")
            for (const char* split : {"train", "valid", "test"}) items.add(split, kProperty, "a split of " + d->name);
        if (c.path.size() == 1 && d->kind == "train")
            items.add("backbone", kProperty, "the backbone trained by " + d->name);
        return;
    }
    const Section* section = doc.pipeline().find(d->kind, d->name);
    if (!section || !section->schema) return;
    const Builtin* owner = section->schema;
    const Value* value = nullptr;
    for (size_t i = 1; i < c.path.size(); ++i) {
        value = i == 1 ? section->field(c.path[i]) : value ? value->arg(c.path[i]) : nullptr;
        owner = value && value->kind == Value::Kind::Call ? value->builtin : nullptr;
        if (!owner) return;
    }
    addParams(items, *owner, {}, kProperty);
}

json statementItem(const std::string& label, const std::string& snippet, const std::string& detail) {
    return {{"label", label},
            {"kind", kKeyword},
            {"detail", detail},
            {"insertText", snippet},
            {"insertTextFormat", kSnippetFormat}};
}

// The top-level statements, each with a snippet; a block's snippet has a line per required field.
void addStatements(Items& items) {
    items.push(statementItem("seed", "seed ${1:42}", "seed N: the random seed of the run"));
    items.push(statementItem("import", "import \"${1:other}.pipe\"", "import \"FILE\""));
    items.push(statementItem("let", "let ${1:name} = $0", "let NAME = VALUE"));
    for (const Builtin* b : stdlib::registry().all(Family::Section)) {
        if (b->name == "evaluate" || b->name == "export") continue;
        std::string body;
        int stop = 2;
        for (const auto& p : b->params)
            if (p.required()) body += "\t" + p.name + " = $" + std::to_string(stop++) + "\n";
        if (body.empty()) body = "\t$0\n";
        std::string snippet = b->name + (b->name == "sweep" ? "" : " ${1:name}") + " {\n" + body + "}";
        items.push(statementItem(b->name, snippet, b->doc))["documentation"] = markdown(stdlib::renderMarkdown({b}));
    }
    items.push(statementItem("evaluate", "evaluate ${1:stage} on ${2:data}.${3|test,valid,train|}",
                             "evaluate STAGE on DATA.SPLIT [with METRICS]"));
    items.push(statementItem("export", "export ${1:stage} to \"${2:model}.safetensors\"", "export STAGE to \"FILE\""));
}

}  // namespace

json completion(const Document& doc, Position position) {
    Context c = contextAt(doc.tokens(), toOffset(doc.file(), position));
    Items items;
    switch (c.where) {
    case Context::Where::Nothing: break;
    case Context::Where::Statement: addStatements(items); break;
    case Context::Where::Keyword:
        for (const auto& k : c.keywords) items.add(k, kKeyword);
        break;
    case Context::Where::Member:
        if (!c.path.empty()) addMembers(items, doc, c);
        break;
    case Context::Where::Field:
        if (c.section) addParams(items, *c.section, c.written, kField);
        if (c.section && c.section->name == "sweep")  // `stage.part.param = [...]` keys
            for (const auto& d : doc.declarations())
                if (d.kind != "let" && d.kind != "sweep") items.add(d.name, kModule, d.kind + " " + d.name);
        break;
    case Context::Where::Value:
        if (c.argumentStart && c.call) addParams(items, *c.call, c.written, kProperty);
        if (c.expected) addValues(items, doc, *c.expected, c.param, shapeAt(doc, c));
        addDeclarations(items, doc, "let");
        break;
    }
    return items.done();
}

}  // namespace pipelang::lsp
