// The registry and the runtime agree: every built-in the checker accepts has
// an implementation linked into pipe-runtime, and every implementation has a
// registry entry (with its signature, defaults and doc). So `pipe check` can
// never pass what `pipe run` cannot do.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

#include "cli/runtime_commands.h"
#include "pipe_command.h"
#include "record/sweep.h"
#include "stdlib/implementations.h"
#include "stdlib/registry.h"

using namespace pipelang::stdlib;

namespace {

// Families that are part of the language rather than code behind a name:
// the top-level blocks are the graph's stages (interpreter/graph.h), `column`
// names a table column where a block reads its input or label, and `slice`
// is a learning-rate range the optimizer reads.
const std::set<Family> kLanguage = {Family::Section, Family::Column, Family::Range};

std::set<std::pair<Family, std::string>> registered() {
    std::set<std::pair<Family, std::string>> out;
    for (const auto& b : registry().entries())
        if (!kLanguage.contains(b.family)) out.insert({b.family, b.name});
    return out;
}

std::set<std::pair<Family, std::string>> implementedSet() {
    return {implemented().begin(), implemented().end()};
}

}  // namespace

TEST(RegistryCoverage, EveryBuiltinHasAnImplementation) {
    // Sweep strategies live in record/ (a static library): running a sweep
    // links them, and so does this test, through the function that uses them.
    EXPECT_EQ(pipelang::record::points({}).size(), 1u);  // a grid of no axes: one point
    auto done = implementedSet();
    for (const auto& [family, name] : registered())
        EXPECT_TRUE(done.contains({family, name}))
            << familyName(family) << " `" << name
            << "` is in the registry, so `pipe check` accepts it, but no code implements it: register its maker "
               "beside its code (stdlib/implementations.h)";
}

TEST(RegistryCoverage, EveryImplementationHasARegistryEntry) {
    auto known = registered();
    for (const auto& [family, name] : implemented())
        EXPECT_TRUE(known.contains({family, name}))
            << familyName(family) << " `" << name
            << "` is implemented but has no registry entry (stdlib/): add its signature, defaults and doc";
}

TEST(RegistryCoverage, EveryFamilyIsImplementedOrLanguage) {
    // A new family must be decided on: implemented by makers, or part of the language.
    std::set<Family> implementedFamilies;
    for (const auto& [family, name] : implemented()) implementedFamilies.insert(family);
    for (Family family : allFamilies())
        EXPECT_NE(implementedFamilies.contains(family), kLanguage.contains(family)) << familyName(family);
}

// The commands `pipe` hands over (cli/runtime_commands.h) each have their
// file in cli/runtime/: `pipe NAME --help` reaches it and prints its usage.
TEST(RegistryCoverage, EveryRuntimeCommandIsBuilt) {
    for (const auto& command : pipelang::cli::kRuntimeCommands) {
        std::string args = command.name;
        args += " --help";
        auto r = pipelang::runtime::runPipeCommand(args);
        EXPECT_EQ(r.status, 0) << command.name << ": " << r.output;
        EXPECT_NE(r.output.find(std::string("pipe ") + command.name), std::string::npos) << r.output;
        EXPECT_EQ(r.output.find("use it through"), std::string::npos) << r.output;
    }
}
