// Values against the registry's types: every name, call, argument and default.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "interpreter/checker.h"
#include "interpreter/limits.h"
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

std::string joinQuoted(const std::vector<std::string>& names, const char* quote = "`", const char* conjunction = "or") {
    std::string out;
    for (size_t i = 0; i < names.size(); ++i) {
        if (i) out += i + 1 == names.size() ? std::string(" ") + conjunction + " " : ", ";
        out += quote + names[i] + quote;
    }
    return out;
}

// What a built-in of a family is called in messages: "optimizer", "item transform".
std::string familyNoun(Family family) {
    Type t;
    t.kind = Type::Kind::Call;
    t.family = family;
    std::string described = t.describe();  // "an item transform"
    return described.substr(described.find(' ') + 1);
}

// The type takes a plain number, string or boolean among its alternatives.
bool takesScalar(const Type& t) {
    for (const Type* a : alternatives(t))
        if (a->kind == Type::Kind::Int || a->kind == Type::Kind::Float || a->kind == Type::Kind::String ||
            a->kind == Type::Kind::Path || a->kind == Type::Kind::Bool)
            return true;
    return false;
}

bool looksNumeric(const std::string& text) {
    if (text.empty()) return false;
    char* end = nullptr;
    std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size();
}

void markDefault(Value& v) {
    v.origin = Origin::Default;
    v.span = Span{};
    for (auto& item : v.items) markDefault(item);
}

bool isMonitorName(const std::string& name) {
    return name == "valid_loss" || name == "train_loss" || stdlib::registry().find(Family::Metric, name) != nullptr;
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

bool Checker::hasBlock(const std::string& name, const std::string& kind) const {
    auto it = decls_.find(name);
    if (it != decls_.end() && it->second.kind == kind) return true;
    auto [from, to] = duplicates_.equal_range(name);
    for (auto d = from; d != to; ++d)
        if (d->second.kind == kind) return true;
    return false;
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
    else if (e.kind == ast::Expr::Kind::String &&
             (findKind(type, Type::Kind::Int) || findKind(type, Type::Kind::Float)) && looksNumeric(e.text))
        d.hints.push_back("write the number without quotes: " + e.text);
    else if (e.kind == ast::Expr::Kind::String && findKind(type, Type::Kind::Bool) &&
             (e.text == "true" || e.text == "false"))
        d.hints.push_back("write it without quotes: " + e.text);
    else if (e.kind != ast::Expr::Kind::Ref && e.kind != ast::Expr::Kind::Call && !takesScalar(type))
        // A literal where only a built-in goes: name the ones that fit.
        for (const Type* a : alternatives(type))
            if (a->kind == Type::Kind::Call) {
                auto names = stdlib::registry().names(a->family);
                if (names.size() <= 8)
                    d.hints.push_back("the " + familyNoun(a->family) + "s are " + joinQuoted(names, "`", "and"));
                else
                    d.hints.push_back("`pipe doc " + std::string(stdlib::familyName(a->family)) + "` lists the " +
                                      familyNoun(a->family) + "s");
                break;
            }
}

bool Checker::reportTooDeep(Span where) {
    if (reportedTooDeep_) return false;
    reportedTooDeep_ = true;
    limits::tooDeep(c_.diags, where);
    return true;
}

// The parser bounds brackets, but a chain of `let`s each naming the one
// before nests a value without any: each level here recurses, so the depth
// is counted where lets are put in place.
std::optional<Value> Checker::resolve(const ast::Expr& e, const Type& type, const Place& place) {
    bool nests = e.kind == ast::Expr::Kind::Call || e.kind == ast::Expr::Kind::List ||
                 e.kind == ast::Expr::Kind::Tuple || e.kind == ast::Expr::Kind::Ref;
    if (!nests) return resolveExpr(e, type, place);
    if (depth_ >= limits::kMaxNesting) {
        reportTooDeep(e.span);
        return std::nullopt;
    }
    ++depth_;
    auto out = resolveExpr(e, type, place);
    --depth_;
    return out;
}

std::optional<Value> Checker::resolveExpr(const ast::Expr& e, const Type& type, const Place& place) {
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
                if (auto guess = closest(e.text, names); !guess.empty())
                    d.didYouMean("`" + guess + "`", e.span, "\"" + guess + "\"");
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
        if (stdlib::registry().find(Family::SweepRange, e.path.text()) &&
            std::find(families.begin(), families.end(), Family::SweepRange) == families.end()) {
            // `lr = loguniform(...)` in a train block: a range is for a sweep to draw from.
            c_.diags
                .error("sweep-range", e.path.span,
                       "`" + e.path.text() + "` is a range a sweep draws from: it goes in a sweep block, not in " +
                           place.what)
                .hints.push_back("for example `sweep { block.field.param = " + std::string(e.span.text()) +
                                 "  strategy = tpe(trials = 20) }`");
            return std::nullopt;
        }
        std::vector<std::string> names;
        for (Family f : families)
            for (auto& n : stdlib::registry().names(f)) names.push_back(n);
        std::string familyWord = familyNoun(families[0]);
        auto& d = c_.diags.error("unknown-builtin", e.path.span, "unknown " + familyWord + " `" + e.path.text() + "`");
        if (auto guess = closest(e.path.text(), names); !guess.empty())
            d.didYouMean("`" + guess + "`", e.path.span, guess);
        else
            d.hints.push_back("the " + familyWord + "s are " + joinQuoted(names));
        return std::nullopt;
    }
    case ast::Expr::Kind::Ref: return resolveRef(e, type, place);
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
        if (hasBlock(n.text, kind)) {
            usedNames_.insert(n.text);
            return true;
        }
        failedRefKinds_.insert(kind);
        if (duplicates_.count(n.text)) return false;  // reported where it is declared twice
        auto it = decls_.find(n.text);
        auto names = blockNames(kind);
        if (it != decls_.end()) {
            auto& d =
                c_.diags.error("wrong-kind", n.span,
                               "`" + n.text + "` is a " + it->second.kind + " " +
                                   (it->second.kind == "let" ? "constant" : "block") + ", not a " + kind + " block");
            if (!names.empty())
                d.hints.push_back("the " + kind + " block" + (names.size() == 1 ? " is " : "s are ") +
                                  joinQuoted(names, "`", "and"));
            return false;
        }
        auto& d = c_.diags.error("unknown-name", n.span, "there is no " + kind + " block named `" + n.text + "`");
        if (auto guess = closest(n.text, names); !guess.empty())
            d.didYouMean("`" + guess + "`", n.span, guess);
        else if (!names.empty())
            d.hints.push_back("the " + kind + " block" + (names.size() == 1 ? " is " : "s are ") +
                              joinQuoted(names, "`", "and"));
        return false;
    };
    static const std::vector<std::string> splits = {"train", "valid", "test"};
    auto requireSplit = [&](const ast::Name& n) -> bool {
        if (std::find(splits.begin(), splits.end(), n.text) != splits.end()) return true;
        auto& d = c_.diags.error("unknown-split", n.span, "`" + n.text + "` is not a split");
        if (auto guess = closest(n.text, splits); !guess.empty())
            d.didYouMean("`" + guess + "`", n.span, guess);
        else
            d.hints.push_back("the splits are `train`, `valid` and `test`");
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
    if (auto start = std::find(letStack_.begin(), letStack_.end(), let.name); start != letStack_.end()) {
        // Each circle once, however many fields lead into it.
        std::set<std::string> members(start, letStack_.end());
        if (!reportedCycles_.insert(members).second) return std::nullopt;
        std::string cycle;
        for (auto it = start; it != letStack_.end(); ++it) cycle += "`" + *it + "` → ";
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
        // A chain too deep is one error, not a note per link.
        if (c_.diags.errorCount() > errors && c_.diags.last().code != "too-deep")
            c_.diags.last().notes.push_back({e.span, "`" + let.name + "` is used here"});
        return std::nullopt;
    }
    v->span = e.span;
    return v;
}

std::optional<Value> Checker::resolveName(const ast::Expr& e, const Type& type, const Place& place) {
    const std::string& name = e.path.parts[0].text;
    std::vector<std::string> candidates;
    std::string expected;     // what the name should have been: "optimizer", "data block"
    bool wantsBlock = false;  // a block's name rather than a built-in
    std::vector<std::string> blockKinds;
    for (const Type* a : alternatives(type)) {
        if (a->kind == Type::Kind::Call) {
            if (const auto* b = stdlib::registry().find(a->family, name)) {
                auto v = resolveCall(e, *b, "");
                if (v) v->span = e.span;
                return v;
            }
            for (auto& n : stdlib::registry().names(a->family)) candidates.push_back(n);
            if (expected.empty()) expected = familyNoun(a->family);
        } else if (a->kind == Type::Kind::Ref &&
                   (a->ref == "tokenizer" || a->ref == "data" || a->ref == "model" || a->ref == "train")) {
            if (hasBlock(name, a->ref)) {
                usedNames_.insert(name);
                Value v{Value::Kind::Ref};
                v.text = name;
                v.span = e.span;
                return v;
            }
            blockKinds.push_back(a->ref);
            for (auto& n : blockNames(a->ref)) candidates.push_back(n);
            if (expected.empty()) {
                expected = a->ref + " block";
                wantsBlock = true;
            }
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
    for (const std::string& kind : blockKinds) failedRefKinds_.insert(kind);
    // A name given to two blocks is reported once, where it is declared twice.
    if (duplicates_.count(name)) return std::nullopt;
    auto it = decls_.find(name);
    if (wantsBlock && it != decls_.end() && it->second.kind != "let") {
        auto& d = c_.diags.error(
            "wrong-kind", e.span,
            place.what + " expects " + type.describe() + ", but `" + name + "` is a " + it->second.kind + " block");
        if (auto names = blockNames(blockKinds[0]); !names.empty())
            d.hints.push_back("the " + blockKinds[0] + " block" + (names.size() == 1 ? " is " : "s are ") +
                              joinQuoted(names, "`", "and"));
        return std::nullopt;
    }
    for (const auto& [n, d] : decls_)
        if (d.kind == "let") candidates.push_back(n);
    std::string guess = closest(name, candidates);
    // A plain value was just as welcome (`lr = fast` where a number or
    // `slice(...)` goes): say what was expected rather than "unknown range".
    if (takesScalar(type) && guess.empty()) {
        mismatch(e, type, place);
        return std::nullopt;
    }
    std::string message =
        wantsBlock ? "there is no " + expected + " named `" + name + "`" : "unknown " + expected + " `" + name + "`";
    auto& d = c_.diags.error(wantsBlock ? "unknown-name" : "unknown-builtin", e.span, message);
    if (!guess.empty())
        d.didYouMean("`" + guess + "`", e.path.parts.empty() ? Span{} : e.path.parts[0].span, guess);
    else if (wantsBlock && !candidates.empty())
        d.hints.push_back("the " + expected + (candidates.size() == 1 ? " is " : "s are ") +
                          joinQuoted(candidates, "`", "and"));
    else if (wantsBlock)
        d.hints.push_back("add a `" + blockKinds[0] + " " + name + " { ... }` block");
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
    std::set<std::string> misspelt;   // parameters an unknown name was probably meant as
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
                if (auto guess = closest(arg.name->text, names); !guess.empty()) {
                    d.didYouMean("`" + guess + "`", arg.name->span, guess);
                    misspelt.insert(guess);  // not reported again as missing
                } else if (!names.empty())
                    d.hints.push_back(owner + " takes " + joinQuoted(names, "`", "and"));
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
                // The first parameter not given yet, by position or by name.
                size_t next = position;
                while (next < b.params.size() &&
                       (given[next] || std::any_of(e.args.begin(), e.args.end(), [&](const ast::Argument& a) {
                            return a.name && a.name->text == b.params[next].name;
                        })))
                    ++next;
                if (next < b.params.size())
                    d.hints.push_back("name it: `" + b.params[next].name + " = " + std::string(arg.span.text()) + "`");
                else
                    d.hints.push_back("put the positional arguments first");
                ok = false;
                continue;
            }
            if (position >= b.params.size()) {
                // One error for all the extra arguments, however many.
                Span extra = arg.span;
                for (const auto& rest : e.args)
                    if (rest.span.begin > arg.span.begin && !rest.name) extra = Span::cover(extra, rest.span);
                size_t count = 0;
                for (const auto& a : e.args) count += a.name ? 0 : 1;
                auto& d = c_.diags.error(
                    "too-many-arguments", extra,
                    owner + " takes " +
                        (b.params.empty() ? std::string("no arguments")
                                          : "at most " + std::to_string(b.params.size()) + " argument" +
                                                (b.params.size() == 1 ? "" : "s") + ", not " + std::to_string(count)));
                if (!b.params.empty()) {
                    std::vector<std::string> names;
                    for (const auto& q : b.params) names.push_back(q.name);
                    d.hints.push_back(std::string(b.params.size() == 1 ? "its parameter is " : "its parameters are ") +
                                      joinQuoted(names, "`", "and"));
                } else {
                    d.hints.push_back("write it without arguments: `" + b.name + "`");
                }
                // The values of a call of the wrong shape are not checked:
                // their errors would mostly echo this one.
                return std::nullopt;
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
            if (!misspelt.count(p.name)) missing.push_back(p.name);
            ok = false;
            continue;
        } else {
            v.items.push_back(defaultValue(p, b.name));
        }
        v.names.push_back(p.name);
    }
    if (!missing.empty()) {
        Span at = e.kind == ast::Expr::Kind::Call ? e.path.span : e.span;
        auto& d = c_.diags.error("missing-argument", at, owner + " needs " + joinQuoted(missing, "`", "and"));
        const auto* p = b.param(missing[0]);
        // A block reference with one candidate: name it.
        const Type& t = typeOf(*p);
        auto names = t.kind == Type::Kind::Ref ? blockNames(t.ref) : std::vector<std::string>{};
        if (t.kind == Type::Kind::Ref) failedRefKinds_.insert(t.ref);
        if (names.size() == 1) {
            const std::string arg = p->name + " = " + names[0];
            d.hints.push_back("add `" + arg + "`: " + p->doc);
            // Into the parentheses, or a bare name becomes a call.
            if (e.kind == ast::Expr::Kind::Call && e.span.valid() && e.span.end > e.span.begin)
                d.fixes.push_back(
                    {Span{e.span.file, e.span.end - 1, e.span.end - 1}, (e.args.empty() ? "" : ", ") + arg});
            else if (e.span.valid())
                d.fixes.push_back({e.span, e.path.text() + "(" + arg + ")"});
        } else
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
            auto& d =
                c_.diags.error("not-allowed", v.span,
                               what + " must be " + joinQuoted(p.choices, quote) + ", not " + quote + text + quote);
            // Numbers close in spelling are not close in meaning: no guess for them.
            if (auto guess = closest(text, p.choices); !guess.empty() && v.kind == Value::Kind::String)
                d.didYouMean(quote + guess + quote, v.span, quote + guess + quote);
            return false;
        }
    }
    if ((v.kind == Value::Kind::Int || v.kind == Value::Kind::Float) && (p.min || p.max)) {
        double x = v.number;
        auto show = [](double d) {
            char buffer[32];
            std::snprintf(buffer, sizeof buffer, "%.15g", d);
            return std::string(buffer);
        };
        bool low = p.min && x < *p.min;
        bool high = p.max && x > *p.max;
        if (low || high) {
            std::string range = p.min && p.max ? "between " + show(*p.min) + " and " + show(*p.max)
                                : p.min        ? "at least " + show(*p.min)
                                               : "at most " + show(*p.max);
            c_.diags.error("out-of-range", v.span, what + " must be " + range + ", not " + show(x));
            return false;
        }
    }
    return true;
}

std::optional<Value> Checker::resolveSweepRange(const ast::Expr& e, const stdlib::Builtin& range,
                                                const stdlib::Param& param, const std::string& key) {
    const Place place{&param, "`" + key + "`"};
    const std::string owner = "`" + range.name + "`";
    const Type& type = typeOf(param);
    auto takes = [&](Type::Kind kind) { return findKind(type, kind) || findKind(type, Type::Kind::Any); };
    if (range.name == "choice") {
        // One list, whose every value is checked as the setting takes it.
        const ast::Expr* list = e.args.size() == 1 ? e.args[0].value.get() : nullptr;
        if (!list || list->kind != ast::Expr::Kind::List || list->args.empty() ||
            (e.args[0].name && e.args[0].name->text != "values")) {
            c_.diags.error("sweep-values", e.span, "`choice` takes one list of the values to choose from")
                .hints.push_back("for example `" + key + " = choice([a, b])`");
            return std::nullopt;
        }
        Value values{Value::Kind::List};
        values.span = list->span;
        bool ok = true;
        for (const auto& item : list->args) {
            auto one = resolve(*item.value, type, place);
            if (one) values.items.push_back(std::move(*one));
            ok = ok && one;
        }
        if (!ok) return std::nullopt;
        Value v{Value::Kind::Call};
        v.text = range.name;
        v.builtin = &range;
        v.items.push_back(std::move(values));
        v.names.push_back("values");
        return v;
    }
    auto v = resolveCall(e, range, "");
    if (!v) return std::nullopt;
    const Value& lo = *v->arg("lo");
    const Value& hi = *v->arg("hi");
    const bool integer = range.name == "int_range";
    if (!takes(integer ? Type::Kind::Int : Type::Kind::Float) && !(integer && takes(Type::Kind::Float))) {
        auto& d = c_.diags.error("type", e.span,
                                 place.what + " expects " + type.describe() + ", but " + owner + " draws " +
                                     (integer ? "whole numbers" : "real numbers"));
        if (!integer && takes(Type::Kind::Int))
            d.hints.push_back("draw whole numbers with `int_range(lo, hi)`");
        else
            d.hints.push_back("list the values to try: `" + key + " = [...]`");
        return std::nullopt;
    }
    if (!param.choices.empty()) {
        c_.diags
            .error("sweep-values", e.span,
                   place.what + " must be " + joinQuoted(param.choices, "") + "; a range would draw others")
            .hints.push_back("list the values to try: `" + key + " = [" + param.choices[0] + ", ...]`");
        return std::nullopt;
    }
    auto written = [](const Value& x) { return x.span.valid() ? std::string(x.span.text()) : x.str(); };
    const Value* log = v->arg("log");
    for (const Value* bound : {&lo, &hi}) {
        bool positive = range.name != "loguniform" || bound->number > 0;
        bool fromOne = !integer || !log || !log->boolean || bound->number >= 1;
        if (positive && fromOne) continue;
        auto& d = c_.diags.error("sweep-range", bound->span.valid() ? bound->span : e.span,
                                 owner + " draws on a log scale, so its bounds must be " +
                                     (positive ? "at least 1" : "above 0") + ", not " + written(*bound));
        d.hints.push_back(positive ? "start from 1, or drop `log = true`"
                                   : "start from a small positive value, e.g. `loguniform(1e-5, " + written(hi) + ")`");
        return std::nullopt;
    }
    if (lo.number > hi.number) {
        c_.diags
            .error(
                "sweep-range", e.span,
                owner + " draws from `lo` to `hi`, but `lo` (" + written(lo) + ") is above `hi` (" + written(hi) + ")")
            .hints.push_back("write the smaller bound first: `" + range.name + "(" + written(hi) + ", " + written(lo) +
                             ")`");
        return std::nullopt;
    }
    // The bounds must be values the setting takes (a dropout from 0 to 1, not 1.5).
    bool ok = checkConstraints(lo, param, place.what);
    ok = checkConstraints(hi, param, place.what) && ok;
    if (!ok) return std::nullopt;
    return v;
}

const Value& defaultArgument(const stdlib::Param& param, const std::string& owner) {
    static std::mutex mutex;
    static std::map<const stdlib::Param*, Value> values;
    {
        std::lock_guard lock(mutex);
        if (auto it = values.find(&param); it != values.end()) return it->second;
    }
    Compilation scratch;  // defaults are literals: nothing of the scratch compilation is kept
    Value v = Checker(scratch, CompileOptions{}).defaultValue(param, owner);
    std::lock_guard lock(mutex);
    return values.emplace(&param, std::move(v)).first->second;
}

}  // namespace pipelang
