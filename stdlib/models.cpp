// Model parts: backbones turn an input into features (`accepts` lists the input
// kinds they take); heads turn features into predictions (`accepts` lists the
// target kinds they fit, `defaultFor` those they are chosen for when no head is written).
#include "stdlib/registry.h"

namespace pipelang::stdlib {

// What `freeze` keeps fixed, said once for every backbone and the model block.
// Batch norms keep learning, as fastai's `train_bn` does by default: a frozen
// backbone's normalisation adapts to the new data, which fine-tuning needs.
constexpr const char* kFreezeDoc =
    "keep the backbone's weights fixed (feature extraction); its batch-norm layers still learn their scale, shift "
    "and statistics, as fastai's `train_bn`";

namespace {

// Each backbone's layer groups for `lr = slice(lo, hi)`, from the input on;
// the head is always one more group, the last, and takes `hi`. As in fastai,
// whose splitters cut a model into a few parts that learn at log-spaced rates.

std::string numbered(const std::string& prefix, int64_t i) {
    return prefix + std::to_string(i);
}

// fastai's _resnet_split: the stem with layer1 and layer2, then layer3 and layer4.
std::vector<LayerGroup> resnetGroups(const SizeOf&) {
    return {{"conv1..layer2", {"conv1.*", "bn1.*", "layer1.*", "layer2.*"}},
            {"layer3..layer4", {"layer3.*", "layer4.*"}}};
}

// torchvision's newer families keep their layers in `features`: two groups,
// the first `split` entries (the stem and the early stages), then the rest
// with whatever the backbone keeps after them (a classifier's first layer).
std::vector<LayerGroup> featureHalves(int64_t split, const std::string& rest, std::vector<std::string> tail) {
    LayerGroup early{"features.0.." + std::to_string(split - 1), {}};
    for (int64_t i = 0; i < split; ++i) early.patterns.push_back(numbered("features.", i) + ".*");
    tail.push_back("features.*");
    return {early, {rest, tail}};
}

// The stem and stages 1 to 4 (to 28×28 at 224 px), then stages 5 to 7 and the last conv.
std::vector<LayerGroup> efficientnetGroups(const SizeOf&) {
    return featureHalves(5, "features.5..8", {});
}

// The stem and the blocks to 28×28 (at 224 px), then the rest and classifier.0.
std::vector<LayerGroup> mobilenetGroups(const SizeOf&) {
    return featureHalves(7, "features.7.. and classifier.0", {"pre_logits.*"});
}

// The stem, stage 1, its downsampling and stage 2; then stages 3 and 4 and classifier.0.
std::vector<LayerGroup> convnextGroups(const SizeOf&) {
    return featureHalves(4, "features.4..7 and classifier.0", {"norm.*"});
}

// The patch and position embeddings with the class token, then each encoder
// block, the final layer norm with the last: as `transformer` splits.
std::vector<LayerGroup> vitGroups(const SizeOf&) {
    std::vector<LayerGroup> groups = {{"embeddings", {"class_token", "conv_proj.*", "encoder.pos_embedding"}}};
    for (int64_t i = 0; i < 12; ++i) {
        std::string layer = numbered("encoder.layers.encoder_layer_", i);
        groups.push_back({layer, {layer + ".*"}});
    }
    groups.back().patterns.push_back("encoder.ln.*");
    return groups;
}

std::vector<LayerGroup> cnnGroups(const SizeOf& size) {
    std::vector<LayerGroup> groups;
    for (int64_t i = 0; i < size("channels"); ++i)
        groups.push_back({numbered("features.", i), {numbered("features.", i) + ".*"}});
    return groups;
}

// A table's embeddings feed the first layer and learn with it.
std::vector<LayerGroup> mlpGroups(const SizeOf& size) {
    std::vector<LayerGroup> groups;
    for (int64_t i = 0; i < size("hidden"); ++i)
        groups.push_back({numbered("layers.", i), {numbered("layers.", i) + ".*"}});
    if (groups.empty()) return {{"embeds", {"embeds.*"}}};
    groups.front().patterns.push_back("embeds.*");
    return groups;
}

std::vector<LayerGroup> embeddingMlpGroups(const SizeOf&) {
    return {{"embedding", {"embedding.*"}}, {"hidden", {"hidden.*"}}};
}

// fastai's awd_lstm_clas_split: the embedding, then each recurrent layer
// (PyTorch names layer k's weights `weight_ih_lk`, `..._lk_reverse`).
std::vector<LayerGroup> recurrentGroups(const SizeOf& size) {
    std::vector<LayerGroup> groups = {{"embedding", {"embedding.*"}}};
    for (int64_t i = 0; i < size("layers"); ++i) {
        std::string layer = numbered("_l", i);
        groups.push_back({numbered("rnn.l", i), {"rnn.*" + layer, "rnn.*" + layer + "_reverse"}});
    }
    return groups;
}

// The embeddings, then each encoder layer (the final layer norm of a
// pre-norm encoder with the last), as fastai's splitters for Hugging Face models.
std::vector<LayerGroup> transformerGroups(const SizeOf& size) {
    std::vector<LayerGroup> groups = {{"embeddings", {"embeddings.*"}}};
    for (int64_t i = 0; i < size("layers"); ++i)
        groups.push_back({numbered("encoder.layer.", i), {numbered("encoder.layer.", i) + ".*"}});
    groups.back().patterns.push_back("encoder.LayerNorm.*");
    return groups;
}

std::vector<LayerGroup> noGroups(const SizeOf&) {
    return {};
}

void addBackbones(Registry& r) {
    r.add({.name = "mlp",
           .family = Family::Backbone,
           .doc = "Fully connected layers on the flattened input: the classic baseline for small images and tables.",
           .params =
               {
                   {"hidden", "list<int>", "[200, 100]", "the width of each hidden layer, in order", {}, 1, {}},
                   {"dropout", "float", "0.0", "the share of activations zeroed during training", {}, 0, 1},
                   {"activation", "string", "\"relu\"", "the non-linearity after each layer", {"relu", "gelu", "tanh"}},
               },
           .accepts = {"image", "tabular"},
           .layerGroups = mlpGroups,
           .groupsDoc = "one per hidden layer (`layers.0`, `layers.1`, ...), a table's embeddings with the first; "
                        "with no hidden layers, the embeddings alone (`embeds`)"});

    r.add({.name = "cnn",
           .family = Family::Backbone,
           .doc = "A plain convolutional net: one stage per entry of `channels`, each halving the image's size (or a "
                  "series' steps, with 1-D convolutions over time).",
           .params =
               {
                   {"channels", "list<int>", "[32, 64, 128]", "the number of filters of each stage", {}, 1, {}},
                   {"kernel", "int", "3", "the side of the convolution kernels", {}, 1, {}},
                   {"convs",
                    "int",
                    "1",
                    "convolutions per stage: the first halves the size, the others keep it (more capacity, more time)",
                    {},
                    1,
                    {}},
                   {"batch_norm", "bool", "true", "normalise after each convolution: faster, steadier training"},
                   {"dropout", "float", "0.0", "the share of activations zeroed during training", {}, 0, 1},
               },
           .accepts = {"image", "series"},
           .layerGroups = cnnGroups,
           .groupsDoc = "one per stage, from the input: `features.0`, `features.1`, ..."});

    r.add({.name = "resnet",
           .family = Family::Backbone,
           .doc = "A residual network (He et al. 2015) with torchvision's parameter names, so its weights load.",
           .params =
               {
                   {"depth",
                    "int",
                    "18",
                    "the number of layers: deeper is stronger but slower",
                    {"18", "34", "50", "101", "152"}},
                   {"weights", "path", "none",
                    "pretrained weights with torchvision's names: a safetensors file, or a state dict saved by "
                    "torch.save (`.pth`, `.pt`, `.bin`); a bare file name such as \"resnet18-f37072fd.pth\" is also "
                    "looked up in PyTorch's cache ($TORCH_HOME/hub/checkpoints), where `pipe fetch NAME` downloads "
                    "it; by default random"},
                   {"stem",
                    "string",
                    "\"imagenet\"",
                    "the first layers: `imagenet` (7×7 conv, max-pool) for photos, `small` (a 3×3 conv) for tiny ones",
                    {"imagenet", "small"}},
                   {"in_channels", "int", "3", "the channels of the input images (1 for greyscale)", {}, 1, {}},
                   {"freeze", "bool", "false", kFreezeDoc},
               },
           .accepts = {"image"},
           .layerGroups = resnetGroups,
           .groupsDoc = "`conv1..layer2` (the stem, layer1 and layer2), then `layer3..layer4`, as fastai splits a "
                        "ResNet"});

    // torchvision's other families: what every image backbone takes.
    auto imageParams = [](std::vector<Param> own, const std::string& example) {
        own.push_back({"weights", "path", "none",
                       "pretrained weights with torchvision's names: a safetensors file, or a state dict saved by "
                       "torch.save (`.pth`, `.pt`, `.bin`); a bare file name such as \"" +
                           example +
                           "\" is also looked up in PyTorch's cache ($TORCH_HOME/hub/checkpoints); by default random"});
        own.push_back({"in_channels", "int", "3", "the channels of the input images (1 for greyscale)", {}, 1, {}});
        own.push_back({"freeze", "bool", "false", kFreezeDoc});
        return own;
    };
    const Param stem{"stem",
                     "string",
                     "\"imagenet\"",
                     "the first layers: `imagenet` (7×7 conv, max-pool) for photos, `small` (a 3×3 conv) for tiny ones",
                     {"imagenet", "small"}};

    r.add(
        {.name = "resnext",
         .family = Family::Backbone,
         .doc = "ResNeXt (Xie et al. 2017): a ResNet whose bottlenecks use grouped convolutions; torchvision's names.",
         .params = imageParams({{"variant",
                                 "string",
                                 "\"50_32x4d\"",
                                 "depth _ groups x width per group, as torchvision names them (resnext50_32x4d)",
                                 {"50_32x4d", "101_32x8d", "101_64x4d"}},
                                stem},
                               "resnext50_32x4d-7cdf4587.pth"),
         .accepts = {"image"},
         .layerGroups = resnetGroups,
         .groupsDoc = "as `resnet`: `conv1..layer2`, then `layer3..layer4`"});

    r.add({.name = "wide_resnet",
           .family = Family::Backbone,
           .doc = "Wide ResNet (Zagoruyko & Komodakis 2016): bottlenecks twice as wide; torchvision's names.",
           .params = imageParams({{"variant",
                                   "string",
                                   "\"50_2\"",
                                   "depth _ width factor, as torchvision names them (wide_resnet50_2)",
                                   {"50_2", "101_2"}},
                                  stem},
                                 "wide_resnet50_2-95faca4d.pth"),
           .accepts = {"image"},
           .layerGroups = resnetGroups,
           .groupsDoc = "as `resnet`: `conv1..layer2`, then `layer3..layer4`"});

    r.add({.name = "efficientnet",
           .family = Family::Backbone,
           .doc = "EfficientNet (Tan & Le 2019): MBConv blocks with squeeze-excitation, scaled in width and depth; "
                  "torchvision's names (the head is `classifier.1`).",
           .params = imageParams(
               {{"variant",
                 "string",
                 "\"b0\"",
                 "the scale: b0 (1.0× wide, 1.0× deep, 224 px in the paper) to b3 (1.2×, 1.4×, 300 px)",
                 {"b0", "b1", "b2", "b3"}},
                {"dropout",
                 "float",
                 "none",
                 "the share of pooled features zeroed in training; by default torchvision's (0.2 for b0 and b1, 0.3 "
                 "for b2 and b3)",
                 {},
                 0,
                 1},
                {"stochastic_depth",
                 "float",
                 "none",
                 "the largest chance a block is skipped in training (stochastic depth), rising linearly with depth; "
                 "by default 0.2",
                 {},
                 0,
                 1}},
               "efficientnet_b0_rwightman-3dd342df.pth"),
           .accepts = {"image"},
           .layerGroups = efficientnetGroups,
           .groupsDoc = "`features.0..4` (the stem and stages 1 to 4), then `features.5..8`"});

    r.add({.name = "mobilenet",
           .family = Family::Backbone,
           .doc = "MobileNetV3 (Howard et al. 2019): inverted residuals with hard swish, for small devices; "
                  "torchvision's names (`classifier.0` with the backbone, the head `classifier.3`).",
           .params = imageParams(
               {{"variant", "string", "\"v3_large\"", "the size", {"v3_small", "v3_large"}},
                {"dropout", "float", "0.2", "the share of features zeroed in training, after classifier.0", {}, 0, 1}},
               "mobilenet_v3_large-8738ca79.pth"),
           .accepts = {"image"},
           .layerGroups = mobilenetGroups,
           .groupsDoc = "`features.0..6` (the stem and the first blocks), then the rest of `features` with "
                        "`classifier.0`"});

    r.add({.name = "convnext",
           .family = Family::Backbone,
           .doc = "ConvNeXt (Liu et al. 2022): a ResNet modernised after vision transformers; torchvision's names "
                  "(`classifier.0` the backbone's final norm, the head `classifier.2`); images of 32 px or more.",
           .params = imageParams(
               {{"variant",
                 "string",
                 "\"tiny\"",
                 "the size: tiny (3, 3, 9, 3 blocks) or small (3, 3, 27, 3)",
                 {"tiny", "small"}},
                {"stochastic_depth",
                 "float",
                 "none",
                 "the largest chance a block is skipped in training, rising linearly with depth; by default "
                 "torchvision's (0.1 tiny, 0.4 small)",
                 {},
                 0,
                 1},
                {"layer_scale", "float", "1e-6", "each block's branch starts scaled by this (layer scale)", {}, 0, {}}},
               "convnext_tiny-983f1562.pth"),
           .accepts = {"image"},
           .layerGroups = convnextGroups,
           .groupsDoc = "`features.0..3` (the stem, stage 1, its downsampling and stage 2), then `features.4..7` with "
                        "`classifier.0`"});

    r.add(
        {.name = "vit",
         .family = Family::Backbone,
         .doc = "The Vision Transformer (Dosovitskiy et al. 2021) on 16×16 patches; torchvision's names (the head "
                "is `heads.head`). Any image size: pretrained position embeddings are interpolated to its grid.",
         .params = imageParams(
             {{"variant", "string", "\"b_16\"", "the size: b_16 (12 blocks of width 768, 16-pixel patches)", {"b_16"}},
              {"dropout", "float", "0.0", "the share of activations zeroed in training", {}, 0, 1},
              {"attention_dropout", "float", "0.0", "the share of attention weights zeroed in training", {}, 0, 1}},
             "vit_b_16-c867db91.pth"),
         .accepts = {"image"},
         .layerGroups = vitGroups,
         .groupsDoc = "`embeddings` (patches, positions, class token), then one per encoder block "
                      "(`encoder.layers.encoder_layer_0`, ...), the final layer norm with the last"});

    r.add({.name = "embedding_mlp",
           .family = Family::Backbone,
           .doc = "Bengio et al.'s 2003 language model: the last tokens' embeddings, joined, through a tanh layer.",
           .params =
               {
                   {"dim", "int", "10", "the size of each token's embedding", {}, 1, {}},
                   {"hidden", "int", "200", "the width of the hidden layer", {}, 1, {}},
                   {"context",
                    "int",
                    "none",
                    "how many previous tokens it sees; by default the data block's `context`",
                    {},
                    1,
                    {}},
               },
           .accepts = {"tokens"},
           .layerGroups = embeddingMlpGroups,
           .groupsDoc = "`embedding`, then `hidden`"});

    r.add({.name = "lstm",
           .family = Family::Backbone,
           .doc = "A recurrent network of LSTM layers over token embeddings (as in ULMFiT), or over a series' steps.",
           .params =
               {
                   {"dim", "int", "256", "the size of the embeddings and of the hidden state", {}, 1, {}},
                   {"layers", "int", "1", "the number of stacked LSTM layers", {}, 1, {}},
                   {"bidirectional", "bool", "false", "read the text both ways (not for language modelling)"},
                   {"dropout", "float", "0.0", "the share of activations zeroed between layers in training", {}, 0, 1},
               },
           .accepts = {"text", "tokens", "series"},
           .layerGroups = recurrentGroups,
           .groupsDoc = "`embedding`, then one per LSTM layer (`rnn.l0`, `rnn.l1`, ...), as fastai splits "
                        "ULMFiT's AWD-LSTM"});

    r.add({.name = "gru",
           .family = Family::Backbone,
           .doc = "A recurrent network of GRU layers over token embeddings (or a series' steps): lighter than an LSTM.",
           .params =
               {
                   {"dim", "int", "256", "the size of the embeddings and of the hidden state", {}, 1, {}},
                   {"layers", "int", "1", "the number of stacked GRU layers", {}, 1, {}},
                   {"bidirectional", "bool", "false", "read the text both ways (not for language modelling)"},
                   {"dropout", "float", "0.0", "the share of activations zeroed between layers in training", {}, 0, 1},
               },
           .accepts = {"text", "tokens", "series"},
           .layerGroups = recurrentGroups,
           .groupsDoc = "`embedding`, then one per GRU layer (`rnn.l0`, `rnn.l1`, ...)"});

    r.add({.name = "transformer",
           .family = Family::Backbone,
           .doc =
               "A transformer encoder over token embeddings (or a series' steps), with Hugging Face BERT's parameter "
               "names.",
           .params =
               {
                   {"layers", "int", "4", "the number of transformer blocks", {}, 1, {}},
                   {"dim", "int", "256", "the size of embeddings and hidden states (a multiple of `heads`)", {}, 1, {}},
                   {"heads", "int", "4", "the number of attention heads", {}, 1, {}},
                   {"ffn", "int", "none", "the width of each feed-forward layer; by default 4 × dim", {}, 1, {}},
                   {"dropout", "float", "0.1", "the share of activations zeroed during training", {}, 0, 1},
                   {"norm",
                    "string",
                    "\"pre\"",
                    "layer norm before each sub-layer (`pre`, steadier) or after it (`post`, as in BERT)",
                    {"pre", "post"}},
                   {"positions", "string", "\"learned\"", "how token positions are encoded", {"learned", "sinusoidal"}},
                   {"causal", "bool", "false", "let each token see only earlier ones, as a language model must"},
                   {"arch",
                    "string",
                    "\"bert\"",
                    "whose parameter names and details to follow: `bert`; `roberta` (positions counted from 2, one "
                    "segment, layer norm eps 1e-5); `distilbert` (its own names, no segments)",
                    {"bert", "roberta", "distilbert"}},
                   {"vocab", "int", "none", "rows of the token embedding; by default the tokenizer's size", {}, 1, {}},
                   {"max_positions",
                    "int",
                    "none",
                    "positions the learned table holds; by default 512, or the data's length when longer",
                    {},
                    1,
                    {}},
                   {"weights", "path", "none",
                    "pretrained weights: a safetensors file, a state dict saved by torch.save (`.pth`, `.pt`, `.bin`), "
                    "or a Hugging Face model folder (or its `org/name` in Hugging Face's cache) of a BERT, DistilBERT "
                    "or RoBERTa model, whose config.json gives `arch` and the sizes and whose base prefix (`bert.`, "
                    "`roberta.`, `distilbert.`) and pretraining heads are passed over; by default random"},
                   {"freeze", "bool", "false", kFreezeDoc},
               },
           .accepts = {"text", "tokens", "series"},
           .layerGroups = transformerGroups,
           .groupsDoc = "`embeddings`, then one per block (`encoder.layer.0`, `encoder.layer.1`, ...; a pre-norm "
                        "encoder's final layer norm with the last)"});

    r.add({.name = "tfidf",
           .family = Family::Backbone,
           .doc = "TF-IDF counts of token n-grams: no training, a strong baseline for text with the `linear` head.",
           .params =
               {
                   {"ngrams", "int|list<int>", "1", "the n-gram length, or [shortest, longest] e.g. [1, 2]", {}, 1, {}},
                   {"max_features", "int", "20000", "keep only this many of the most frequent n-grams", {}, 1, {}},
                   {"sublinear", "bool", "true", "use 1 + log(count) instead of the raw count"},
               },
           .accepts = {"text"},
           .layerGroups = noGroups,
           .groupsDoc = "none: TF-IDF is counted, not trained, so the head is the only group and learns at `hi`"});
}

void addHeads(Registry& r) {
    r.add({.name = "classifier",
           .family = Family::Head,
           .doc = "One score per class, from the backbone's pooled features; its size comes from the target block.",
           .params =
               {
                   {"pool",
                    "string",
                    "\"auto\"",
                    "how a sequence of features becomes one vector; `auto` picks the usual one for the backbone",
                    {"auto", "cls", "mean", "max", "last"}},
                   {"dropout", "float", "0.0", "the share of features zeroed during training", {}, 0, 1},
                   {"hidden", "list<int>", "[]", "the widths of extra hidden layers before the output", {}, 1, {}},
               },
           .accepts = {"category", "multi_category"},
           .defaultFor = {"category", "multi_category"}});

    r.add({.name = "regressor",
           .family = Family::Head,
           .doc = "One real-valued output, from the backbone's pooled features.",
           .params =
               {
                   {"dropout", "float", "0.0", "the share of features zeroed during training", {}, 0, 1},
                   {"hidden", "list<int>", "[]", "the widths of extra hidden layers before the output", {}, 1, {}},
               },
           .accepts = {"number", "series"},
           .defaultFor = {"number", "series"}});

    r.add({.name = "next_token",
           .family = Family::Head,
           .doc = "A language model's output: a score for every token of the vocabulary at each position.",
           .params =
               {
                   {"tied", "bool", "false", "share weights with the input embedding (Press & Wolf 2017)"},
               },
           .accepts = {"tokens"},
           .defaultFor = {"tokens"}});

    r.add({.name = "linear",
           .family = Family::Head,
           .doc = "A single linear layer on the features: logistic regression, e.g. on `tfidf` features.",
           .accepts = {"category", "multi_category"}});
}

}  // namespace

void addModels(Registry& r) {
    addBackbones(r);
    addHeads(r);
}

}  // namespace pipelang::stdlib
