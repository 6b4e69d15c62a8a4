// Checks of a data block's augmentations that the registry's types and
// bounds cannot say: ranges written as [lo, hi], a magnitude within its
// bins, and batch transforms that mix images (mixup, cutmix), which need
// image inputs and exclude each other.
#include <string>

#include "interpreter/checker.h"

namespace pipelang {

namespace {

Span spanOf(const Value& v, Span fallback) {
    return v.span.valid() ? v.span : fallback;
}

std::string show(double d) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", d);
    return buffer;
}

}  // namespace

void Checker::checkAugmentation(const Section& data) {
    // `[lo, hi]` arguments: two numbers, lo at most hi, lo above `floor`.
    auto range = [&](const Value& call, const char* name, double floor) {
        const Value* v = call.arg(name);
        if (!v || v->kind != Value::Kind::List) return;
        Span where = spanOf(*v, call.span);
        std::string what = "`" + std::string(name) + "` of `" + call.text + "`";
        if (v->items.size() != 2) {
            c_.diags
                .error("range", where, what + " takes two numbers, [lo, hi], not " + std::to_string(v->items.size()))
                .hints.push_back("for example `" + std::string(name) + " = " + call.builtin->param(name)->defaultValue +
                                 "`");
            return;
        }
        double lo = v->items[0].number, hi = v->items[1].number;
        if (lo > hi)
            c_.diags.error("range", where, what + " is [lo, hi], but " + show(lo) + " is above " + show(hi))
                .hints.push_back("write `" + std::string(name) + " = [" + show(hi) + ", " + show(lo) + "]`");
        else if (lo <= floor)
            c_.diags.error("range", where, what + " must be above " + show(floor) + ", not " + show(lo));
    };
    if (const Value* items = data.field("item"); items && items->kind == Value::Kind::List)
        for (const Value& t : items->items) {
            if (t.kind != Value::Kind::Call || !t.builtin) continue;
            if (t.text == "random_resized_crop") {
                range(t, "scale", 0);
                range(t, "ratio", 0);
            } else if (t.text == "aug_transforms") {
                const Value *lo = t.arg("min_zoom"), *hi = t.arg("max_zoom");
                if (lo && hi && lo->number > hi->number)
                    c_.diags
                        .error("range", spanOf(*lo, spanOf(*hi, t.span)),
                               "`min_zoom` (" + show(lo->number) + ") of `aug_transforms` is above `max_zoom` (" +
                                   show(hi->number) + ")")
                        .hints.push_back("make min_zoom at most max_zoom; min_zoom = max_zoom = 1 does not zoom");
            } else if (t.text == "rand_augment") {
                const Value *m = t.arg("magnitude"), *bins = t.arg("num_magnitude_bins");
                if (m && bins && m->integer >= bins->integer)
                    c_.diags
                        .error("range", spanOf(*m, t.span),
                               "`magnitude` of `rand_augment` is a bin from 0 to " + std::to_string(bins->integer - 1) +
                                   " (num_magnitude_bins - 1), not " + std::to_string(m->integer))
                        .hints.push_back("lower the magnitude, or raise num_magnitude_bins");
            }
        }
    const Value* batch = data.field("batch");
    if (!batch || batch->kind != Value::Kind::List) return;
    const Value* mixer = nullptr;
    for (const Value& t : batch->items) {
        if (t.kind != Value::Kind::Call || (t.text != "mixup" && t.text != "cutmix")) continue;
        const std::string input = shapeOf(data).input;
        if (!input.empty() && input != "image") {
            c_.diags
                .error("does-not-fit", spanOf(t, data.nameSpan),
                       "`" + t.text + "` mixes images, but `" + data.name + "` has " + input + " inputs")
                .hints.push_back("remove `" + t.text + "` from `batch`");
            continue;
        }
        if (mixer) {
            auto& d = c_.diags.error("duplicate-mix", spanOf(t, data.nameSpan),
                                     "`" + t.text + "` after `" + mixer->text + "`: a batch is mixed once");
            d.notes.push_back({mixer->span, "mixed here first"});
            d.hints.push_back("keep one of them");
            continue;
        }
        mixer = &t;
    }
}

// `evaluate ... tta N` repeats the training item transforms, which only
// image data has.
void Checker::checkTta(const Section& evaluate) {
    const Value* tta = evaluate.field("tta");
    const Value* on = evaluate.field("on");
    if (!tta || tta->kind != Value::Kind::Int || tta->integer == 0 || !on || on->kind != Value::Kind::Ref) return;
    const Section* data = c_.pipeline.find("data", on->text.substr(0, on->text.find('.')));
    if (!data) return;
    const std::string input = shapeOf(*data).input;
    if (input.empty() || input == "image") return;
    c_.diags
        .error(
            "does-not-fit", spanOf(*tta, evaluate.span),
            "`tta` repeats the training item transforms of images, but `" + data->name + "` has " + input + " inputs")
        .hints.push_back("remove `tta " + std::to_string(tta->integer) + "`");
}

}  // namespace pipelang
