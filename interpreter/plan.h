// `pipe plan`: the checked pipeline as a researcher reads it — every field of
// every block and every parameter of every call, each marked with where its
// value came from (written, default, from data, override), and the learning
// rate of each layer group where `slice(lo, hi)` or `fine_tune` spreads them —
// and the same tree as JSON for tools.
#pragma once

#include <string>

#include "interpreter/pipeline.h"

namespace pipelang {

// One line per setting, nested calls indented beneath their parameter, the
// origins in one aligned `# ...` column. Ends with a newline.
std::string renderPlan(const Pipeline& pipeline);

// The same tree as JSON: {"seed": {...}, "sections": [{"kind", "name", "fields": {...}}]};
// every value is {"origin", "kind", "text", ...} with "value", "items" or
// "call" + "args" as its kind needs. Pretty-printed, ends with a newline.
std::string renderPlanJson(const Pipeline& pipeline);

}  // namespace pipelang
