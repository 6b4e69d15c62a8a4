#include "interpreter/plan.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "interpreter/layer_groups.h"

namespace pipelang {

namespace {

using Named = std::vector<std::pair<std::string, const Value*>>;

// Each layer group's peak learning rate, shown beneath the value that sets
// them: `lr = slice(lo, hi)`, or a `fine_tune`, whose unfrozen epochs take
// their own discriminative rates whatever the optimizer's `lr`.
using GroupRates = std::vector<std::pair<std::string, double>>;
using Extras = std::map<const Value*, GroupRates>;
// BERT-large has 24 blocks; a backbone of more than this many layers or
// stages gets no lines of groups.
constexpr int64_t kMostGroupsShown = 256;

void addGroupRates(const Pipeline& pipeline, const Section& train, Extras& extras) {
    const Value* modelRef = train.field("model");
    const Value* optimizer = train.field("optimizer");
    const Value* schedule = train.field("schedule");
    const Section* model =
        modelRef && modelRef->kind == Value::Kind::Ref ? pipeline.find("model", modelRef->text) : nullptr;
    const Value* backbone = model ? backboneOf(pipeline, *model) : nullptr;
    if (!backbone || !optimizer || optimizer->kind != Value::Kind::Call) return;
    RateRange peak = optimizerRates(*optimizer);
    const Value* at = nullptr;
    if (schedule && schedule->kind == Value::Kind::Call && schedule->text == "fine_tune") {
        peak = fineTuneRates(*schedule, peak.hi);
        at = schedule;
    } else if (const Value* lr = optimizer->arg("lr"); lr && lr->kind == Value::Kind::Call) {
        at = lr;
    }
    if (!at) return;
    auto groups = layerGroupsUpTo(*backbone, kMostGroupsShown);
    if (!groups) return;
    auto rates = evenMults(peak.lo, peak.hi, groups->size());
    GroupRates& out = extras[at];
    for (size_t i = 0; i < groups->size(); ++i) out.push_back({(*groups)[i].name, rates[i]});
}

Extras allGroupRates(const Pipeline& pipeline) {
    Extras extras;
    for (const auto& s : pipeline.sections)
        if (s.kind == "train") addGroupRates(pipeline, s, extras);
    return extras;
}

// Three significant digits: the rates between lo and hi are rarely round.
std::string rateText(double rate) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3g", rate);
    return buffer;
}

// Lines longer than this do not push the origin column further right: one long
// path should not spread every other line across the screen.
constexpr size_t kMaxColumn = 56;
constexpr int kIndent = 4;

struct Line {
    int depth = 0;
    std::string text;
    const char* origin = nullptr;  // null for headers and blank lines
};

// Characters, not bytes: strings may hold UTF-8 and the column must line up.
size_t displayWidth(const std::string& s) {
    return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

bool isSequence(const Value& v) {
    return v.kind == Value::Kind::List || v.kind == Value::Kind::Tuple;
}

// Whether a value gets lines of its own beneath it: a call with parameters,
// or a list/tuple holding one. Everything else fits on one line as source text.
bool opens(const Value& v) {
    if (v.kind == Value::Kind::Call) return !v.items.empty();
    return isSequence(v) && std::any_of(v.items.begin(), v.items.end(), opens);
}

// The text on a value's own line: the value itself, or a stand-in whose
// contents follow indented.
std::string headline(const Value& v) {
    if (!opens(v)) return v.str();
    if (v.kind == Value::Kind::Call) return v.text + "(...)";
    return v.kind == Value::Kind::List ? "[...]" : "(...)";
}

Named callArgs(const Value& call) {
    Named out;
    for (size_t i = 0; i < call.items.size(); ++i) out.push_back({call.names[i], &call.items[i]});
    return out;
}

void addNamed(std::vector<Line>& lines, int depth, const Named& values, const Extras& extras);

void addValue(std::vector<Line>& lines, int depth, const std::string& label, const Value& v, const Extras& extras) {
    lines.push_back({depth, label + headline(v), originName(v.origin)});
    if (!opens(v)) return;
    if (v.kind == Value::Kind::Call) {
        addNamed(lines, depth + 1, callArgs(v), extras);
        auto rates = extras.find(&v);
        if (rates == extras.end()) return;
        size_t width = 0;
        for (const auto& [group, _] : rates->second) width = std::max(width, displayWidth(group));
        for (const auto& [group, rate] : rates->second)
            lines.push_back({depth + 1, group + std::string(width - displayWidth(group), ' ') + " = " + rateText(rate),
                             "layer group"});
        return;
    }
    for (const auto& item : v.items) addValue(lines, depth + 1, "- ", item, extras);
}

// Siblings are written `name = value` with their `=` signs lined up.
void addNamed(std::vector<Line>& lines, int depth, const Named& values, const Extras& extras) {
    size_t width = 0;
    for (const auto& [name, _] : values) width = std::max(width, displayWidth(name));
    for (const auto& [name, value] : values)
        addValue(lines, depth, name + std::string(width - displayWidth(name), ' ') + " = ", *value, extras);
}

std::string sectionTitle(const Section& s) {
    return s.named ? s.kind + " " + s.name : s.kind;
}

std::vector<Line> planLines(const Pipeline& p) {
    std::vector<Line> lines;
    lines.push_back({0, "seed " + (p.seed ? std::to_string(*p.seed) : std::string("none")), originName(p.seedOrigin)});
    Extras extras = allGroupRates(p);
    for (const auto& s : p.sections) {
        lines.push_back({});
        lines.push_back({0, sectionTitle(s)});
        Named fields;
        for (const auto& [name, value] : s.fields) fields.push_back({name, &value});
        addNamed(lines, 1, fields, extras);
    }
    return lines;
}

std::string layout(const std::vector<Line>& lines) {
    auto width = [](const Line& l) { return l.depth * kIndent + displayWidth(l.text); };
    size_t column = 0;
    for (const auto& l : lines)
        if (l.origin && width(l) <= kMaxColumn) column = std::max(column, width(l));
    std::string out;
    for (const auto& l : lines) {
        out += std::string(l.depth * kIndent, ' ') + l.text;
        if (l.origin) out += std::string(column > width(l) ? column - width(l) + 2 : 2, ' ') + "# " + l.origin;
        out += '\n';
    }
    return out;
}

// ---- JSON ------------------------------------------------------------------

using Json = nlohmann::ordered_json;  // keeps fields and parameters in signature order

const char* kindName(Value::Kind kind) {
    switch (kind) {
    case Value::Kind::None: return "none";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "string";
    case Value::Kind::List: return "list";
    case Value::Kind::Tuple: return "tuple";
    case Value::Kind::Call: return "call";
    case Value::Kind::Ref: return "ref";
    }
    return "none";
}

// The plain JSON value of a scalar (a reference is its dotted text).
Json scalar(const Value& v) {
    switch (v.kind) {
    case Value::Kind::Bool: return v.boolean;
    case Value::Kind::Int: return v.integer;
    case Value::Kind::Float: return v.number;
    case Value::Kind::String:
    case Value::Kind::Ref: return v.text;
    default: return nullptr;
    }
}

Json valueJson(const Value& v, const Extras& extras) {
    Json j = {{"origin", originName(v.origin)}, {"kind", kindName(v.kind)}, {"text", v.str()}};
    if (v.span.valid()) j["at"] = {{"file", v.span.file->name}, {"line", v.span.line()}, {"column", v.span.column()}};
    if (v.kind == Value::Kind::Call) {
        j["call"] = v.text;
        if (v.builtin) j["family"] = stdlib::familyName(v.builtin->family);
        Json args = Json::object();
        for (size_t i = 0; i < v.items.size(); ++i) args[v.names[i]] = valueJson(v.items[i], extras);
        j["args"] = std::move(args);
        if (auto rates = extras.find(&v); rates != extras.end()) {
            Json groups = Json::array();
            for (const auto& [group, rate] : rates->second) groups.push_back({{"group", group}, {"lr", rate}});
            j["layer_groups"] = std::move(groups);
        }
    } else if (isSequence(v)) {
        Json items = Json::array();
        for (const auto& item : v.items) items.push_back(valueJson(item, extras));
        j["items"] = std::move(items);
    } else {
        j["value"] = scalar(v);
    }
    return j;
}

Json sectionJson(const Section& s, const Extras& extras) {
    Json fields = Json::object();
    for (const auto& [name, value] : s.fields) fields[name] = valueJson(value, extras);
    return {{"kind", s.kind}, {"name", s.name}, {"named", s.named}, {"fields", std::move(fields)}};
}

}  // namespace

std::string renderPlan(const Pipeline& pipeline) {
    return layout(planLines(pipeline));
}

std::string renderPlanJson(const Pipeline& pipeline) {
    Json seed = {{"origin", originName(pipeline.seedOrigin)}, {"value", nullptr}};
    if (pipeline.seed) seed["value"] = *pipeline.seed;
    Extras extras = allGroupRates(pipeline);
    Json sections = Json::array();
    for (const auto& s : pipeline.sections) sections.push_back(sectionJson(s, extras));
    Json plan = {{"seed", std::move(seed)}, {"sections", std::move(sections)}};
    return plan.dump(2) + "\n";
}

}  // namespace pipelang
