#include "runtime/values.h"

#include "interpreter/compile.h"
#include "runtime/error.h"

namespace pipelang::runtime {

namespace {

// The argument, or null for one the registry declares `none` by default and
// the file left out. A call made in code rather than resolved by the checker
// (tests, the runtime's own `parent_label`) gets the registry's default, as
// the checker would fill it in; any other gap means the call was not resolved.
const Value* resolved(const Value* call, std::string_view name) {
    if (!call || call->kind != Value::Kind::Call)
        throw RuntimeError("internal error: `" + std::string(name) + "` asked of something that is not a call");
    const Value* a = call->arg(name);
    if (a && !a->isNone()) return a;
    const stdlib::Param* param = call->builtin ? call->builtin->param(name) : nullptr;
    if (!call->builtin)
        for (const stdlib::Builtin* b : stdlib::registry().lookup(call->text))
            if ((param = b->param(name))) break;
    if (param && param->defaultValue == "none") return nullptr;
    if (param && !a)
        if (const Value& d = defaultArgument(*param, call->text); !d.isNone()) return &d;
    throw RuntimeError("internal error: `" + call->text + "` has no value for `" + std::string(name) +
                       "` (the checker fills in every default)");
}

double asNumber(const Value& v) {
    return v.kind == Value::Kind::Int ? double(v.integer) : v.number;
}

}  // namespace

std::string callName(const Value* v) {
    return v && v->kind == Value::Kind::Call ? v->text : std::string();
}

const Value* argOf(const Value* call, std::string_view name) {
    if (!call || call->kind != Value::Kind::Call) return nullptr;
    const Value* a = call->arg(name);
    return a && !a->isNone() ? a : nullptr;
}

double numberArg(const Value* call, std::string_view name) {
    const Value* a = resolved(call, name);
    return a ? asNumber(*a) : 0;
}

int64_t intArg(const Value* call, std::string_view name) {
    const Value* a = resolved(call, name);
    if (!a) return 0;
    return a->kind == Value::Kind::Float ? int64_t(a->number) : a->integer;
}

bool boolArg(const Value* call, std::string_view name) {
    const Value* a = resolved(call, name);
    return a && a->boolean;
}

std::string stringArg(const Value* call, std::string_view name) {
    const Value* a = resolved(call, name);
    return a ? a->text : std::string();
}

std::vector<std::string> stringsArg(const Value* call, std::string_view name) {
    const Value* a = resolved(call, name);
    if (!a) return {};
    if (a->kind == Value::Kind::String) return {a->text};
    std::vector<std::string> out;
    for (const auto& item : a->items) out.push_back(item.text);
    return out;
}

std::vector<double> numbersArg(const Value* call, std::string_view name) {
    const Value* a = resolved(call, name);
    if (!a) return {};
    if (a->kind == Value::Kind::Int || a->kind == Value::Kind::Float) return {asNumber(*a)};
    std::vector<double> out;
    for (const auto& item : a->items) out.push_back(asNumber(item));
    return out;
}

std::vector<int64_t> intsArg(const Value* call, std::string_view name) {
    std::vector<int64_t> out;
    for (double n : numbersArg(call, name)) out.push_back(int64_t(n));
    return out;
}

std::pair<int, int> sizeArg(const Value* call, std::string_view name) {
    auto sides = numbersArg(call, name);
    if (sides.empty()) return {0, 0};
    if (sides.size() == 1) return {int(sides[0]), int(sides[0])};
    return {int(sides[0]), int(sides[1])};
}

const Value& fieldOf(const Section& section, std::string_view name) {
    const Value* v = section.field(name);
    if (!v)
        throw RuntimeError("internal error: " + section.kind + " `" + section.name + "` has no field `" +
                           std::string(name) + "`");
    return *v;
}

std::vector<const Value*> calls(const Value* v) {
    std::vector<const Value*> out;
    if (!v) return out;
    if (v->kind == Value::Kind::Call) out.push_back(v);
    if (v->kind == Value::Kind::List || v->kind == Value::Kind::Tuple)
        for (const auto& item : v->items)
            if (item.kind == Value::Kind::Call) out.push_back(&item);
    return out;
}

std::filesystem::path resolvePath(const std::filesystem::path& baseDir, const std::string& path) {
    std::filesystem::path p(path);
    if (p.is_absolute() || baseDir.empty()) return p;
    return baseDir / p;
}

}  // namespace pipelang::runtime
