// How a model is fitted: losses (`accepts` lists the target kinds they fit,
// `defaultFor` those they are chosen for when no loss is written), optimizers,
// learning-rate ranges, schedules, callbacks, and the strategies of a sweep.
#include "stdlib/registry.h"

namespace pipelang::stdlib {

namespace {

void addLosses(Registry& r) {
    r.add({.name = "cross_entropy",
           .family = Family::Loss,
           .doc = "Cross-entropy of the softmax: the loss for single-label classification and for language models.",
           .params =
               {
                   {"label_smoothing",
                    "float",
                    "0.0",
                    "move this share of each target's probability onto the other classes, e.g. 0.1",
                    {},
                    0,
                    1},
               },
           .accepts = {"category", "tokens"},
           .defaultFor = {"category", "tokens"}});

    r.add({.name = "bce_with_logits",
           .family = Family::Loss,
           .doc = "Binary cross-entropy of each label on its own: the loss for multi-label classification.",
           .params =
               {
                   {"pos_weight",
                    "float|list<float>",
                    "none",
                    "weight of positive examples (one, or one per label) to make up for rare labels",
                    {},
                    0,
                    {}},
               },
           .accepts = {"multi_category"},
           .defaultFor = {"multi_category"}});

    r.add({.name = "mse",
           .family = Family::Loss,
           .doc = "Mean squared error: the usual loss for regression.",
           .accepts = {"number", "series"},
           .defaultFor = {"number", "series"}});

    r.add({.name = "l1",
           .family = Family::Loss,
           .doc = "Mean absolute error: less swayed by outliers than `mse`.",
           .accepts = {"number", "series"}});

    r.add({.name = "huber",
           .family = Family::Loss,
           .doc = "Squared error for small errors and absolute error beyond `delta`: robust to outliers.",
           .params =
               {
                   {"delta", "float", "1.0", "the error size where squared turns into absolute", {}, 0, {}},
               },
           .accepts = {"number", "series"}});
}

void addOptimizers(Registry& r) {
    const char* lrDoc =
        "the learning rate (the peak, under a schedule), or `slice(lo, hi)`: `lo` for the backbone's first layer "
        "group .. `hi` for the head";

    r.add({"sgd",
           Family::Optimizer,
           "Stochastic gradient descent with momentum.",
           {
               {"lr", "float|range", "0.1", lrDoc, {}, 0, {}},
               {"momentum", "float", "0.9", "how much of the previous step is carried into the next", {}, 0, 1},
               {"nesterov", "bool", "false", "use Nesterov's look-ahead momentum"},
               {"weight_decay", "float", "0.0", "L2 penalty on the weights, added to the gradient", {}, 0, {}},
           }});

    r.add({"adam",
           Family::Optimizer,
           "Adam (Kingma & Ba 2014): steps scaled per weight by its gradient history.",
           {
               {"lr", "float|range", "1e-3", lrDoc, {}, 0, {}},
               {"betas", "list<float>", "[0.9, 0.999]", "decay rates of the running mean and variance of the gradient"},
               {"eps", "float", "1e-8", "added to the denominator so steps stay finite", {}, 0, {}},
               {"weight_decay", "float", "0.0", "L2 penalty on the weights, added to the gradient", {}, 0, {}},
           }});

    r.add({"adamw",
           Family::Optimizer,
           "Adam with weight decay kept apart from the gradient (Loshchilov & Hutter 2019): the usual choice.",
           {
               {"lr", "float|range", "1e-3", lrDoc, {}, 0, {}},
               {"betas", "list<float>", "[0.9, 0.999]", "decay rates of the running mean and variance of the gradient"},
               {"eps", "float", "1e-8", "added to the denominator so steps stay finite", {}, 0, {}},
               {"weight_decay",
                "float",
                "0.01",
                "how much the weights shrink at each step, apart from the gradient",
                {},
                0,
                {}},
           }});

    r.add({"slice",
           Family::Range,
           "Discriminative learning rates over the model's layer groups (each backbone lists its own; the head is "
           "the last): early layers learn slowest, the head fastest, the groups between at rates evenly spaced on a "
           "log scale, as fastai's `even_mults`.",
           {
               {"lo", "float", "", "the learning rate of the backbone's first layer group", {}, 0, {}},
               {"hi", "float", "", "the learning rate of the head (at least `lo`)", {}, 0, {}},
           }});
}

void addSchedules(Registry& r) {
    const char* epochsDoc = "how many times to go through the training split";

    r.add({"constant",
           Family::Schedule,
           "The same learning rate throughout.",
           {
               {"epochs", "int", "1", epochsDoc, {}, 1, {}},
           }});

    r.add({"step",
           Family::Schedule,
           "Multiplies the learning rate by `gamma` every `every` epochs.",
           {
               {"epochs", "int", "1", epochsDoc, {}, 1, {}},
               {"every", "int", "1", "epochs between two drops", {}, 1, {}},
               {"gamma", "float", "0.1", "the factor applied at each drop", {}, 0, 1},
           }});

    r.add({"linear",
           Family::Schedule,
           "Rises from zero during warmup, then falls in a straight line to zero.",
           {
               {"epochs", "int", "1", epochsDoc, {}, 1, {}},
               {"warmup",
                "float",
                "0.0",
                "time spent rising from zero: a share of the run below 1 (`0.1`), or epochs (`2`)",
                {},
                0,
                {}},
           }});

    r.add({"cosine",
           Family::Schedule,
           "Rises from zero during warmup, then falls along a half cosine to zero.",
           {
               {"epochs", "int", "1", epochsDoc, {}, 1, {}},
               {"warmup",
                "float",
                "0.0",
                "time spent rising from zero: a share of the run below 1 (`0.1`), or epochs (`2`)",
                {},
                0,
                {}},
           }});

    r.add({"one_cycle",
           Family::Schedule,
           "Smith's 1cycle as in fastai: the rate rises from lr/div to lr, then anneals to lr/final_div.",
           {
               {"epochs", "int", "1", epochsDoc, {}, 1, {}},
               {"pct_start", "float", "0.25", "the share of the run spent rising", {}, 0, 1},
               {"div", "float", "25.0", "the starting rate is lr / div", {}, 1, {}},
               {"final_div", "float", "1e5", "the final rate is lr / final_div", {}, 1, {}},
           }});

    r.add({"fine_tune",
           Family::Schedule,
           "fastai's fine_tune: `freeze_epochs` of one-cycle with the backbone frozen, then `epochs` unfrozen "
           "at discriminative rates (base_lr/2/lr_mult for the first layer group .. base_lr/2 for the head).",
           {
               {"epochs", "int", "1", "epochs with the whole model training, after the frozen ones", {}, 1, {}},
               {"freeze_epochs", "int", "1", "epochs first spent training the head alone, backbone frozen", {}, 0, {}},
               {"base_lr",
                "float",
                "none",
                "the head's rate while frozen, halved once unfrozen; by default the optimizer's `lr`",
                {},
                0,
                {}},
               {"lr_mult",
                "float",
                "100",
                "once unfrozen, the backbone's first layer group learns this many times slower than the head",
                {},
                1,
                {}},
           }});
}

void addCallbacks(Registry& r) {
    const char* monitorDoc = "what epochs are compared by: `valid_loss`, `train_loss` or a metric's name";

    r.add({"best",
           Family::Callback,
           "Keeps the weights of the epoch with the best `monitor` (lowest loss, highest accuracy), not the last.",
           {
               {"monitor", "monitor", "valid_loss", monitorDoc},
           }});

    r.add({"early_stop",
           Family::Callback,
           "Stops training once `monitor` has not improved for `patience` epochs.",
           {
               {"monitor", "monitor", "valid_loss", monitorDoc},
               {"patience", "int", "3", "epochs without improvement to wait before stopping", {}, 1, {}},
               {"min_delta", "float", "0.0", "the smallest change that counts as an improvement", {}, 0, {}},
           }});

    r.add({"checkpoint",
           Family::Callback,
           "Saves the weights and optimizer state, so a run can be resumed.",
           {
               {"every", "int", "1", "epochs between two saves", {}, 1, {}},
           }});
}

void addStrategies(Registry& r) {
    r.add({"grid", Family::Strategy, "Runs every combination of the swept values.", {}});

    r.add({"random",
           Family::Strategy,
           "Runs `trials` combinations of the swept values, drawn at random.",
           {
               {"trials", "int", "10", "how many combinations to run", {}, 1, {}},
               {"seed", "int", "0", "the seed of the draw: the same seed runs the same combinations", {}, 0, {}},
           }});

    r.add({"tpe",
           Family::Strategy,
           "Optuna's tree-structured Parzen estimator: after `startup` points drawn at random, each point is drawn "
           "where the best tenth of the finished points lie more densely than the rest.",
           {
               {"trials", "int", "20", "how many points to run", {}, 1, {}},
               {"seed",
                "int",
                "0",
                "the seed of the draws: with --jobs 1 the same seed runs the same points (in parallel, given the same "
                "order of finishing)",
                {},
                0,
                {}},
               {"startup",
                "int",
                "10",
                "points drawn at random before the estimator takes over (Optuna's n_startup_trials)",
                {},
                1,
                {}},
           }});

    r.add({"asha",
           Family::Strategy,
           "Asynchronous successive halving: `trials` points drawn at random, each stopped at a rung (after "
           "min_epochs, min_epochs x reduction, ... epochs) where its metric is not in the top 1/reduction of the "
           "points that reached that rung.",
           {
               {"min_epochs", "int", "1", "the epochs every point trains before the first rung", {}, 1, {}},
               {"reduction",
                "int",
                "3",
                "each rung keeps the top 1/reduction of the points that reach it, and the next rung is this many "
                "times further",
                {},
                2,
                {}},
               {"trials", "int", "20", "how many points to start (every combination, when there are fewer)", {}, 1, {}},
               {"seed",
                "int",
                "0",
                "the seed of the draw and its order: with --jobs 1 the same seed stops the same points",
                {},
                0,
                {}},
           }});
}

// What a sweep draws a setting from, besides a written list of values.
void addSweepRanges(Registry& r) {
    r.add({"uniform",
           Family::SweepRange,
           "A number drawn evenly from `lo` to `hi` (kept to 4 significant digits), for `random`, `tpe` and `asha`.",
           {
               {"lo", "float", "", "the smallest value"},
               {"hi", "float", "", "the largest value, at least `lo`"},
           }});

    r.add({"loguniform",
           Family::SweepRange,
           "A number drawn evenly on a log scale from `lo` to `hi`, both above 0: as likely in 1e-4..1e-3 as in "
           "1e-3..1e-2 (learning rates, weight decay).",
           {
               {"lo", "float", "", "the smallest value, above 0"},
               {"hi", "float", "", "the largest value, at least `lo`"},
           }});

    r.add({"int_range",
           Family::SweepRange,
           "A whole number from `lo` to `hi`, both included; under `grid`, every one of them.",
           {
               {"lo", "int", "", "the smallest value"},
               {"hi", "int", "", "the largest value, at least `lo`"},
               {"log", "bool", "false", "draw on a log scale (as likely in 8..16 as in 16..32); `lo` at least 1"},
           }});

    r.add({"choice",
           Family::SweepRange,
           "One of the values of a list, `choice([a, b, c])`: the same as writing the list.",
           {
               {"values", "list<any>", "", "the values to choose from, each as the setting takes it"},
           }});
}

}  // namespace

void addTraining(Registry& r) {
    addLosses(r);
    addOptimizers(r);
    addSchedules(r);
    addCallbacks(r);
    addStrategies(r);
    addSweepRanges(r);
}

}  // namespace pipelang::stdlib
