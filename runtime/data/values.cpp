#include "runtime/data/values.h"

namespace pipelang::runtime {

std::string callName(const Value* v) {
    return v && v->kind == Value::Kind::Call ? v->text : std::string();
}

const Value* argOf(const Value* call, std::string_view name) {
    if (!call || call->kind != Value::Kind::Call) return nullptr;
    const Value* a = call->arg(name);
    return a && !a->isNone() ? a : nullptr;
}

double numberArg(const Value* call, std::string_view name, double fallback) {
    const Value* a = argOf(call, name);
    if (!a) return fallback;
    if (a->kind == Value::Kind::Int) return double(a->integer);
    if (a->kind == Value::Kind::Float) return a->number;
    return fallback;
}

int64_t intArg(const Value* call, std::string_view name, int64_t fallback) {
    const Value* a = argOf(call, name);
    if (!a) return fallback;
    if (a->kind == Value::Kind::Int) return a->integer;
    if (a->kind == Value::Kind::Float) return int64_t(a->number);
    return fallback;
}

bool boolArg(const Value* call, std::string_view name, bool fallback) {
    const Value* a = argOf(call, name);
    return a && a->kind == Value::Kind::Bool ? a->boolean : fallback;
}

std::string stringArg(const Value* call, std::string_view name, const std::string& fallback) {
    const Value* a = argOf(call, name);
    return a && (a->kind == Value::Kind::String || a->kind == Value::Kind::Ref) ? a->text : fallback;
}

std::vector<std::string> stringsArg(const Value* call, std::string_view name) {
    std::vector<std::string> out;
    const Value* a = argOf(call, name);
    if (!a) return out;
    if (a->kind == Value::Kind::String) return {a->text};
    for (const auto& item : a->items) out.push_back(item.text);
    return out;
}

std::vector<double> numbersArg(const Value* call, std::string_view name) {
    std::vector<double> out;
    const Value* a = argOf(call, name);
    if (!a) return out;
    auto number = [](const Value& v) { return v.kind == Value::Kind::Int ? double(v.integer) : v.number; };
    if (a->kind == Value::Kind::Int || a->kind == Value::Kind::Float) return {number(*a)};
    for (const auto& item : a->items) out.push_back(number(item));
    return out;
}

std::pair<int, int> sizeArg(const Value* call, std::string_view name) {
    auto sides = numbersArg(call, name);
    if (sides.empty()) return {0, 0};
    if (sides.size() == 1) return {int(sides[0]), int(sides[0])};
    return {int(sides[0]), int(sides[1])};
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
