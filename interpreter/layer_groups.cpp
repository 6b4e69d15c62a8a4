#include "interpreter/layer_groups.h"

#include <cmath>
#include <iterator>
#include <limits>

namespace pipelang {

namespace {

// A built-in's int argument, or the length of its list argument; 0 when it
// has neither (the registry's split then makes no group of it).
int64_t sizeOf(const Value& call, std::string_view param) {
    const Value* v = call.arg(param);
    if (!v) return 0;
    if (v->kind == Value::Kind::Int) return v->integer;
    if (v->kind == Value::Kind::List || v->kind == Value::Kind::Tuple) return int64_t(v->items.size());
    return 0;
}

// The block a reference (`lm`, `pre.backbone`) names.
const Section* referenced(const Pipeline& pipeline, std::string_view kind, const Value* ref) {
    if (!ref || (ref->kind != Value::Kind::Ref && ref->kind != Value::Kind::String)) return nullptr;
    return pipeline.find(kind, std::string_view(ref->text).substr(0, ref->text.find('.')));
}

}  // namespace

std::optional<std::vector<stdlib::LayerGroup>> layerGroupsUpTo(const Value& backbone, int64_t most) {
    std::vector<stdlib::LayerGroup> groups;
    // A backbone that wraps another (`frames(resnet(...))`) holds that one's
    // groups first, under the module its `backbone` parameter names.
    if (const Value* inner = backbone.arg("backbone"); inner && inner->kind == Value::Kind::Call) {
        auto own = layerGroupsUpTo(*inner, most);
        if (!own) return std::nullopt;
        own->pop_back();  // its head
        for (auto& group : *own) {
            group.name = "backbone." + group.name;
            for (auto& pattern : group.patterns) pattern = "backbone." + pattern;
            groups.push_back(std::move(group));
        }
    }
    if (backbone.builtin && backbone.builtin->layerGroups) {
        bool tooMany = false;
        auto own = backbone.builtin->layerGroups([&](std::string_view param) {
            int64_t size = sizeOf(backbone, param);
            tooMany = tooMany || size > most;
            return size > most ? 0 : size;
        });
        if (tooMany) return std::nullopt;
        groups.insert(groups.end(), std::make_move_iterator(own.begin()), std::make_move_iterator(own.end()));
    } else {
        groups.push_back({"backbone", {"*"}});
    }
    groups.push_back({"head", {}});
    return groups;
}

std::vector<stdlib::LayerGroup> layerGroups(const Value& backbone) {
    return *layerGroupsUpTo(backbone, std::numeric_limits<int64_t>::max());
}

std::vector<double> evenMults(double lo, double hi, size_t n) {
    std::vector<double> rates(n, hi);
    for (size_t i = 0; i + 1 < n; ++i) rates[i] = lo > 0 ? lo * std::pow(hi / lo, double(i) / double(n - 1)) : 0.0;
    return rates;
}

RateRange optimizerRates(const Value& optimizer) {
    const Value* lr = optimizer.arg("lr");
    if (!lr) return {};
    if (lr->kind == Value::Kind::Call && lr->items.size() == 2) return {lr->items[0].number, lr->items[1].number};
    return {lr->number, lr->number};
}

RateRange fineTuneRates(const Value& schedule, double hi) {
    const Value* given = schedule.arg("base_lr");
    double base = given && given->kind != Value::Kind::None ? given->number : hi;
    const Value* mult = schedule.arg("lr_mult");
    return {base / 2 / (mult ? mult->number : 1), base / 2};
}

const Value* backboneOf(const Pipeline& pipeline, const Section& model) {
    const Value* backbone = model.field("backbone");
    for (int hops = 0; backbone && backbone->kind == Value::Kind::Ref && hops < 64; ++hops) {
        const Section* from = referenced(pipeline, "train", backbone);
        const Section* trained = from ? referenced(pipeline, "model", from->field("model")) : nullptr;
        backbone = trained ? trained->field("backbone") : nullptr;
    }
    return backbone && backbone->kind == Value::Kind::Call ? backbone : nullptr;
}

}  // namespace pipelang
