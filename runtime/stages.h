// Runs an execution graph (interpreter/graph.h), the contract between the
// interpreter and the runtime: the stages in the graph's order, each taking
// the artifacts its inputs — the graph's edges — handed on. A stage is never
// looked up by name; what `pipe graph` draws is what runs.
#pragma once

#include <cstdint>
#include <filesystem>

#include "interpreter/graph.h"
#include "runtime/execute.h"

namespace pipelang::runtime {

class RunRecord;

void runStages(const Pipeline& pipeline, const Graph& graph, const RunOptions& options,
               const std::filesystem::path& runDir, uint64_t seed, RunRecord& record);

}  // namespace pipelang::runtime
