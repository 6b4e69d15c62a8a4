// `pipe doc [NAME] [--markdown]`: the reference of the built-ins, from the registry.
#include "stdlib/doc.h"
#include "cli/common.h"

namespace pipelang::cli {

namespace {

// Every name `pipe doc` knows, for "did you mean".
std::vector<std::string> knownNames() {
    std::vector<std::string> names;
    for (const auto& b : stdlib::registry().entries()) names.push_back(b.name);
    for (auto f : stdlib::allFamilies()) names.push_back(stdlib::familyName(f));
    return names;
}

// The entries named `name`, or else every entry of the family named `name`
// (`pipe doc optimizer`).
std::vector<const stdlib::Builtin*> entriesFor(const std::string& name) {
    auto found = stdlib::registry().lookup(name);
    if (found.empty())
        if (auto family = stdlib::familyFromName(name)) found = stdlib::registry().all(*family);
    return found;
}

}  // namespace

int doc(const std::vector<std::string>& args) {
    CLI::App app{
        "Print the reference of the built-ins: signature, parameters (type, default, allowed values) "
        "and contracts. With NAME, only the built-ins of that name, or of that family."};
    std::string name;
    bool markdown = false;
    bool names = false;
    app.add_option("name", name, "a built-in (`adamw`, `data`) or a family (`optimizer`); all when left out");
    app.add_flag("--markdown", markdown, "print Markdown, as docs/reference.md holds it");
    app.add_flag("--names", names, "print the name of every built-in, one a line (for editor grammars)")
        ->excludes("name")
        ->excludes("--markdown");
    if (int code = parseArgs(app, "doc", args); code >= 0) return code;
    if (names) {
        std::fputs(stdlib::renderNames().c_str(), stdout);
        return kOk;
    }
    if (name.empty()) {
        std::fputs((markdown ? stdlib::renderReference() : stdlib::renderTextReference()).c_str(), stdout);
        return kOk;
    }
    auto entries = entriesFor(name);
    if (entries.empty()) {
        std::fprintf(stderr, "pipe doc: unknown built-in `%s`", name.c_str());
        if (auto guess = closest(name, knownNames()); !guess.empty())
            std::fprintf(stderr, "; did you mean `%s`?", guess.c_str());
        std::fprintf(stderr, "\nrun `pipe doc` for the list of built-ins\n");
        return kBadInput;
    }
    std::fputs((markdown ? stdlib::renderMarkdown(entries) : stdlib::renderText(entries)).c_str(), stdout);
    return kOk;
}

}  // namespace pipelang::cli
