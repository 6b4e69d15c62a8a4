// Dotted paths to settings — `fit.optimizer.lr` — as `--set` overrides and as
// sweep keys. Both are checked exactly like values written in the file.
#include <algorithm>
#include <cctype>
#include <map>

#include "interpreter/checker.h"
#include "interpreter/parse.h"

namespace pipelang {

namespace {

void markOrigin(Value& v, Origin origin) {
    if (v.origin == Origin::Written) v.origin = origin;
    for (auto& item : v.items) markOrigin(item, origin);
}

std::vector<std::string> paramNames(const stdlib::Builtin& b) {
    std::vector<std::string> names;
    for (const auto& p : b.params) names.push_back(p.name);
    return names;
}

}  // namespace

std::optional<Checker::Setting> Checker::findSetting(const ast::Path& path, Span where, bool report) {
    const auto& parts = path.parts;
    auto fail = [&](Span at, const std::string& message, const std::string& guess,
                    const std::string& hint) -> std::optional<Setting> {
        if (!report) return std::nullopt;
        auto& d = c_.diags.error("unknown-setting", at.valid() ? at : where, message);
        if (!guess.empty())
            d.hints.push_back("did you mean `" + guess + "`?");
        else if (!hint.empty())
            d.hints.push_back(hint);
        return std::nullopt;
    };
    auto it = decls_.find(parts[0].text);
    Section* section = nullptr;
    if (it != decls_.end() && it->second.kind != "let" && it->second.kind != "sweep")
        for (auto& s : c_.pipeline.sections)
            if (s.name == parts[0].text && s.kind == it->second.kind) section = &s;
    if (!section) {
        std::vector<std::string> names;
        for (const auto& [n, d] : decls_)
            if (d.kind != "let" && d.kind != "sweep") names.push_back(n);
        return fail(parts[0].span, "there is no block named `" + parts[0].text + "`", closest(parts[0].text, names),
                    "a setting is named `block.field` or `block.field.parameter`");
    }
    if (parts.size() < 2)
        return fail(path.span, "`" + parts[0].text + "` is a whole block; name one of its fields", "",
                    "for example `" + parts[0].text + "." + section->schema->params[0].name + "`");
    const stdlib::Param* param = section->schema->param(parts[1].text);
    if (!param)
        return fail(parts[1].span,
                    "the " + section->kind + " block `" + section->name + "` has no field `" + parts[1].text + "`",
                    closest(parts[1].text, paramNames(*section->schema)), "");
    Setting s{section->field(parts[1].text), param, "the " + section->kind + " block `" + section->name + "`"};
    for (size_t i = 2; i < parts.size(); ++i) {
        std::string sofar;
        for (size_t k = 0; k < i; ++k) sofar += (k ? "." : "") + parts[k].text;
        if (s.value->kind != Value::Kind::Call || !s.value->builtin)
            return fail(parts[i].span,
                        s.value->isNone()
                            ? "`" + sofar + "` is not set, so it has no `" + parts[i].text + "` to change"
                            : "`" + sofar + "` is `" + s.value->str() + "`, which has no `" + parts[i].text + "`",
                        "", "change `" + sofar + "` as a whole");
        const stdlib::Builtin& b = *s.value->builtin;
        const stdlib::Param* p = b.param(parts[i].text);
        if (!p)
            return fail(parts[i].span, "`" + b.name + "` has no parameter `" + parts[i].text + "`",
                        closest(parts[i].text, paramNames(b)), "");
        s = Setting{s.value->arg(parts[i].text), p, "`" + b.name + "`"};
    }
    return s;
}

void Checker::applyOverrides() {
    std::vector<std::pair<std::string, Origin>> all;
    for (const auto& text : options_.overrides) all.push_back({text, Origin::Override});
    for (const auto& text : options_.modelConfig) all.push_back({text, Origin::ModelConfig});
    for (const auto& [text, origin] : all) {
        const SourceFile& file = c_.sources.add(origin == Origin::Override ? "--set" : "model-config.txt", text);
        size_t eq = text.find('=');
        if (eq == std::string::npos || eq == 0) {
            auto& d = c_.diags.error("override", Span{&file, 0, uint32_t(text.size())},
                                     "an override is written `block.field=value`");
            d.hints.push_back("for example `--set fit.optimizer.lr=1e-3`");
            continue;
        }
        // The key: dotted names, each checked by hand (it is not parsed as an expression).
        ast::Path key;
        bool ok = true;
        size_t start = 0;
        while (start <= eq && ok) {
            size_t dot = text.find('.', start);
            size_t end = dot == std::string::npos || dot > eq ? eq : dot;
            std::string part = text.substr(start, end - start);
            while (!part.empty() && part.back() == ' ') part.pop_back();
            bool ident = !part.empty() && (std::isalpha((unsigned char)part[0]) || part[0] == '_');
            for (char ch : part) ident = ident && (std::isalnum((unsigned char)ch) || ch == '_');
            Span span{&file, uint32_t(start), uint32_t(end)};
            if (part.empty()) {
                c_.diags.error("override", Span{&file, uint32_t(start), uint32_t(std::min(end + 1, eq))},
                               "`" + text.substr(0, eq) + "` has an empty name between its dots");
                ok = false;
            } else if (!ident) {
                c_.diags.error("override", span, "`" + part + "` is not a name");
                ok = false;
            }
            key.parts.push_back({part, span});
            start = end + 1;
        }
        if (!ok) continue;
        key.span = Span{&file, 0, uint32_t(eq)};
        auto expr = parseExpression(file, c_.diags, uint32_t(eq + 1));
        if (!expr) continue;
        if (key.parts.size() == 1 && key.parts[0].text == "seed") {
            if (expr->kind != ast::Expr::Kind::Number || !expr->isInteger || expr->number < 0) {
                c_.diags.error("seed", expr->span, "the seed must be a whole number of 0 or more")
                    .hints.push_back("for example `--set seed=42`");
                continue;
            }
            c_.pipeline.seed = int64_t(expr->number);
            c_.pipeline.seedOrigin = Origin::Override;
            continue;
        }
        auto setting = findSetting(key, key.span, true);
        if (!setting) continue;
        auto v = resolve(*expr, typeOf(*setting->param), Place{setting->param, "`" + key.text() + "`"});
        if (!v) continue;
        markOrigin(*v, origin);
        *setting->value = std::move(*v);
    }
}

void Checker::checkSweeps() {
    for (const ast::Statement* s : sweeps_) {
        Section* section = nullptr;
        for (auto& candidate : c_.pipeline.sections)
            if (candidate.kind == "sweep" && candidate.span.begin == s->span.begin &&
                candidate.span.file == s->span.file)
                section = &candidate;
        if (!section) continue;
        const Value* strategy = section->field("strategy");
        bool grid = !strategy || strategy->text == "grid";
        size_t points = 1;
        bool keys = false;                  // the sweep names a setting, even a wrong one
        std::map<std::string, Span> swept;  // key → where it is first swept
        stdlib::Param seedParam{"seed", "int", "0", "the seed", {}, 0, {}};
        for (const auto& f : s->fields) {
            bool seed = f.key.parts.size() == 1 && f.key.text() == "seed";
            if (f.key.parts.size() < 2 && !seed) continue;
            keys = true;
            const stdlib::Builtin* range =
                f.value->kind == ast::Expr::Kind::Call
                    ? stdlib::registry().find(stdlib::Family::SweepRange, f.value->path.text())
                    : nullptr;
            if (!range && (f.value->kind != ast::Expr::Kind::List || f.value->args.empty())) {
                auto& d = c_.diags.error("sweep-values", f.value->span, "a sweep field takes a list of values to try");
                if (f.value->kind == ast::Expr::Kind::List)
                    d.hints.push_back("give at least one value: `" + f.key.text() + " = [...]`");
                else
                    d.hints.push_back("write it as a list: `" + f.key.text() + " = [" +
                                      std::string(f.value->span.text()) + ", ...]`");
                continue;
            }
            if (auto [first, fresh] = swept.emplace(f.key.text(), f.key.span); !fresh) {
                c_.diags.error("duplicate-field", f.key.span, "`" + f.key.text() + "` is swept twice")
                    .notes.push_back({first->second, "first swept here"});
                continue;
            }
            const stdlib::Param* param = &seedParam;
            if (!seed) {
                auto setting = findSetting(f.key, f.key.span, true);
                if (!setting) continue;
                param = setting->param;
            }
            const Place place{param, seed ? std::string("`seed`") : "`" + f.key.text() + "`"};
            if (range) {
                auto v = resolveSweepRange(*f.value, *range, *param, f.key.text());
                if (!v) continue;
                if (range->name == "choice")
                    points *= v->items[0].items.size();
                else if (range->name == "int_range")
                    points *= size_t(v->arg("hi")->integer - v->arg("lo")->integer + 1);
                else if (grid) {
                    auto& d = c_.diags.error("sweep-grid", f.value->span,
                                             "`grid` runs every value of every field, but `" + range->name +
                                                 "` has no finite set of values");
                    d.hints.push_back(std::string(strategy && strategy->span.valid() ? "choose" : "add") +
                                      " a strategy that draws points: `strategy = random(trials = 20)`, "
                                      "`tpe(trials = 20)` or `asha(min_epochs = 1, reduction = 3)`");
                    d.hints.push_back("or list the values to try: `" + f.key.text() + " = [...]`");
                    continue;
                }
                v->span = f.value->span;
                section->fields.push_back({f.key.text(), std::move(*v)});
                continue;
            }
            Value list{Value::Kind::List};
            list.span = f.value->span;
            bool ok = true;
            for (const auto& item : f.value->args) {
                auto v = resolve(*item.value, typeOf(*param), place);
                if (v) list.items.push_back(std::move(*v));
                ok = ok && v;
            }
            if (!ok) continue;
            points *= list.items.size();
            section->fields.push_back({f.key.text(), std::move(list)});
        }
        if (!keys)
            c_.diags.warning("empty-sweep", s->keyword, "this sweep changes no setting, so it runs the file once")
                .hints.push_back("add a field such as `fit.optimizer.lr = [1e-3, 3e-3]`");
        else if (grid && points > 1000)
            c_.diags
                .warning("large-sweep", s->keyword,
                         "this grid has " + std::to_string(points) + " points; each is a whole run")
                .hints.push_back("use `strategy = random(trials = 20)` to sample some of them");
    }
}

}  // namespace pipelang
