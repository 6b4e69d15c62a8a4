#include <map>
#include <string>

#include "metrics/predictions.h"

namespace pipelang::metrics {

double score(const Value& call, const Predictions& p) {
    const Metric* metric = MetricMakers::find(call.text);
    if (!metric || !metric->score) throw MetricError("`" + call.text + "` is not a metric with a value");
    return metric->score(call, p);
}

bool isScalar(const Value& call) {
    const Metric* metric = MetricMakers::find(call.text);
    return metric && !metric->table;
}

const Value* defaultCall(const std::string& name) {
    // Calls without arguments: a metric reads a missing argument's default
    // from its registry entry (metrics/arguments.h).
    static std::map<std::string, Value> calls;
    const stdlib::Builtin* builtin = stdlib::registry().find(stdlib::Family::Metric, name);
    if (!builtin) return nullptr;
    auto [at, fresh] = calls.try_emplace(name, Value::Kind::Call);
    if (fresh) {
        at->second.text = name;
        at->second.builtin = builtin;
    }
    return &at->second;
}

}  // namespace pipelang::metrics
