// Layer groups: the parts of a model that `lr = slice(lo, hi)` gives rates
// evenly spaced on a log scale, fastai's discriminative learning rates. Each
// backbone's split is its registry entry's (stdlib/models.cpp); the runtime
// builds the optimizer's parameter groups from these, and `pipe plan` shows
// each group's rate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "interpreter/pipeline.h"

namespace pipelang {

// The layer groups of a model whose backbone is the resolved call `backbone`:
// the backbone's, from the input on, then the head, named "head" (it has no
// patterns: every parameter of the head is in it). A backbone without a split
// in the registry is one group, "backbone".
std::vector<stdlib::LayerGroup> layerGroups(const Value& backbone);
// The same, or nothing when the call asks for more than `most` of what its
// groups count (a mistyped `layers = 100000000`): `pipe plan` lists groups
// only where that is a list a person reads, and never makes a line per layer
// of a network no one could build.
std::optional<std::vector<stdlib::LayerGroup>> layerGroupsUpTo(const Value& backbone, int64_t most);

// fastai's even_mults: `n` rates from `lo` (the first) to `hi` (the last),
// evenly spaced on a log scale; one group takes `hi`. From `lo = 0` every
// group but the last takes 0, the limit of the spacing.
std::vector<double> evenMults(double lo, double hi, size_t n);

// The peak rates of a model's first layer group and of its head.
struct RateRange {
    double lo = 0;
    double hi = 0;
};
// What a resolved optimizer call asks for: `lr = slice(lo, hi)`, or its one
// `lr` for every group.
RateRange optimizerRates(const Value& optimizer);
// The peak rates of a `fine_tune` schedule's unfrozen epochs, as fastai's
// fine_tune: base_lr / 2 / lr_mult .. base_lr / 2, where base_lr is by
// default the optimizer's head rate `hi`.
RateRange fineTuneRates(const Value& schedule, double hi);

// The backbone call of a model section, following `backbone = stage.backbone`
// to the model that stage trained; null when there is none to be found.
const Value* backboneOf(const Pipeline& pipeline, const Section& model);

}  // namespace pipelang
