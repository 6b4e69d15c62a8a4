// The checker's internals, shared by the files that implement its passes:
//   compile.cpp   loading and imports, declarations, the order of the passes
//   resolve.cpp   values against the registry's types (names, calls, defaults)
//   settings.cpp  dotted setting paths: `--set` overrides and sweep keys
//   matching.cpp  values derived from the data, and the checks that the parts match
// Not a public header: use compile.h.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "interpreter/compile.h"
#include "stdlib/registry.h"

namespace pipelang {

// A declared top-level block or `let`, by name.
struct Declaration {
    const ast::Statement* statement = nullptr;
    std::string kind;  // tokenizer, data, model, train, sweep, let
    std::string name;
    Span nameSpan;  // the name, or the keyword when the name is implied
};

// Says what a value is for in messages: "`lr` of `adamw`", "field `batch_size`".
struct Place {
    const stdlib::Param* param = nullptr;
    std::string what;
};

class Checker {
public:
    Checker(Compilation& c, const CompileOptions& options) : c_(c), options_(options) {}
    void run(const std::string& mainPath, const SourceFile* mainFile);

    // resolve.cpp
    // Null when the value is wrong; what is wrong is in the diagnostics.
    std::optional<Value> resolve(const ast::Expr& e, const stdlib::Type& type, const Place& place);
    std::optional<Value> resolveCall(const ast::Expr& e, const stdlib::Builtin& b, const std::string& prefix);
    Value defaultValue(const stdlib::Param& p, const std::string& owner);
    static const stdlib::Type& typeOf(const stdlib::Param& p);

private:
    // compile.cpp
    void load(const SourceFile& file, std::vector<const SourceFile*>& stack);
    void declare();
    void declare(const ast::Statement& s, const std::string& kind, const std::string& name, Span nameSpan);
    void checkLetCycles();
    Section resolveSection(const ast::Statement& s);
    Section resolveStatement(const ast::Statement& s);
    void fillFields(Section& section, const std::map<std::string, const ast::Field*>& written,
                    const std::set<std::string>& misspelt, Span where);
    void warnUnused();

    // resolve.cpp
    std::optional<Value> resolveExpr(const ast::Expr& e, const stdlib::Type& type, const Place& place);
    bool reportTooDeep(Span where);  // false: it was reported before
    std::optional<Value> resolveName(const ast::Expr& e, const stdlib::Type& type, const Place& place);
    std::optional<Value> resolveRef(const ast::Expr& e, const stdlib::Type& type, const Place& place);
    std::optional<Value> resolveLet(const ast::Expr& e, const Declaration& let, const stdlib::Type& type,
                                    const Place& place);
    bool checkConstraints(const Value& v, const stdlib::Param& p, const std::string& what);
    // A sweep field's range (`uniform(lo, hi)`, `choice([...])`) for the
    // setting `key` takes: its bounds ordered, above 0 on a log scale, within
    // the setting's own limits. Null when it is wrong (reported).
    std::optional<Value> resolveSweepRange(const ast::Expr& e, const stdlib::Builtin& range, const stdlib::Param& param,
                                           const std::string& key);
    void mismatch(const ast::Expr& e, const stdlib::Type& type, const Place& place);
    std::vector<std::string> blockNames(const std::string& kind) const;
    bool hasBlock(const std::string& name, const std::string& kind) const;  // counting duplicates

    // settings.cpp
    struct Setting {
        Value* value = nullptr;                // the value at the path
        const stdlib::Param* param = nullptr;  // its parameter (type, constraints)
        std::string owner;                     // "`adamw`" or "the train block `fit`"
    };
    std::optional<Setting> findSetting(const ast::Path& path, Span where, bool report);
    void applyOverrides();
    void checkSweeps();

    // matching.cpp
    void derive();

    // pretrained.cpp
    void configureFromWeights(Section& model);
    void normalizeForWeights(Section& data, const Section& model);

    // matching.cpp
    void checkFit();
    DataShape shapeOf(const Section& data) const;  // empty when the blocks are malformed
    void checkData(const Section& data);
    void checkAugmentation(const Section& data);  // augment_checks.cpp
    void checkTta(const Section& evaluate);       // augment_checks.cpp
    void checkTimeOrder(const Section& data, const Value& input);
    void checkColumns(const Section& data, const Value& source, const std::filesystem::path& file);
    void checkTrain(const Section& train);
    // What makes a model's features, following `stage.backbone` to a built-in
    // call; null or not a call when the chain ends elsewhere or goes round.
    const Value* featureMaker(const Section& model);
    void checkTokenizer(const Section& tokenizer);
    void checkStages();
    void checkContract(const Value& v, const std::string& kind, const char* role, stdlib::Family family, Span fallback);

    Compilation& c_;
    const CompileOptions& options_;
    std::map<std::string, Declaration> decls_;              // blocks and lets by name
    std::multimap<std::string, Declaration> duplicates_;    // later declarations of a name, already reported
    std::set<std::string> failedRefKinds_;                  // block kinds a reference failed to find, e.g. "data"
    std::set<std::string> usedNames_;                       // declarations something refers to
    std::vector<std::string> letStack_;                     // lets being resolved, to find cycles
    std::set<std::set<std::string>> reportedCycles_;        // let cycles already reported
    std::map<const Section*, const Value*> featureMakers_;  // featureMaker's answers, per model
    int depth_ = 0;                                         // brackets and lets around the value being resolved
    bool reportedTooDeep_ = false;                          // a value deeper than kMaxNesting, once per file set
    std::vector<const ast::Statement*> sweeps_;             // sweep blocks, for their dotted keys
    std::set<std::string> loaded_;                          // canonical paths of loaded files
    std::vector<std::pair<Span, std::string>> importedAt_;  // per file being loaded: the import that loaded it
};

}  // namespace pipelang
