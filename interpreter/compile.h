// The front end as one call: load a file and its imports, parse, resolve every
// name and value against the registry, apply `--set` overrides, check that the
// parts fit. Every error found is reported; nothing is read but .pipe files
// (and, for a few checks, the header line of a CSV source).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "interpreter/ast.h"
#include "interpreter/diagnostic.h"
#include "interpreter/pipeline.h"
#include "stdlib/registry.h"

namespace pipelang {

struct CompileOptions {
    std::vector<std::string> overrides;  // `key=value`, as given to --set
    // `key=value` settings a run read from a model folder's config.json
    // (its model-config.txt), so that the run's file compiles to the same
    // model where the folder is gone; origin "from config.json".
    std::vector<std::string> modelConfig = {};
};

struct Compilation {
    SourceManager sources;
    std::vector<ast::Module> modules;  // the main file last, its imports before it
    Pipeline pipeline;
    Diagnostics diags;

    bool ok() const { return !diags.hasErrors(); }
};

// Compiles the file at `path`.
std::unique_ptr<Compilation> compileFile(const std::string& path, const CompileOptions& options = {});
// Compiles text as if it were the file `name` (imports resolve next to `name`).
std::unique_ptr<Compilation> compileText(const std::string& name, std::string text, const CompileOptions& options = {});

// The value of `param`'s registry default (a parameter of the built-in
// `owner`), exactly as the checker fills it in where a call leaves it out:
// `none` for a default of none or auto. For code that builds calls itself
// (metrics named in a table, tests). Resolved once per process.
const Value& defaultArgument(const stdlib::Param& param, const std::string& owner);

}  // namespace pipelang
