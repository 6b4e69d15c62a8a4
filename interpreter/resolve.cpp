// Values against the registry's types: every name, call, argument and default.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>

#include "interpreter/checker.h"
#include "interpreter/parse.h"

namespace pipelang {

using stdlib::Family;
using stdlib::Type;

namespace {

std::string describe(const ast::Expr& e) {
    switch (e.kind) {
    case ast::Expr::Kind::Number: return "the number `" + e.text + "`";
    case ast::Expr::Kind::String: return "the string \"" + e.text + "\"";
    case ast::Expr::Kind::Bool: return e.boolean ? "`true`" : "`false`";
    case ast::Expr::Kind::Ref: return "`" + e.path.text() + "`";
    case ast::Expr::Kind::Call: return "a call of `" + e.path.text() + "`";
    case ast::Expr::Kind::List: return "a list";
    case ast::Expr::Kind::Tuple: return "a tuple";
    }
    return "a value";
}

// The alternatives of a type (a union's, or the type itself).
std::vector<const Type*> alternatives(const Type& t) {
    std::vector<const Type*> out;
    if (t.kind == Type::Kind::Union)
        for (const auto& item : t.items) out.push_back(&item);
    else
        out.push_back(&t);
    return out;
}

const Type* findKind(const Type& t, Type::Kind kind) {
    for (const Type* a : alternatives(t))
        if (a->kind == kind) return a;
    return nullptr;
}

std::string joinQuoted(const std::vector<std::string>& names, const char* quote = "`") {
    std::string out;
    for (size_t i = 0; i < names.size(); ++i) {
        if (i) out += i + 1 == names.size() ? " or " : ", ";
        out += quote + names[i] + quote;
    }
    return out;
}

void markDefault(Value& v) {
    v.origin = Origin::Default;
    v.span = Span{};
    for (auto& item : v.items) markDefault(item);
}

bool isMonitorName(const std::string& name) {
    return name == "valid_loss" || name == "train_loss" ||
           stdlib::registry().find(Family::Metric, name) != nullptr;
}

}  // namespace

const Type& Checker::typeOf(const stdlib::Param& p) {
    static std::mutex mutex;
    static std::map<std::string, std::unique_ptr<Type>> cache;
    std::lock_guard lock(mutex);
    auto& slot = cache[p.type];
    if (!slot) slot = std::make_unique<Type>(Type::parse(p.type));
    return *slot;
}

std::vector<std::string> Checker::blockNames(const std::string& kind) const {
    std::vector<std::string> out;
    for (const auto& [name, d] : decls_)
        if (d.kind == kind) out.push_back(name);
    return out;
}

void Checker::mismatch(const ast::Expr& e, const Type& type, const Place& place) {
    auto& d = c_.diags.error("type", e.span, place.what + " expects " + type.describe() + ", found " + describe(e));
    if (e.kind == ast::Expr::Kind::List && findKind(type, Type::Kind::Tuple))
        d.hints.push_back("write a tuple with parentheses: `(a, b)`");
    else if (e.kind == ast::Expr::Kind::Tuple && findKind(type, Type::Kind::List))
        d.hints.push_back("write a list with brackets: `[a, b]`");
    else if (e.kind == ast::Expr::Kind::Ref && (findKind(type, Type::Kind::String) || findKind(type, Type::Kind::Path)))
        d.hints.push_back("write it as a string: \"" + e.path.text() + "\"");
    else if (e.kind == ast::Expr::Kind::Number && !e.isInteger && findKind(type, Type::Kind::Int))
        d.hints.push_back("write a whole number");
}

std::optional<Value> Checker::resolve(const ast::Expr& e, const Type& type, const Place& place) {
    std::optional<Value> out;
    auto has = [&](Type::Kind k) { return findKind(type, k) != nullptr; };
    switch (e.kind) {
    case ast::Expr::Kind::Number:
        if (e.isInteger && (has(Type::Kind::Int) || has(Type::Kind::Any))) {
            Value v{Value::Kind::Int};
            v.integer = int64_t(e.number);
            v.number = e.number;
            out = v;
        } else if (has(Type::Kind::Float) || has(Type::Kind::Any)) {
            Value v{Value::Kind::Float};
            v.number = e.number;
            out = v;
        }
        break;
    case ast::Expr::Kind::String:
        if (has(Type::Kind::String) || has(Type::Kind::Path) || has(Type::Kind::Any)) {
            Value v{Value::Kind::String};
            v.text = e.text;
            out = v;
        } else if (has(Type::Kind::Monitor)) {
            if (!isMonitorName(e.text)) {
                auto& d = c_.diags.error("unknown-monitor", e.span, "`" + e.text + "` is not a metric or a loss");
                auto names = stdlib::registry().names(Family::Metric);
                names.push_back("valid_loss");
                names.push_back("train_loss");
                if (auto guess = closest(e.text, names); !guess.empty()) d.hints.push_back("did you mean `" + guess + "`?");
                return std::nullopt;
            }
            Value v{Value::Kind::String};
            v.text = e.text;
            out = v;
        }
        break;
    case ast::Expr::Kind::Bool:
        if (has(Type::Kind::Bool) || has(Type::Kind::Any)) {
            Value v{Value::Kind::Bool};
            v.boolean = e.boolean;
            out = v;
        }
        break;
    case ast::Expr::Kind::List:
    case ast::Expr::Kind::Tuple: {
        const Type* container = findKind(type, e.kind == ast::Expr::Kind::List ? Type::Kind::List : Type::Kind::Tuple);
        if (!container && has(Type::Kind::Any)) container = &type;
        if (!container) break;
        Value v{e.kind == ast::Expr::Kind::List ? Value::Kind::List : Value::Kind::Tuple};
        static const Type any{};
        const Type& itemType = container->items.empty() ? any : container->items[0];
        bool ok = true;
        for (const auto& item : e.args) {
            Place inner{place.param, place.what};
            auto resolved = resolve(*item.value, itemType, inner);
            if (!resolved) {
                ok = false;
                continue;
            }
            v.items.push_back(std::move(*resolved));
        }
        if (!ok) return std::nullopt;
        out = std::move(v);
        break;
    }
    case ast::Expr::Kind::Call: {
        std::vector<Family> families;
        for (const Type* a : alternatives(type))
            if (a->kind == Type::Kind::Call) families.push_back(a->family);
        if (families.empty()) break;
        for (Family f : families)
            if (const auto* b = stdlib::registry().find(f, e.path.text())) {
                auto v = resolveCall(e, *b, "");
                if (!v) return std::nullopt;
                v->span = e.span;
                return v;
            }
        std::vector<std::string> names;
        for (Family f : families)
            for (auto& n : stdlib::registry().names(f)) names.push_back(n);
        std::string familyWord = stdlib::familyName(families[0]);
        if (familyWord == "item" || familyWord == "batch") familyWord += " transform";
        auto& d = c_.diags.error("unknown-builtin", e.path.span,
                                 "unknown " + familyWord + " `" + e.path.text() + "`");
        if (auto guess = closest(e.path.text(), names); !guess.empty())
            d.hints.push_back("did you mean `" + guess + "`?");
        else
            d.hints.push_back("the " + familyWord + "s are " + joinQuoted(names));
        return std::nullopt;
    }
    case ast::Expr::Kind::Ref:
        return resolveRef(e, type, place);
    }
    if (!out) {
        mismatch(e, type, place);
        return std::nullopt;
    }
    out->span = e.span;
    if (place.param && !checkConstraints(*out, *place.param, place.what)) return std::nullopt;
    return out;
}

std::optional<Value> Checker::resolveRef(const ast::Expr& e, const Type& type, const Place& place) {
    const auto& parts = e.path.parts;
    if (parts.size() == 1) {
        auto it = decls_.find(parts[0].text);
        if (it != decls_.end() && it->second.kind == "let") return resolveLet(e, it->second, type, place);
        return resolveName(e, type, place);
    }
    auto refKind = [&](const char* k) {
        for (const Type* a : alternatives(type))
            if (a->kind == Type::Kind::Ref && a->ref == k) return true;
        return false;
    };
    auto requireBlock = [&](const ast::Name& n, const std::string& kind) -> bool {
        auto it = decls_.find(n.text);
        if (it != decls_.end() && it->second.kind == kind) {
            usedNames_.insert(n.text);
            return true;
        }
        if (it != decls_.end()) {
            c_.diags.error("wrong-kind", n.span, "`" + n.text + "` is a " + it->second.kind + " block, not a " + kind +
                                                     " block");
            return false;
        }
        auto& d = c_.diags.error("unknown-name", n.span, "there is no " + kind + " block named `" + n.text + "`");
        if (auto guess = closest(n.text, blockNames(kind)); !guess.empty()) d.hints.push_back("did you mean `" + guess + "`?");
        return false;
    };
    static const std::vector<std::string> splits = {"train", "valid", "test"};
    auto requireSplit = [&](const ast::Name& n) -> bool {
        if (std::find(splits.begin(), splits.end(), n.text) != splits.end()) return true;
        auto& d = c_.diags.error("unknown-split", n.span, "`" + n.text + "` is not a split");
        d.hints.push_back("the splits are `train`, `valid` and `test`");
        if (auto guess = closest(n.text, splits); !guess.empty()) d.hints.push_back("did you mean `" + guess + "`?");
        return false;
    };
    Value v{Value::Kind::Ref};
    v.text = e.path.text();
    v.span = e.span;
    if (refKind("split") && parts.size() == 2) {
        if (!requireBlock(parts[0], "data") || !requireSplit(parts[1])) return std::nullopt;
        return v;
    }
    if (refKind("text") && parts.size() == 3) {
        if (!requireBlock(parts[0], "data") || !requireSplit(parts[1])) return std::nullopt;
        return v;
    }
    if (refKind("text") && parts.size() == 2) {
        auto& d = c_.diags.error("text-ref", e.span, "name the split the text comes from");
        d.hints.push_back("write `" + parts[0].text + ".train." + parts[1].text +
                          "`: a tokenizer learns from the training split only");
        return std::nullopt;
    }
    if (refKind("backbone") && parts.size() == 2 && parts[1].text == "backbone") {
        if (!requireBlock(parts[0], "train")) return std::nullopt;
        return v;
    }
    if (refKind("backbone") && parts.size() == 2) {
        auto& d = c_.diags.error("backbone-ref", parts[1].span,
                                 "a model can start only from another stage's `backbone`, not `" + parts[1].text + "`");
        d.hints.push_back("write `" + parts[0].text + ".backbone`");
        return std::nullopt;
    }
    mismatch(e, type, place);
    return std::nullopt;
}

std::optional<Value> Checker::resolveLet(const ast::Expr& e, const Declaration& let, const Type& type,
                                         const Place& place) {
    usedNames_.insert(let.name);
    if (std::find(letStack_.begin(), letStack_.end(), let.name) != letStack_.end()) {
        std::string cycle;
        for (const auto& n : letStack_) cycle += "`" + n + "` → ";
        auto& d = c_.diags.error("let-cycle", e.span, "`" + let.name + "` is defined in terms of itself");
        d.hints.push_back("the chain is " + cycle + "`" + let.name + "`");
        return std::nullopt;
    }
    letStack_.push_back(let.name);
    size_t errors = c_.diags.errorCount();
    auto v = resolve(*let.statement->value, type, place);
    letStack_.pop_back();
    if (!v) {
        // Point from the definition's error to the use that led to it.
        if (c_.diags.errorCount() > errors) c_.diags.last().notes.push_back({e.span, "`" + let.name + "` is used here"});
        return std::nullopt;
    }
    v->span = e.span;
    return v;
}

std::optional<Value> Checker::resolveName(const ast::Expr& e, const Type& type, const Place& place) {
    const std::string& name = e.path.parts[0].text;
    std::vector<std::string> candidates;
    std::string expected;
    for (const Type* a : alternatives(type)) {
        if (a->kind == Type::Kind::Call) {
            if (const auto* b = stdlib::registry().find(a->family, name)) {
                auto v = resolveCall(e, *b, "");
                if (v) v->span = e.span;
                return v;
            }
            for (auto& n : stdlib::registry().names(a->family)) candidates.push_back(n);
            if (expected.empty()) {
                expected = stdlib::familyName(a->family);
                if (expected == "item" || expected == "batch") expected += " transform";
            }
        } else if (a->kind == Type::Kind::Ref && (a->ref == "tokenizer" || a->ref == "data" || a->ref == "model" ||
                                                  a->ref == "train")) {
            auto it = decls_.find(name);
            if (it != decls_.end() && it->second.kind == a->ref) {
                usedNames_.insert(name);
                Value v{Value::Kind::Ref};
                v.text = name;
                v.span = e.span;
                return v;
            }
            if (it != decls_.end()) {
                c_.diags.error("wrong-kind", e.span,
                               place.what + " expects a " + a->ref + " block, but `" + name + "` is a " +
                                   it->second.kind + " block");
                return std::nullopt;
            }
            for (auto& n : blockNames(a->ref)) candidates.push_back(n);
            if (expected.empty()) expected = a->ref + " block";
        } else if (a->kind == Type::Kind::Monitor) {
            if (isMonitorName(name)) {
                Value v{Value::Kind::String};
                v.text = name;
                v.span = e.span;
                return v;
            }
            for (auto& n : stdlib::registry().names(Family::Metric)) candidates.push_back(n);
            candidates.push_back("valid_loss");
            candidates.push_back("train_loss");
            if (expected.empty()) expected = "metric";
        } else if (a->kind == Type::Kind::Any) {
            Value v{Value::Kind::Ref};
            v.text = name;
            v.span = e.span;
            return v;
        }
    }
    if (expected.empty()) {
        mismatch(e, type, place);
        return std::nullopt;
    }
    for (const auto& [n, d] : decls_)
        if (d.kind == "let") candidates.push_back(n);
    std::string message = expected.find("block") != std::string::npos
                              ? "there is no " + expected + " named `" + name + "`"
                              : "unknown " + expected + " `" + name + "`";
    auto& d = c_.diags.error(expected.find("block") != std::string::npos ? "unknown-name" : "unknown-builtin", e.span,
                             message);
    if (auto guess = closest(name, candidates); !guess.empty()) d.hints.push_back("did you mean `" + guess + "`?");
    return std::nullopt;
}

std::optional<Value> Checker::resolveCall(const ast::Expr& e, const stdlib::Builtin& b, const std::string& prefix) {
    (void)prefix;
    Value v{Value::Kind::Call};
    v.text = b.name;
    v.builtin = &b;
    v.span = e.span;
    const std::string owner = "`" + b.name + "`";
    std::vector<const ast::Argument*> given(b.params.size(), nullptr);
    bool ok = true;
    bool sawNamed = false;
    size_t position = 0;
    for (const auto& arg : e.args) {  // empty for a bare name
        size_t index = 0;
        if (arg.name) {
            sawNamed = true;
            const auto* p = b.param(arg.name->text);
            if (!p) {
                auto& d = c_.diags.error("unknown-parameter", arg.name->span,
                                         owner + " has no parameter `" + arg.name->text + "`");
                std::vector<std::string> names;
                for (const auto& q : b.params) names.push_back(q.name);
                if (auto guess = closest(arg.name->text, names); !guess.empty())
                    d.hints.push_back("did you mean `" + guess + "`?");
                else if (!names.empty())
                    d.hints.push_back(owner + " takes " + joinQuoted(names));
                else
                    d.hints.push_back(owner + " takes no parameters");
                ok = false;
                continue;
            }
            index = size_t(p - b.params.data());
        } else {
            if (sawNamed) {
                auto& d = c_.diags.error("positional-after-named", arg.span,
                                         "a positional argument cannot follow a named one");
                d.hints.push_back("name it: `" + (position < b.params.size() ? b.params[position].name : "name") +
                                  " = ...`");
                ok = false;
                continue;
            }
            if (position >= b.params.size()) {
                auto& d = c_.diags.error("too-many-arguments", arg.span,
                                         owner + " takes " +
                                             (b.params.empty() ? std::string("no arguments")
                                                               : "at most " + std::to_string(b.params.size()) +
                                                                     " argument" + (b.params.size() == 1 ? "" : "s")));
                if (!b.params.empty()) {
                    std::vector<std::string> names;
                    for (const auto& q : b.params) names.push_back(q.name);
                    d.hints.push_back("its parameters are " + joinQuoted(names));
                }
                ok = false;
                continue;
            }
            index = position++;
        }
        if (given[index]) {
            auto& d = c_.diags.error("duplicate-argument", arg.span,
                                     "`" + b.params[index].name + "` is given twice to " + owner);
            d.notes.push_back({given[index]->span, "first given here"});
            ok = false;
            continue;
        }
        given[index] = &arg;
    }
    std::vector<std::string> missing;
    for (size_t i = 0; i < b.params.size(); ++i) {
        const auto& p = b.params[i];
        if (given[i]) {
            Place place{&p, "`" + p.name + "` of " + owner};
            auto resolved = resolve(*given[i]->value, typeOf(p), place);
            if (!resolved) {
                ok = false;
                continue;
            }
            v.items.push_back(std::move(*resolved));
        } else if (p.required()) {
            missing.push_back(p.name);
            continue;
        } else {
            v.items.push_back(defaultValue(p, b.name));
        }
        v.names.push_back(p.name);
    }
    if (!missing.empty()) {
        Span at = e.kind == ast::Expr::Kind::Call ? e.path.span : e.span;
        auto& d = c_.diags.error("missing-argument", at, owner + " needs " + joinQuoted(missing));
        const auto* p = b.param(missing[0]);
        d.hints.push_back("add `" + p->name + " = ...`: " + p->doc);
        return std::nullopt;
    }
    if (!ok) return std::nullopt;
    return v;
}

Value Checker::defaultValue(const stdlib::Param& p, const std::string& owner) {
    Value none{Value::Kind::None};
    none.origin = p.defaultValue == "auto" ? Origin::Derived : Origin::Default;
    if (p.defaultValue == "none" || p.defaultValue == "auto") return none;
    // Defaults are .pipe text in the registry, parsed once per process.
    static std::mutex mutex;
    static std::map<std::string, std::pair<std::unique_ptr<SourceFile>, std::unique_ptr<ast::Expr>>> cache;
    const ast::Expr* expr = nullptr;
    {
        std::lock_guard lock(mutex);
        std::string key = owner + "." + p.name + "=" + p.defaultValue;
        auto& slot = cache[key];
        if (!slot.first) {
            slot.first = std::make_unique<SourceFile>("default of " + owner + "." + p.name, p.defaultValue);
            Diagnostics ignored;  // a bad default is a registry bug, caught by registry_test
            slot.second = parseExpression(*slot.first, ignored);
        }
        expr = slot.second.get();
    }
    if (!expr) return none;
    // Resolve into a scratch list: a default never produces user diagnostics.
    Diagnostics saved = std::move(c_.diags);
    c_.diags = Diagnostics();
    auto v = resolve(*expr, typeOf(p), Place{&p, "`" + p.name + "`"});
    c_.diags = std::move(saved);
    if (!v) return none;
    markDefault(*v);
    return *v;
}

bool Checker::checkConstraints(const Value& v, const stdlib::Param& p, const std::string& what) {
    if (v.kind == Value::Kind::List || v.kind == Value::Kind::Tuple) {
        bool ok = true;
        for (const auto& item : v.items) ok = checkConstraints(item, p, what) && ok;
        return ok;
    }
    if (!p.choices.empty() && (v.kind == Value::Kind::String || v.kind == Value::Kind::Int)) {
        std::string text = v.kind == Value::Kind::Int ? std::to_string(v.integer) : v.text;
        if (std::find(p.choices.begin(), p.choices.end(), text) == p.choices.end()) {
            const char* quote = v.kind == Value::Kind::String ? "\"" : "";
            auto& d = c_.diags.error("not-allowed", v.span,
                                     what + " must be " + joinQuoted(p.choices, quote) + ", not " + quote + text + quote);
            if (auto guess = closest(text, p.choices); !guess.empty())
                d.hints.push_back(std::string("did you mean ") + quote + guess + quote + "?");
            return false;
        }
    }
    if ((v.kind == Value::Kind::Int || v.kind == Value::Kind::Float) && (p.min || p.max)) {
        double x = v.number;
        auto show = [](double d) {
            char buffer[32];
            std::snprintf(buffer, sizeof buffer, "%g", d);
            return std::string(buffer);
        };
        bool low = p.min && x < *p.min;
        bool high = p.max && x > *p.max;
        if (low || high) {
            std::string range = p.min && p.max ? "between " + show(*p.min) + " and " + show(*p.max)
                                : p.min    ? "at least " + show(*p.min)
                                           : "at most " + show(*p.max);
            c_.diags.error("out-of-range", v.span, what + " must be " + range + ", not " + show(x));
            return false;
        }
    }
    return true;
}

}  // namespace pipelang
