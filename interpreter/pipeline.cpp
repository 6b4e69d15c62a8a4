#include "interpreter/pipeline.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace pipelang {

const char* originName(Origin origin) {
    switch (origin) {
    case Origin::Written: return "written";
    case Origin::Default: return "default";
    case Origin::Derived: return "from data";
    case Origin::Weights: return "from weights";
    case Origin::ModelConfig: return "from config.json";
    case Origin::Override: return "override";
    }
    return "written";
}

const Value* Value::arg(std::string_view name) const {
    for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return &items[i];
    return nullptr;
}

Value* Value::arg(std::string_view name) {
    for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return &items[i];
    return nullptr;
}

namespace {

std::string formatFloat(double x) {
    char buffer[32];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, x);
        if (std::strtod(buffer, nullptr) == x) break;
    }
    std::string s = buffer;
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // keep it a float when read back
    return s;
}

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
        }
    }
    return out + "\"";
}

}  // namespace

std::string Value::str() const {
    switch (kind) {
    case Kind::None: return "none";
    case Kind::Bool: return boolean ? "true" : "false";
    case Kind::Int: return std::to_string(integer);
    case Kind::Float: return formatFloat(number);
    case Kind::String: return quote(text);
    case Kind::Ref: return text;
    case Kind::List:
    case Kind::Tuple: {
        std::string out = kind == Kind::List ? "[" : "(";
        for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i].str();
        return out + (kind == Kind::List ? "]" : ")");
    }
    case Kind::Call: {
        std::string out = text + "(";
        bool first = true;
        for (size_t i = 0; i < items.size(); ++i) {
            if (items[i].isNone()) continue;
            out += (first ? "" : ", ") + names[i] + " = " + items[i].str();
            first = false;
        }
        return out + ")";
    }
    }
    return "none";
}

const Value* Section::field(std::string_view n) const {
    for (const auto& [key, value] : fields)
        if (key == n) return &value;
    return nullptr;
}

Value* Section::field(std::string_view n) {
    for (auto& [key, value] : fields)
        if (key == n) return &value;
    return nullptr;
}

size_t Pipeline::scan(std::string_view kind, std::string_view name) const {
    for (size_t i = 0; i < sections.size(); ++i)
        if (sections[i].kind == kind && sections[i].name == name) return i;
    return sections.size();
}

void Pipeline::index() {
    byName_.clear();
    for (size_t i = 0; i < sections.size(); ++i) byName_.emplace(std::pair{sections[i].kind, sections[i].name}, i);
    indexed_ = sections.size();
}

const Section* Pipeline::find(std::string_view kind, std::string_view name) const {
    size_t at = sections.size();
    if (indexed_ == sections.size() && indexed_ > 0) {
        auto it = byName_.find(std::pair{std::string(kind), std::string(name)});
        if (it != byName_.end() && sections[it->second].kind == kind && sections[it->second].name == name)
            at = it->second;
    }
    // A miss may be a section renamed since it was indexed.
    if (at == sections.size()) at = scan(kind, name);
    return at < sections.size() ? &sections[at] : nullptr;
}

Section* Pipeline::find(std::string_view kind, std::string_view name) {
    return const_cast<Section*>(std::as_const(*this).find(kind, name));
}

std::vector<const Section*> Pipeline::all(std::string_view kind) const {
    std::vector<const Section*> out;
    for (const auto& s : sections)
        if (s.kind == kind) out.push_back(&s);
    return out;
}

const Section* Pipeline::measuring(std::string_view metric) const {
    const Section* last = nullptr;
    for (const Section* train : all("train")) {
        bool measures = metric == "valid_loss" || metric == "train_loss";
        if (const Value* metrics = train->field("metrics"))
            for (const auto& m : metrics->items) measures = measures || m.text == metric;
        if (measures) last = train;
    }
    return last;
}

DataShape Pipeline::shape(const Section& data) const {
    DataShape shape;
    const Value* blocks = data.field("blocks");
    if (!blocks) return shape;
    std::vector<const Value*> calls;
    if (blocks->kind == Value::Kind::Call) calls.push_back(blocks);
    if (blocks->kind == Value::Kind::Tuple)
        for (const auto& item : blocks->items)
            if (item.kind == Value::Kind::Call) calls.push_back(&item);
    if (calls.empty() || !calls.back()->builtin) return shape;
    if (calls.size() == 1) {
        shape.input = shape.target = calls[0]->builtin->produces;
        return shape;
    }
    if (calls[0]->builtin) shape.input = calls[0]->builtin->produces;
    shape.target = calls.back()->builtin->produces;
    // An item transform may change what the input is (a spectrogram of a sound is an image).
    if (const Value* items = data.field("item"); items && items->kind == Value::Kind::List)
        for (const auto& t : items->items)
            if (t.kind == Value::Kind::Call && t.builtin && !t.builtin->produces.empty())
                shape.input = t.builtin->produces;
    return shape;
}

}  // namespace pipelang
