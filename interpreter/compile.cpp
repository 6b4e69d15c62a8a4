// Loading, imports and declarations, and the order of the checker's passes.
#include "interpreter/compile.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>

#include "interpreter/checker.h"
#include "interpreter/limits.h"
#include "interpreter/parse.h"

namespace pipelang {

namespace fs = std::filesystem;

namespace {

std::string canonical(const std::string& path) {
    std::error_code ec;
    auto p = fs::weakly_canonical(fs::path(path), ec);
    return ec ? path : p.string();
}

std::string keyword(ast::Statement::Kind kind) {
    switch (kind) {
    case ast::Statement::Kind::Seed: return "seed";
    case ast::Statement::Kind::Import: return "import";
    case ast::Statement::Kind::Let: return "let";
    case ast::Statement::Kind::Block: return "block";
    case ast::Statement::Kind::Evaluate: return "evaluate";
    case ast::Statement::Kind::Export: return "export";
    }
    return "";
}

}  // namespace

void Checker::load(const SourceFile& file, std::vector<const SourceFile*>& stack) {
    stack.push_back(&file);
    ast::Module module = parse(file, c_.diags);
    fs::path dir = fs::path(file.name).parent_path();
    for (const auto& s : module.statements) {
        if (s.kind != ast::Statement::Kind::Import) continue;
        std::string path = (dir / s.importPath).lexically_normal().string();
        std::string key = canonical(path);
        auto onStack =
            std::find_if(stack.begin(), stack.end(), [&](const SourceFile* f) { return canonical(f->name) == key; });
        if (onStack == stack.end() - 1) {
            c_.diags.error("import-cycle", s.importSpan, "a file cannot import itself")
                .hints.push_back("remove this import");
            continue;
        }
        if (onStack != stack.end()) {
            auto& d = c_.diags.error("import-cycle", s.importSpan, "`" + s.importPath + "` imports this file back");
            d.hints.push_back("a file cannot import, directly or not, a file that imports it");
            // The imports that lead from that file to this one.
            for (size_t i = size_t(onStack - stack.begin()) + 1; i < stack.size(); ++i)
                d.notes.push_back({importedAt_[i].first, "`" + importedAt_[i].second + "` is imported here"});
            continue;
        }
        if (loaded_.count(key)) continue;  // imported twice: once is enough
        std::error_code ec;
        if (s.importPath.empty()) {
            c_.diags.error("import-missing", s.importSpan, "an import needs a file name")
                .hints.push_back("for example `import \"shared.pipe\"`");
            continue;
        }
        if (fs::is_directory(path, ec)) {
            c_.diags.error("import-missing", s.importSpan, "`" + s.importPath + "` is a folder, not a .pipe file");
            continue;
        }
        const SourceFile* imported = fs::is_regular_file(path, ec) ? c_.sources.load(path) : nullptr;
        if (!imported) {
            auto& d = c_.diags.error("import-missing", s.importSpan, "cannot read `" + s.importPath + "`");
            // A near-miss among the .pipe files of the folder it names.
            fs::path wanted(s.importPath);
            std::vector<std::string> siblings;
            for (const auto& entry :
                 fs::directory_iterator(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path(), ec))
                if (entry.path().extension() == ".pipe") siblings.push_back(entry.path().filename().string());
            std::sort(siblings.begin(), siblings.end());
            if (auto guess = closest(wanted.filename().string(), siblings); !guess.empty())
                d.didYouMean("`" + (wanted.parent_path() / guess).string() + "`", s.importSpan,
                             "\"" + (wanted.parent_path() / guess).string() + "\"");
            else
                d.hints.push_back("imports are found relative to the importing file: looked for `" + path + "`");
            continue;
        }
        if (stack.size() >= size_t(limits::kMaxImportDepth)) {
            auto& d = c_.diags.error("import-depth", s.importSpan,
                                     "this import is more than " + std::to_string(limits::kMaxImportDepth) +
                                         " files deep, the most pipe follows");
            d.hints.push_back(
                "import the files side by side from one file instead of each from the one before "
                "(docs/limits.md lists pipe's limits)");
            continue;
        }
        loaded_.insert(key);
        importedAt_.push_back({s.importSpan, s.importPath});
        load(*imported, stack);
        importedAt_.pop_back();
    }
    c_.modules.push_back(std::move(module));
    stack.pop_back();
}

void Checker::declare(const ast::Statement& s, const std::string& kind, const std::string& name, Span nameSpan) {
    auto [it, fresh] = decls_.emplace(name, Declaration{&s, kind, name, nameSpan});
    if (fresh) return;
    // Uses of the name and warnings about it would only echo this error.
    duplicates_.emplace(name, Declaration{&s, kind, name, nameSpan});
    const Declaration& first = it->second;
    if (!s.name && kind == first.kind && kind != "let") {
        auto& d = c_.diags.error("unnamed-twice", nameSpan, "a second " + kind + " block needs a name");
        d.hints.push_back("name both: `" + kind + " NAME { ... }`");
        d.notes.push_back({first.nameSpan, "the other " + kind + " block"});
        return;
    }
    auto& d = c_.diags.error("duplicate-name", nameSpan, "the name `" + name + "` is already used");
    d.notes.push_back(
        {first.nameSpan, first.kind == "let" ? "by the `let` here" : "by the " + first.kind + " block here"});
    d.hints.push_back("every block and `let` needs a name of its own");
}

void Checker::declare() {
    for (const auto& m : c_.modules) {
        for (const auto& s : m.statements) {
            if (s.kind == ast::Statement::Kind::Let) declare(s, "let", s.name->text, s.name->span);
            if (s.kind == ast::Statement::Kind::Block) {
                std::string kind = ast::blockKindName(s.blockKind);
                declare(s, kind, s.name ? s.name->text : kind, s.name ? s.name->span : s.keyword);
            }
        }
    }
}

void Checker::checkLetCycles() {
    // Lets are resolved where they are used, with the type of the place; a
    // circle among them is found here once, used or not.
    std::map<std::string, int> state;  // 0 new, 1 on the path, 2 done
    std::vector<std::string> path;
    // `depth` counts brackets and lets as resolve() does, so that a chain of
    // thousands of lets cannot exhaust the stack here either.
    std::function<void(const std::string&, int)> visit;
    std::function<void(const ast::Expr&, int)> walk = [&](const ast::Expr& e, int depth) {
        if (depth > limits::kMaxNesting) {
            reportTooDeep(e.span);
            return;
        }
        if (e.kind == ast::Expr::Kind::Ref && e.path.parts.size() == 1) {
            auto it = decls_.find(e.path.parts[0].text);
            if (it == decls_.end() || it->second.kind != "let") return;
            const std::string& name = it->first;
            if (state[name] == 1) {
                auto start = std::find(path.begin(), path.end(), name);
                std::set<std::string> members(start, path.end());
                if (!reportedCycles_.insert(members).second) return;
                usedNames_.insert(members.begin(), members.end());  // "unused" would add nothing
                std::string chain;
                for (auto p = start; p != path.end(); ++p) chain += "`" + *p + "` → ";
                auto& d = c_.diags.error("let-cycle", e.span, "`" + name + "` is defined in terms of itself");
                d.hints.push_back("the chain is " + chain + "`" + name + "`");
            } else if (state[name] == 0) {
                visit(name, depth + 1);
            }
        }
        for (const auto& a : e.args) walk(*a.value, depth + 1);
    };
    visit = [&](const std::string& name, int depth) {
        state[name] = 1;
        path.push_back(name);
        walk(*decls_.at(name).statement->value, depth);
        path.pop_back();
        state[name] = 2;
    };
    for (const auto& [name, d] : decls_)
        if (d.kind == "let" && state[name] == 0) visit(name, 0);
}

void Checker::fillFields(Section& section, const std::map<std::string, const ast::Field*>& written,
                         const std::set<std::string>& misspelt, Span where) {
    std::vector<std::string> missing;
    for (const auto& p : section.schema->params) {
        auto it = written.find(p.name);
        if (it != written.end()) {
            Place place{&p, "`" + p.name + "`"};
            auto v = resolve(*it->second->value, typeOf(p), place);
            section.fields.push_back({p.name, v ? std::move(*v) : Value{}});
            if (!v) section.fields.back().second.origin = Origin::Written;
            continue;
        }
        if (misspelt.count(p.name) && !written.count(p.name)) {
            // Its error is the misspelling: checks see it as written but failed.
            Value failed;
            failed.origin = Origin::Written;
            section.fields.push_back({p.name, failed});
            continue;
        }
        if (p.required()) missing.push_back(p.name);
        section.fields.push_back({p.name, defaultValue(p, section.kind)});
    }
    for (const auto& name : missing) {
        const auto* p = section.schema->param(name);
        auto& d = c_.diags.error("missing-field", where,
                                 "the " + section.kind + " block `" + section.name + "` needs `" + name + "`");
        d.hints.push_back("add `" + name + " = ...`: " + p->doc);
    }
}

Section Checker::resolveSection(const ast::Statement& s) {
    Section section;
    section.kind = ast::blockKindName(s.blockKind);
    section.schema = stdlib::registry().find(stdlib::Family::Section, section.kind);
    section.name = s.name ? s.name->text : section.kind;
    section.named = s.name.has_value();
    section.span = s.span;
    section.nameSpan = s.name ? s.name->span : s.keyword;
    std::map<std::string, const ast::Field*> written;
    std::set<std::string> misspelt;  // fields an unknown name was probably meant as
    for (const auto& f : s.fields) {
        const std::string key = f.key.text();
        if (f.key.parts.size() > 1 || (s.blockKind == ast::BlockKind::Sweep && key == "seed")) {
            if (s.blockKind != ast::BlockKind::Sweep) {
                auto& d =
                    c_.diags.error("dotted-field", f.key.span, "only a sweep takes dotted names like `" + key + "`");
                // Name the call: the one written for that field, or its default.
                std::string call = "name";
                if (const auto* p = section.schema->param(f.key.parts[0].text)) {
                    if (auto paren = p->defaultValue.find('('); paren != std::string::npos)
                        call = p->defaultValue.substr(0, paren);
                    else if (!p->defaultValue.empty() && p->defaultValue != "none" && p->defaultValue != "auto")
                        call = p->defaultValue;
                }
                for (const auto& other : s.fields)
                    if (other.key.parts.size() == 1 && other.key.parts[0].text == f.key.parts[0].text &&
                        (other.value->kind == ast::Expr::Kind::Call || other.value->kind == ast::Expr::Kind::Ref))
                        call = other.value->path.text();
                d.hints.push_back("to change a setting of a call, write the call: `" + f.key.parts[0].text + " = " +
                                  call + "(" + f.key.parts.back().text + " = ...)`");
            }
            continue;  // sweep keys are checked once every block is resolved
        }
        std::vector<std::string> names;
        for (const auto& p : section.schema->params) names.push_back(p.name);
        if (!section.schema->param(key)) {
            if (s.blockKind == ast::BlockKind::Sweep) {
                // A misspelt field of the sweep itself, or a setting without its block.
                if (auto guess = closest(key, names); !guess.empty()) {
                    c_.diags.error("unknown-field", f.key.span, "a sweep block has no field `" + key + "`")
                        .didYouMean("`" + guess + "`", f.key.span, guess);
                    continue;
                }
                auto& d = c_.diags.error("sweep-key", f.key.span, "a sweep field names a setting as `block.field`");
                d.hints.push_back("for example `fit.optimizer.lr = [1e-3, 3e-3]`");
                continue;
            }
            auto& d =
                c_.diags.error("unknown-field", f.key.span, "a " + section.kind + " block has no field `" + key + "`");
            if (auto guess = closest(key, names); !guess.empty()) {
                d.didYouMean("`" + guess + "`", f.key.span, guess);
                misspelt.insert(guess);
            } else {
                std::string list;
                for (size_t i = 0; i < names.size(); ++i)
                    list += (i == 0 ? "`" : i + 1 == names.size() ? " and `" : ", `") + names[i] + "`";
                d.hints.push_back("its fields are " + list);
            }
            continue;
        }
        auto [it, fresh] = written.emplace(key, &f);
        if (!fresh) {
            auto& d = c_.diags.error("duplicate-field", f.key.span, "`" + key + "` is set twice");
            d.notes.push_back({it->second->key.span, "first set here"});
        }
    }
    fillFields(section, written, misspelt, s.name ? s.name->span : s.keyword);
    return section;
}

Section Checker::resolveStatement(const ast::Statement& s) {
    Section section;
    section.kind = keyword(s.kind);
    section.schema = stdlib::registry().find(stdlib::Family::Section, section.kind);
    section.span = s.span;
    section.nameSpan = s.keyword;
    // `evaluate A on B with C` and `export A to F` are fields under the hood.
    std::vector<std::unique_ptr<ast::Expr>> owned;
    auto refExpr = [&](const ast::Path& path) {
        auto e = std::make_unique<ast::Expr>();
        e->kind = ast::Expr::Kind::Ref;
        e->path = path;
        e->span = path.span;
        owned.push_back(std::move(e));
        return owned.back().get();
    };
    std::vector<ast::Field> fields;
    auto add = [&](const char* name, const ast::Expr* e) {
        if (!e) return;
        const auto* p = section.schema->param(name);
        // Messages name what the user wrote: `evaluate`/`export` for the stage.
        std::string what = std::string(name) == "stage" ? section.kind : name;
        auto v = resolve(*e, typeOf(*p), Place{p, "`" + what + "`"});
        section.fields.push_back({name, v ? std::move(*v) : Value{}});
    };
    add("stage", refExpr(s.subject));
    if (s.kind == ast::Statement::Kind::Evaluate) {
        section.name = s.subject.text() + " on " + s.target.text();
        add("on", refExpr(s.target));
        if (s.value)
            add("with", s.value.get());
        else
            section.fields.push_back({"with", defaultValue(*section.schema->param("with"), "evaluate")});
        if (s.tta)
            add("tta", s.tta.get());
        else
            section.fields.push_back({"tta", defaultValue(*section.schema->param("tta"), "evaluate")});
    } else {
        section.name = s.subject.text() + " to " + (s.value->kind == ast::Expr::Kind::String ? s.value->text : "?");
        add("to", s.value.get());
    }
    return section;
}

void Checker::warnUnused() {
    for (const auto& [name, d] : decls_) {
        if (usedNames_.count(name) || duplicates_.count(name)) continue;
        // A reference that failed to resolve may have meant this block.
        if (failedRefKinds_.count(d.kind)) continue;
        if (d.kind == "let") {
            c_.diags.warning("unused", d.nameSpan, "`" + name + "` is never used");
        } else if (d.kind == "data" || d.kind == "model" || d.kind == "tokenizer") {
            // A block in an imported file may be there for other importers.
            if (d.statement->span.file != c_.modules.back().file) continue;
            auto& w = c_.diags.warning("unused", d.nameSpan, "the " + d.kind + " block `" + name + "` is never used");
            w.hints.push_back(d.kind == "tokenizer"
                                  ? "use it in a `text(tokenizer = " + name + ")` block"
                                  : "refer to it from a train block: `" + d.kind + " = " + name + "`");
        }
    }
}

void Checker::run(const std::string& mainPath, const SourceFile* mainFile) {
    (void)mainPath;
    std::vector<const SourceFile*> stack;
    importedAt_.push_back({Span{}, mainFile->name});
    loaded_.insert(canonical(mainFile->name));
    load(*mainFile, stack);
    // Syntax errors leave holes in the tree; checking around them would mostly
    // report their echoes, so the checker waits until the syntax is right.
    if (c_.diags.hasErrors()) {
        c_.diags.sort();
        return;
    }
    declare();
    checkLetCycles();
    for (const auto& m : c_.modules) {
        for (const auto& s : m.statements) {
            switch (s.kind) {
            case ast::Statement::Kind::Seed:
                // Modules come imports first, so the main file's seed wins.
                if (s.value->kind != ast::Expr::Kind::Number || !s.value->isInteger || s.value->number < 0) {
                    c_.diags.error("seed", s.value->span, "the seed must be a whole number of 0 or more")
                        .hints.push_back("for example `seed 42`");
                } else {
                    c_.pipeline.seed = int64_t(s.value->number);
                    c_.pipeline.seedOrigin = Origin::Written;
                }
                break;
            case ast::Statement::Kind::Block: {
                Section section = resolveSection(s);
                c_.pipeline.sections.push_back(std::move(section));
                if (s.blockKind == ast::BlockKind::Sweep) sweeps_.push_back(&s);
                break;
            }
            case ast::Statement::Kind::Evaluate:
            case ast::Statement::Kind::Export: c_.pipeline.sections.push_back(resolveStatement(s)); break;
            default: break;
            }
        }
    }
    // Two seeds in one file: the second is a mistake, not an override.
    for (const auto& m : c_.modules) {
        const ast::Statement* first = nullptr;
        for (const auto& s : m.statements) {
            if (s.kind != ast::Statement::Kind::Seed) continue;
            if (first) {
                auto& d = c_.diags.error("duplicate-seed", s.keyword, "the seed is set twice");
                d.notes.push_back({first->keyword, "first set here"});
            }
            first = &s;
        }
    }
    if (!c_.pipeline.seed) {
        c_.pipeline.seed = 0;
        c_.pipeline.seedOrigin = Origin::Default;
    }
    c_.pipeline.index();
    applyOverrides();
    derive();
    checkFit();
    checkSweeps();
    warnUnused();
    c_.diags.sort();
}

namespace {

std::unique_ptr<Compilation> compileLoaded(std::unique_ptr<Compilation> c, const SourceFile* file,
                                           const CompileOptions& options) {
    Checker checker(*c, options);
    checker.run(file->name, file);
    return c;
}

}  // namespace

std::unique_ptr<Compilation> compileFile(const std::string& path, const CompileOptions& options) {
    auto c = std::make_unique<Compilation>();
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        c->diags.error("read", Span{}, "`" + path + "` is a directory, not a .pipe file");
        return c;
    }
    const SourceFile* file = c->sources.load(path);
    if (!file) {
        c->diags.error("read", Span{}, "cannot read `" + path + "`: " + std::strerror(errno));
        return c;
    }
    return compileLoaded(std::move(c), file, options);
}

std::unique_ptr<Compilation> compileText(const std::string& name, std::string text, const CompileOptions& options) {
    auto c = std::make_unique<Compilation>();
    const SourceFile* file = &c->sources.add(name, std::move(text));
    return compileLoaded(std::move(c), file, options);
}

}  // namespace pipelang
