// libFuzzer target: a .pipe file through what `pipe check`, `pipe check
// --fix`, `pipe fmt` and `pipe plan` do with it. Beyond not crashing, it
// holds the front end to what tests/unit/fuzz_test.cpp asks of mutated
// examples: every diagnostic says something and points inside the file, and
// whatever parses formats to a file that parses to the same tree and formats
// to itself.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "interpreter/compile.h"
#include "interpreter/fixes.h"
#include "interpreter/format.h"
#include "interpreter/parse.h"
#include "interpreter/plan.h"

namespace {

using namespace pipelang;

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz_check: %s\n%s\n", what, detail.c_str());
    std::abort();
}

// Inside examples/, so that imports of the examples and their CSV headers are found.
const std::string kName = PIPE_SOURCE_DIR "/examples/fuzz_input.pipe";

void checkDiagnostics(const Compilation& c) {
    for (const auto& d : c.diags.items()) {
        if (d.message.empty()) fail("an empty diagnostic", render(c.diags));
        if (d.span.valid() && d.span.end > d.span.file->text.size())
            fail("a diagnostic past the end of its file", render(d));
    }
    render(c.diags);
    render(c.diags, RenderOptions{.color = true});
}

void checkFormat(const std::string& text) {
    SourceManager sources;
    Diagnostics diags;
    ast::Module module = parse(sources.add(kName, text), diags);
    if (diags.hasErrors()) return;  // pipe fmt refuses it, as it should
    std::string once = format(module);
    SourceManager again;
    Diagnostics diags2;
    ast::Module reparsed = parse(again.add(kName, once), diags2);
    if (diags2.hasErrors()) fail("the formatted text does not parse", once + "\n" + render(diags2));
    if (ast::dump(module) != ast::dump(reparsed)) fail("formatting changed the meaning", once);
    if (format(reparsed) != once) fail("formatting is not idempotent", once);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto c = compileText(kName, text);
    if (!c) fail("compileText gave nothing", text);
    checkDiagnostics(*c);
    if (c->ok()) {
        renderPlan(c->pipeline);
        renderPlanJson(c->pipeline);
    }
    // --fix: the fixes made, then the file checked again.
    FixedFiles fixed = applyFixes(*c);
    if (auto it = fixed.texts.find(kName); it != fixed.texts.end()) {
        auto again = compileText(kName, it->second);
        checkDiagnostics(*again);
    }
    checkFormat(text);
    return 0;
}
