// The fields of each top-level block. They are registry entries like any
// built-in, so `pipe doc data`, completion and the checker see one list.
#include "stdlib/registry.h"

namespace pipelang::stdlib {

void addSections(Registry& r) {
    r.add({"tokenizer",
           Family::Section,
           "A tokenizer: trained with sentencepiece on a column of a training split, or loaded (sentencepiece, or "
           "Hugging Face's files, whose special tokens the model gets as it was trained with).",
           {
               {"train", "trainer", "none", "how to train a new tokenizer, e.g. `sentencepiece(vocab = 8000)`"},
               {"from", "text_ref", "none", "the text to train on: `data.train.column`, never validation text"},
               {"load", "path", "none",
                "a tokenizer to load instead of training: a sentencepiece `.model`, or Hugging Face's "
                "`tokenizer.json`, `vocab.txt` or `vocab.json` (with `merges.txt` beside it), or a model folder "
                "holding one, or its `org/name` in Hugging Face's cache"},
               {"specials", "list<string>", R"(["<pad>", "<unk>", "<s>", "</s>", "<cls>"])",
                "special tokens, in id order: pad, unk, bos, eos, cls"},
           }});

    r.add({"data",
           Family::Section,
           "Where the items come from, what their inputs and labels are, how they are split and transformed.",
           {
               {"source", "source", "", "where the items come from, e.g. `idx(...)`, `folder(...)`, `csv(...)`"},
               {"blocks", "block|tuple<block>", "",
                "the kinds of input and target, e.g. `(image, category)`; the last is the target"},
               {"x", "column|label", "none", "how to get the input from an item (default: the source's own input)"},
               {"y", "column|label", "none", "how to get the target from an item (default: the source's own label)"},
               {"label", "label", "none", "how to get the target from an item, e.g. `parent_label` (same as `y`)"},
               {"split", "splitter", "random(valid = 0.2, seed = 42)", "how to split the items into train and valid"},
               {"item", "list<item>", "[]", "transforms applied to each item; random ones to training items only"},
               {"batch", "list<batch>", "[]", "transforms applied to each batch, e.g. `[normalize()]`"},
               {"batch_size", "int", "64", "items per batch", {}, 1, 1 << 20},
               {"fold", "int", "none", "with a k-fold splitter: run only this fold (0-based)", {}, 0, {}},
               {"workers",
                "int",
                "4",
                "loader threads that decode and transform items (`chars` and `tokens` windows are cut on the training "
                "thread: cheaper than a hand-over)",
                {},
                0,
                1024},
               {"cache", "bool", "true", "keep decoded items in memory when the source is small"},
           }});

    r.add({"model",
           Family::Section,
           "A network: a backbone that makes features and a head that makes predictions.",
           {
               {"backbone", "backbone|backbone_ref", "",
                "the feature extractor, or `stage.backbone` to start from a trained one"},
               {"head", "head", "auto", "the output layer; by default sized and chosen from the target block"},
               {"freeze", "bool", "false",
                "keep the backbone's weights fixed and train the head (feature extraction); the backbone's batch-norm "
                "layers still learn their scale, shift and statistics, as fastai's `train_bn`; works for any backbone, "
                "`stage.backbone` included"},
           }});

    r.add({"train",
           Family::Section,
           "How a model is fitted to a data block, and how it is judged.",
           {
               {"model", "model_ref", "auto", "the model to train (may be left out when there is one)"},
               {"data", "data_ref", "auto", "the data to train on (may be left out when there is one)"},
               {"loss", "loss", "auto",
                "the loss; by default from the target: category → cross_entropy, "
                "multi_category → bce_with_logits, number → mse"},
               {"optimizer", "optimizer", "adamw()", "the optimizer"},
               {"schedule", "schedule", "one_cycle(epochs = 1)", "the learning-rate schedule and the number of epochs"},
               {"metrics", "list<metric>", "auto", "what to report each epoch; by default from the target"},
               {"keep", "callback", "none", "which weights to keep, e.g. `best(valid_loss)`"},
               {"callbacks", "list<callback>", "[]", "more callbacks, e.g. `[early_stop(patience = 3)]`"},
               {"accumulate", "int", "1", "batches whose gradients are summed before each step", {}, 1, 4096},
               {"clip", "float", "none", "clip the gradient norm to this value", {}, 0, {}},
               {"precision",
                "string",
                "\"fp32\"",
                "number format for the forward pass: `bf16` autocasts matrix products and convolutions to bfloat16 "
                "(CPUs and GPUs since Ampere); float16 would need loss scaling, which pipe does not have",
                {"fp32", "bf16"}},
               {"device", "string", "\"auto\"", "where to train", {"auto", "cpu", "cuda"}},
               {"sync_bn", "bool", "false",
                "in a run of several processes (`pipe run --nproc N`), batch norm uses the statistics of the whole "
                "batch over every process rather than each process's share (DDP's SyncBatchNorm)"},
           }});

    r.add({"sweep",
           Family::Section,
           "Runs the file once per point: a value for each swept setting. Other fields are "
           "`stage.part.param = [values]` or a range such as `loguniform(1e-4, 1e-2)`.",
           {
               {"strategy", "strategy", "grid",
                "which points to run: `grid` (every combination), `random(trials, seed)`, `tpe(trials, seed)` or "
                "`asha(min_epochs, reduction)`"},
               {"metric", "monitor", "valid_loss", "the metric the results are sorted by"},
           }});

    r.add({"evaluate",
           Family::Section,
           "`evaluate STAGE on DATA.SPLIT [with METRICS] [tta N]`: scores a trained model.",
           {
               {"stage", "train_ref", "", "the train stage whose model is scored"},
               {"on", "split_ref", "", "the data split to score it on, e.g. `fashion.test`"},
               {"with", "list<metric>", "auto", "the metrics; by default the stage's own"},
               {"tta",
                "int",
                "0",
                "test-time augmentation, as fastai's `tta`: the predictions on N copies of each image made with the "
                "training item transforms, averaged, count 3/4 and the plain prediction 1/4 (images only)",
                {},
                0,
                64},
           }});

    r.add({"export",
           Family::Section,
           "`export STAGE to \"FILE\"`: writes the trained weights as safetensors.",
           {
               {"stage", "train_ref", "", "the train stage whose model is written"},
               {"to", "path", "", "the file to write (`.safetensors`)"},
           }});
}

}  // namespace pipelang::stdlib
