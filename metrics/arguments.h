// A metric's numeric argument: as written or resolved, else the default
// its registry entry gives (for calls built from a name, see defaultCall).
#pragma once

#include <string>

#include "interpreter/compile.h"
#include "metrics/predictions.h"

namespace pipelang::metrics {

inline double numberArgument(const Value& call, const char* name) {
    if (const Value* v = call.arg(name); v && !v->isNone())
        return v->kind == Value::Kind::Int ? double(v->integer) : v->number;
    const stdlib::Param* param = call.builtin ? call.builtin->param(name) : nullptr;
    if (!param) throw MetricError("`" + call.text + "` has no argument `" + name + "`");
    const Value& v = defaultArgument(*param, call.text);
    return v.kind == Value::Kind::Int ? double(v.integer) : v.number;
}

}  // namespace pipelang::metrics
