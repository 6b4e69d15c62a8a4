// Where items come from and what they are: sources, data blocks, label getters,
// splitters, and the `column` that picks a field of a table.
#include "stdlib/registry.h"

namespace pipelang::stdlib {

namespace {

void addSources(Registry& r) {
    r.add({"idx",
           Family::Source,
           "Images and labels in gzipped IDX files, as (Fashion-)MNIST ships in /usr/share/datasets/fashion-mnist.",
           {
               {"path", "path", "", "the folder of `PREFIX-images-idx3-ubyte.gz` and `PREFIX-labels-idx1-ubyte.gz`"},
               {"train", "string", "\"train\"", "the file prefix of the items to train and validate on"},
               {"test", "string", "\"t10k\"", "the file prefix of the held-out test items, scored by `evaluate`"},
           }});

    r.add({"folder",
           Family::Source,
           "Every file under a folder with one of the given extensions; an item is a file.",
           {
               {"path", "path", "", "the folder to scan"},
               {"extensions", "list<string>", R"([".jpg", ".jpeg", ".png"])",
                "the file extensions to keep (case does not matter)"},
               {"recurse", "bool", "true", "look in sub-folders too (needed for `parent_label`)"},
           }});

    r.add({"csv",
           Family::Source,
           "The rows of a CSV file; an item is a row, its fields read with `column(\"name\")`.",
           {
               {"path", "path", "", "the CSV file"},
               {"delimiter", "string", "\",\"", "the character between fields, e.g. `\"\\t\"` for tab-separated"},
               {"header", "bool", "true", "the first row names the columns (otherwise they are named `0`, `1`, ...)"},
               {"folder", "path", "none", "the base folder for a column of relative file paths, e.g. images"},
           }});

    r.add({"jsonl",
           Family::Source,
           "A JSON Lines file: one object per line, its fields read with `column(\"name\")`.",
           {
               {"path", "path", "", "the `.jsonl` file"},
           }});

    r.add({"json",
           Family::Source,
           "A JSON file holding an array of records; fields are read with `column(\"name\")`.",
           {
               {"path", "path", "", "the `.json` file"},
           }});

    r.add({"lines",
           Family::Source,
           "One item per line of a text file, e.g. the words in /usr/share/dict/words.",
           {
               {"path", "path", "", "the text file"},
           }});

    r.add({"fortunes",
           Family::Source,
           "The fortune-cookie files Debian ships: each fortune is a text item, labelled by its file or language.",
           {
               {"path", "path", "\"/usr/share/games/fortunes\"", "the folder of fortune files"},
               {"files", "list<string>", "none",
                "which files to read, e.g. `[\"art\", \"food\"]` or `[\"de/computer\"]`; by default all"},
               {"by",
                "string",
                "\"file\"",
                "the label: the file's name (`art`), or its language (`en`, or the `de`/`es`/`it` folder)",
                {"file", "language"}},
           }});
}

void addBlocks(Registry& r) {
    r.add({.name = "image",
           .family = Family::Block,
           .doc = "An image input, decoded to channels × height × width with values in [0, 1].",
           .params =
               {
                   {"channels", "int", "3", "1 for greyscale, 3 for colour; images are converted to it", {"1", "3"}},
                   {"size", "int|list<int>", "none",
                    "decode at this size (a side, or [height, width]); by default images keep their own size"},
                   {"on_bad",
                    "string",
                    "\"fail\"",
                    "an unreadable image file: `fail` stops with its name; `skip` decodes every file once before "
                    "training and leaves out, counts and names the bad ones",
                    {"fail", "skip"}},
               },
           .produces = "image",
           .canBeInput = true});

    r.add({.name = "category",
           .family = Family::Block,
           .doc = "One class per item (single-label classification); the classes are those seen in training.",
           .produces = "category",
           .canBeTarget = true});

    r.add({.name = "multi_category",
           .family = Family::Block,
           .doc = "Any number of classes per item (multi-label classification), written in one field.",
           .params =
               {
                   {"delimiter", "string", "\" \"", "what separates the labels in the field, e.g. `\"cat dog\"`"},
               },
           .produces = "multi_category",
           .canBeTarget = true});

    r.add({.name = "number",
           .family = Family::Block,
           .doc = "A real-valued target (regression).",
           .produces = "number",
           .canBeTarget = true});

    r.add({.name = "tabular",
           .family = Family::Block,
           .doc = "Columns of a table as the input: continuous ones normalised, categorical ones embedded.",
           .params =
               {
                   {"cont", "list<string>", "[]", "the names of the continuous (numeric) columns"},
                   {"cat", "list<string>", "[]", "the names of the categorical columns"},
                   {"missing",
                    "string",
                    "\"fill\"",
                    "empty cells: `fill` them (the training median, or a missing-value class) or `drop` their rows",
                    {"fill", "drop"}},
               },
           .produces = "tabular",
           .canBeInput = true});

    r.add({.name = "text",
           .family = Family::Block,
           .doc = "Text as the input, turned into token ids by a tokenizer block and cut to `max_len` tokens.",
           .params =
               {
                   {"tokenizer", "tokenizer_ref", "", "the tokenizer block that splits the text into tokens"},
                   {"max_len", "int", "512", "the most tokens kept per item; longer texts are cut", {}, 1, {}},
               },
           .produces = "text",
           .canBeInput = true});

    r.add({.name = "tokens",
           .family = Family::Block,
           .doc = "Language modelling: text as a stream of token ids in windows; the target is each next token.",
           .params =
               {
                   {"tokenizer", "tokenizer_ref", "", "the tokenizer block that splits the text into tokens"},
                   {"context", "int", "64", "tokens per window: how far back the model sees", {}, 1, {}},
               },
           .produces = "tokens",
           .canBeTarget = true,
           .canBeInput = true});

    r.add({.name = "chars",
           .family = Family::Block,
           .doc = "Language modelling on characters (no tokenizer): each window's target is each next character.",
           .params =
               {
                   {"context", "int", "8", "characters per window: how far back the model sees", {}, 1, {}},
               },
           .produces = "tokens",
           .canBeTarget = true,
           .canBeInput = true});

    r.add({.name = "series",
           .family = Family::Block,
           .doc = "Forecasting: the rows of a table in time order, cut into windows of `lookback` steps that predict "
                  "the `horizon` steps after them; input and target at once.",
           .params =
               {
                   {"time", "string", "",
                    "the column of each row's time: a date (`2014-01-31`, `2014/01/31 13:00`), "
                    "a month (`2014-01`) or a number; one row per step, in order"},
                   {"targets", "list<string>", "", "the numeric columns to forecast, e.g. `[\"temp_max\"]`"},
                   {"inputs", "list<string>", "[]",
                    "more numeric columns the model sees over the lookback (never over the horizon)"},
                   {"lookback", "int", "24", "the steps each window sees", {}, 1, {}},
                   {"horizon", "int", "1", "the steps after the window that it predicts", {}, 1, {}},
                   {"season",
                    "int",
                    "1",
                    "the steps of one season (7 for days in a week, 12 for months in a year): the seasonal naive "
                    "baseline and `mase` compare with the value one season back",
                    {},
                    1,
                    {}},
                   {"scale",
                    "string",
                    "\"standard\"",
                    "`standard`: each column less its mean, over its standard deviation, both measured on the "
                    "training span only; `none`: as read. Metrics and baselines are in the columns' own units",
                    {"standard", "none"}},
               },
           .produces = "series",
           .canBeTarget = true,
           .canBeInput = true,
           .timeOrdered = true});
}

void addLabels(Registry& r) {
    r.add({"parent_label",
           Family::Label,
           "The name of the folder that holds the file, e.g. `happy` for `data/emotions/happy/x.jpg`.",
           {}});

    r.add({"column",
           Family::Label,
           "The value of a named column of a table source (csv, json, jsonl).",
           {
               {"name", "string", "", "the column's name, e.g. `\"label\"`"},
           }});

    r.add({"regex",
           Family::Label,
           "The part of the item's path that a regular expression captures.",
           {
               {"pattern", "string", "", "an ECMAScript regular expression searched for in the path"},
               {"group", "int", "1", "which capture group is the label (0 for the whole match)", {}, 0, {}},
           }});

    r.add({"filename",
           Family::Label,
           "The file's name without its folder or extension, e.g. `cat` for `pets/cat.jpg`.",
           {}});
}

void addSplitters(Registry& r) {
    r.add({"random",
           Family::Splitter,
           "Puts a random share of the items in the validation split.",
           {
               {"valid", "float", "0.2", "the share of items that go to validation", {}, 0, 1},
               {"seed", "int", "42", "the seed of the shuffle: the same seed gives the same split", {}, 0, {}},
           }});

    r.add({"folder",
           Family::Splitter,
           "Splits by a folder name in each item's path, e.g. `train/` and `valid/` (fastai's GrandparentSplitter).",
           {
               {"train", "string", "\"train\"", "the folder name of training items"},
               {"valid", "string", "\"valid\"", "the folder name of validation items"},
           }});

    r.add({"column",
           Family::Splitter,
           "Puts an item in the validation split when a column says so (true, 1 or yes), like fastai's ColSplitter.",
           {
               {"name", "string", "", "the column that marks validation items, e.g. `\"is_valid\"`"},
           }});

    r.add({"stratified",
           Family::Splitter,
           "Like `random`, but each class keeps the same share of items in both splits.",
           {
               {"valid", "float", "0.2", "the share of items that go to validation", {}, 0, 1},
               {"seed", "int", "42", "the seed of the shuffle: the same seed gives the same split", {}, 0, {}},
           }});

    r.add({"kfold",
           Family::Splitter,
           "Cross-validation: k runs, each validating on a different fold (the data block's `fold` runs one).",
           {
               {"k", "int", "5", "the number of folds", {}, 2, {}},
               {"seed", "int", "42", "the seed of the shuffle before the items are dealt into folds", {}, 0, {}},
           }});

    r.add({"stratified_kfold",
           Family::Splitter,
           "Like `kfold`, but each class keeps the same share in every fold.",
           {
               {"k", "int", "5", "the number of folds", {}, 2, {}},
               {"seed", "int", "42", "the seed of the shuffle before the items are dealt into folds", {}, 0, {}},
           }});

    r.add({"group_kfold",
           Family::Splitter,
           "Like `kfold`, but the items of one group (a patient, a prompt) stay in one fold: no group leaks.",
           {
               {"k", "int", "5", "the number of folds (at most the number of groups)", {}, 2, {}},
               {"group", "column", "", "the column naming each item's group, e.g. `column(\"prompt_name\")`"},
               {"seed", "int", "42", "the seed of the shuffle before the groups are dealt into folds", {}, 0, {}},
           }});

    r.add({.name = "before",
           .family = Family::Splitter,
           .doc = "Splits a series in time: steps before `date` train, the rest validate (and, from `test` on, test).",
           .params =
               {
                   {"date", "string", "", "the first time of the validation span, written as the time column is"},
                   {"test", "string", "none", "the first time of a test span after validation, scored by `evaluate`"},
               },
           .timeOrdered = true});

    r.add({.name = "last",
           .family = Family::Splitter,
           .doc = "Splits a series in time: the last share of its steps validates (and a last share after it tests).",
           .params =
               {
                   {"valid",
                    "float",
                    "0.2",
                    "the share of the steps, just before the test span, that validate",
                    {},
                    0,
                    1},
                   {"test", "float", "0.0", "the share of the last steps kept for `evaluate` on `DATA.test`", {}, 0, 1},
               },
           .timeOrdered = true});
}

}  // namespace

void addData(Registry& r) {
    addSources(r);
    addBlocks(r);
    addLabels(r);
    addSplitters(r);

    r.add({"column",
           Family::Column,
           "A named column of a table source (csv, json, jsonl), e.g. `column(\"text\")`.",
           {
               {"name", "string", "", "the column's name, e.g. `\"text\"`"},
           }});
}

}  // namespace pipelang::stdlib
