// The network a `model` section describes: a backbone that makes features and
// a head that makes predictions. Parameter names follow the reference
// implementations (torchvision's ResNet) so weights saved from PyTorch as
// safetensors load by name, and exported weights load in PyTorch.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "interpreter/pipeline.h"
#include "runtime/data/dataset.h"

namespace pipelang::runtime {

// One layer group's parameters (interpreter/layer_groups.h), in the order
// the network holds them.
struct ParameterGroup {
    std::string name;
    std::vector<torch::Tensor> parameters;
};

class Network : public torch::nn::Module {
public:
    // Predictions for a batch, shaped like what the loss compares them with:
    // {B, classes} scores (logits) for category and multi_category targets;
    // {B} for a number (a regressor with one output), {B, outputs} otherwise.
    virtual torch::Tensor forward(const Batch& batch) = 0;
    // Parameters of the feature extractor and of the head (a transferred
    // backbone is copied by these).
    virtual std::vector<torch::Tensor> backboneParameters() = 0;
    virtual std::vector<torch::Tensor> headParameters() = 0;
    // The layer groups `lr = slice(lo, hi)` spreads its rates over, from the
    // input to the head (the last), as the backbone's registry entry splits
    // it; every parameter is in exactly one.
    virtual std::vector<ParameterGroup> layerGroups() = 0;
    // Stops (or restarts) gradients through the backbone; batch-norm layers of
    // a frozen backbone keep training their statistics, as in fastai.
    // As fastai's `train_bn`, a frozen backbone's batch-norm weights and biases
    // keep learning too: they adapt the features to the new data cheaply.
    // A backbone written with `freeze = true` stays frozen: unfreezing it is a no-op.
    virtual void freezeBackbone(bool frozen) = 0;
    // True when the model reads fixed windows of its context (generation pads them).
    virtual bool fixedWindow() const = 0;
};

// Where model building reports what it decided on its own (a head
// re-initialised for another class count, a first convolution adapted to
// greyscale). Empty: lines go to stderr.
using ModelLog = std::function<void(const std::string&)>;

// Builds the network for `model` trained on data described by `info`; loads
// `weights = "..."` (relative to baseDir) when the backbone names a file.
// Throws RuntimeError for backbones this runtime does not build yet (lstm, ...)
// and for `backbone = stage.backbone` (see loadBackboneWeights).
std::shared_ptr<Network> buildNetwork(const Section& model, const DataInfo& info, const std::filesystem::path& baseDir,
                                      const ModelLog& log = {});
// The same from a backbone call and a head call (both resolved), for a model
// whose `backbone = stage.backbone` names the backbone of another model.
std::shared_ptr<Network> buildNetwork(const Value& backbone, const Value& head, const DataInfo& info,
                                      const std::filesystem::path& baseDir, const ModelLog& log = {});

// Every parameter and buffer under its PyTorch state-dict name, in PyTorch's
// order (conv1.weight, bn1.weight, ..., bn1.num_batches_tracked, ..., fc.bias).
std::vector<std::pair<std::string, torch::Tensor>> namedState(Network& network);

// Writes every parameter and buffer as safetensors (names as in PyTorch).
void saveWeights(Network& network, const std::filesystem::path& path);
// Loads weights by name and shape; every mismatch is listed in one RuntimeError.
void loadWeights(Network& network, const std::filesystem::path& path);
// Loads pretrained weights into the backbone, as `weights = "..."` does: every
// backbone tensor must be in the file with its shape (a first convolution made
// for 3 channels is summed or repeated to fit `in_channels`, as fastai does);
// the head's tensors load when they all fit, else the head keeps its fresh
// initialisation (logged); any other mismatch is one RuntimeError listing all.
void loadBackboneWeights(Network& network, const std::filesystem::path& path, const ModelLog& log = {});

}  // namespace pipelang::runtime
