// The execution graph: the contract between the interpreter and the runtime
// (DESIGN.md §4). Its nodes are the stages a run performs — load a data
// block's items, fit or load a tokenizer, prepare a data block, train,
// evaluate, export — and its edges are the artifacts one stage hands the next.
// The runtime runs the stages in the order given, records each artifact, and
// so can resume, reuse a finished stage, or start from another's weights.
// `pipe graph` draws exactly this graph. Sweeps are not stages: a sweep runs
// the whole graph once per combination of settings.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/pipeline.h"

namespace pipelang {

enum class StageKind {
    Load,       // scan a data block's source, split its items
    Tokenizer,  // train a tokenizer on a split's text, or load its model
    Prepare,    // vocabularies, normalisation statistics, encoding of a data block
    Train,      // fit a model to a prepared data block
    Evaluate,   // score a trained model on a data split
    Export,     // write a trained model's weights
};
const char* stageKindName(StageKind kind);  // "load", "tokenizer", ...

struct StageInput {
    size_t stage;          // index into Graph::stages, always earlier than the stage that takes it
    std::string artifact;  // what it hands over: "items + split", "weights", ...
};

struct Stage {
    StageKind kind = StageKind::Load;
    std::string name;                  // the block's name; for evaluate `fit on fashion.test`
    const Section* section = nullptr;  // the block this stage runs (owned by the Pipeline)
    std::vector<StageInput> inputs;
    // The settings that tell stages apart at a glance (backbone, schedule, ...),
    // as `name: value` pairs for display; the runtime reads `section` instead.
    std::vector<std::pair<std::string, std::string>> summary;

    std::string title() const { return std::string(stageKindName(kind)) + " " + name; }
};

struct Graph {
    std::vector<Stage> stages;  // in run order: every stage after all of its inputs

    std::optional<size_t> find(StageKind kind, const std::string& name) const;
};

// Compiles a checked pipeline into its graph. The graph points into the
// pipeline, which must outlive it. A pipeline that did not check may give a
// partial graph (stages whose references did not resolve have fewer inputs).
Graph buildGraph(const Pipeline& pipeline);

// Numbered stages in run order, each with its inputs beneath it.
std::string renderText(const Graph& graph);
// A Graphviz `digraph`: a box per stage labelled with its key settings, an
// arrow per input labelled with its artifact.
std::string renderDot(const Graph& graph);

}  // namespace pipelang
