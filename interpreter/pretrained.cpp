// What pretrained weights decide before anything runs: a transformer's sizes
// from its model folder's config.json, and ImageNet's normalisation beside
// pretrained image weights. Each value so set shows its origin in `pipe plan`.
#include <filesystem>

#include "hub/locations.h"
#include "interpreter/checker.h"
#include "interpreter/model_config.h"

namespace pipelang {

namespace {

bool sameValue(const Value& a, const Value& b) {
    if (a.kind == Value::Kind::String || b.kind == Value::Kind::String) return a.kind == b.kind && a.text == b.text;
    if (a.kind == Value::Kind::Int && b.kind == Value::Kind::Int) return a.integer == b.integer;
    return (a.kind == Value::Kind::Int || a.kind == Value::Kind::Float) &&
           (b.kind == Value::Kind::Int || b.kind == Value::Kind::Float) && a.number == b.number;
}

}  // namespace

// A backbone with an `arch` (the transformer) given a Hugging Face model
// folder, or its `org/name` in the cache, takes its sizes from the folder's
// config.json: unwritten ones are filled in, and a written size that differs
// is an error here rather than a page of mis-shaped tensors at run time.
// Dropout is a training choice, not the architecture's: a written one stays.
void Checker::configureFromWeights(Section& model) {
    Value* backbone = model.field("backbone");
    if (!backbone || backbone->kind != Value::Kind::Call || !backbone->arg("arch")) return;
    const Value* weights = backbone->arg("weights");
    if (!weights || weights->kind != Value::Kind::String || !weights->span.valid() || !weights->span.file) return;
    // Relative paths start from the .pipe file's folder, as the runtime's do.
    auto baseDir = std::filesystem::path(weights->span.file->name).parent_path();
    hub::FoundWeights found = hub::findWeights(weights->text, baseDir);
    std::error_code ec;
    if (!found.path || !std::filesystem::is_directory(*found.path, ec)) return;
    auto file = *found.path / "config.json";
    if (!std::filesystem::exists(file, ec)) return;
    ModelConfig config;
    try {
        config = readModelConfig(file);
    } catch (const ModelConfigError& e) {
        auto& d = c_.diags.error("model-config", weights->span, e.what());
        d.hints.push_back("give the weights of a supported model, or a file of weights with the sizes written here");
        return;
    }
    for (auto& setting : config.settings) {
        Value* v = backbone->arg(setting.param);
        if (!v) continue;
        if (v->origin == Origin::Default || v->origin == Origin::Derived || v->origin == Origin::ModelConfig) {
            Value filled = setting.value;
            filled.origin = Origin::ModelConfig;
            *v = filled;
        } else if (setting.param != "dropout" && !sameValue(*v, setting.value)) {
            auto& d = c_.diags.error("model-config", v->span.valid() ? v->span : weights->span,
                                     "`" + setting.param + " = " + v->str() + "` disagrees with `" + setting.key +
                                         " = " + setting.value.str() + "` in `" + file.string() + "`");
            d.hints.push_back("remove `" + setting.param + "`: the model folder's config.json sets it");
        }
    }
}

// Pretrained image weights were trained on ImageNet's normalisation (every
// torchvision model's are): a `normalize()` left to its defaults takes
// ImageNet's mean and standard deviation instead of the data's, as fastai's
// vision_learner does. A normalize with values written keeps them.
void Checker::normalizeForWeights(Section& data, const Section& model) {
    const Value* backbone = model.field("backbone");
    // `frames(resnet(weights = ...))`: a video backbone's image backbone holds them.
    if (const Value* inner = backbone && backbone->kind == Value::Kind::Call ? backbone->arg("backbone") : nullptr;
        inner && inner->kind == Value::Kind::Call)
        backbone = inner;
    const Value* weights = backbone && backbone->kind == Value::Kind::Call ? backbone->arg("weights") : nullptr;
    if (!weights || weights->kind != Value::Kind::String) return;
    Value* batch = data.field("batch");
    if (!batch || batch->kind != Value::Kind::List) return;
    // ImageNet's statistics are for three channels (grey images adapt the weights instead).
    const Value* blocks = data.field("blocks");
    bool rgb = false;
    if (blocks && (blocks->kind == Value::Kind::Tuple || blocks->kind == Value::Kind::List))
        for (const auto& b : blocks->items)
            if (b.kind == Value::Kind::Call && (b.text == "image" || b.text == "video"))
                if (const Value* channels = b.arg("channels"); channels && channels->integer == 3) rgb = true;
    if (!rgb) return;
    for (auto& t : batch->items) {
        if (t.kind != Value::Kind::Call || t.text != "normalize") continue;
        auto set = [&](const char* name, std::initializer_list<double> numbers) {
            Value* v = t.arg(name);
            if (!v || !v->isNone() || v->origin != Origin::Default) return;
            Value list{Value::Kind::List};
            for (double n : numbers) {
                Value item{Value::Kind::Float};
                item.number = n;
                item.origin = Origin::Weights;
                list.items.push_back(item);
            }
            list.origin = Origin::Weights;
            *v = list;
        };
        set("mean", {0.485, 0.456, 0.406});  // torchvision's ImageNet statistics
        set("std", {0.229, 0.224, 0.225});
    }
}

}  // namespace pipelang
