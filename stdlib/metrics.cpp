// Metrics, reported each epoch and by `evaluate`. `accepts` lists the target
// kinds a metric can score; `defaultFor` those it is reported for when no
// metrics are written.
#include "stdlib/registry.h"

namespace pipelang::stdlib {

void addMetrics(Registry& r) {
    // ---- classification -----------------------------------------------------
    r.add({.name = "accuracy",
           .family = Family::Metric,
           .doc = "The share of items (or next tokens) whose highest-scored class is the right one.",
           .accepts = {"category", "tokens"},
           .defaultFor = {"category"}});

    r.add({.name = "error_rate",
           .family = Family::Metric,
           .doc = "The share of items whose highest-scored class is wrong: 1 − accuracy.",
           .accepts = {"category"},
           .lowerIsBetter = true});

    r.add({.name = "top_k",
           .family = Family::Metric,
           .doc = "The share of items whose right class is among the `k` highest-scored ones.",
           .params =
               {
                   {"k", "int", "5", "how many of the highest-scored classes count", {}, 1, {}},
               },
           .accepts = {"category"}});

    r.add({.name = "precision",
           .family = Family::Metric,
           .doc = "Of the items predicted as a class, the share that belong to it; averaged over classes (macro).",
           .accepts = {"category", "multi_category"}});

    r.add({.name = "recall",
           .family = Family::Metric,
           .doc = "Of the items of a class, the share predicted as it; averaged over classes (macro).",
           .accepts = {"category", "multi_category"}});

    r.add({.name = "f1",
           .family = Family::Metric,
           .doc = "The harmonic mean of precision and recall of each class, averaged over classes (macro).",
           .accepts = {"category", "multi_category"},
           .defaultFor = {"multi_category"}});

    r.add({.name = "roc_auc",
           .family = Family::Metric,
           .doc = "Area under the ROC curve: how well scores rank positives first (each class vs the rest, averaged).",
           .accepts = {"category", "multi_category"}});

    r.add({.name = "confusion_matrix",
           .family = Family::Metric,
           .doc = "A table counting, for each true class, the items predicted as each class.",
           .accepts = {"category"}});

    r.add({.name = "accuracy_multi",
           .family = Family::Metric,
           .doc = "The share of (item, label) pairs called right; a label is on when its probability tops `threshold`.",
           .params =
               {
                   {"threshold", "float", "0.5", "the probability above which a label counts as predicted", {}, 0, 1},
               },
           .accepts = {"multi_category"}});

    // ---- regression ---------------------------------------------------------
    r.add({.name = "mse",
           .family = Family::Metric,
           .doc = "Mean squared error.",
           .accepts = {"number", "series"},
           .lowerIsBetter = true});

    r.add({.name = "mae",
           .family = Family::Metric,
           .doc = "Mean absolute error, in the target's own units.",
           .accepts = {"number", "series"},
           .defaultFor = {"series"},
           .lowerIsBetter = true});

    r.add({.name = "rmse",
           .family = Family::Metric,
           .doc = "Root mean squared error, in the target's own units.",
           .accepts = {"number", "series"},
           .defaultFor = {"number", "series"},
           .lowerIsBetter = true});

    r.add({.name = "r2",
           .family = Family::Metric,
           .doc = "The coefficient of determination: the share of the target's variance explained (1 is perfect).",
           .accepts = {"number", "series"}});

    // ---- forecasts (series) -------------------------------------------------
    r.add({.name = "smape",
           .family = Family::Metric,
           .doc = "Symmetric mean absolute percentage error as the M4 competition defines it: the mean of "
                  "200·|y − ŷ| / (|y| + |ŷ|) over every forecast step, from 0 (perfect) to 200.",
           .accepts = {"series"},
           .defaultFor = {"series"},
           .lowerIsBetter = true});

    r.add({.name = "mase",
           .family = Family::Metric,
           .doc = "Mean absolute scaled error as the M4 competition defines it: the mean absolute error over the "
                  "mean absolute error of the seasonal naive forecast (the block's `season`) within the training "
                  "span; below 1 beats that naive forecast.",
           .accepts = {"series"},
           .defaultFor = {"series"},
           .lowerIsBetter = true});

    // ---- language models ----------------------------------------------------
    r.add({.name = "perplexity",
           .family = Family::Metric,
           .doc = "exp(mean cross-entropy per token): how many tokens the model is, in effect, choosing between.",
           .accepts = {"tokens"},
           .defaultFor = {"tokens"},
           .lowerIsBetter = true});
}

}  // namespace pipelang::stdlib
