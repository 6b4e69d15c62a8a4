// A network is a backbone and a head, each built by the maker its built-in registered.
// Weights are saved and loaded by PyTorch state-dict names.
#include "runtime/models/network.h"

#include <iostream>
#include <map>
#include <set>

#include "hub/locations.h"
#include "interpreter/layer_groups.h"
#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/models/batch_norm.h"
#include "runtime/models/parts.h"
#include "runtime/safetensors.h"
#include "runtime/weights/weights_file.h"

namespace pipelang::runtime {

namespace {

using models::Backbone;
using models::Head;

bool isBatchNorm(const torch::nn::Module& m) {
    return dynamic_cast<const torch::nn::BatchNorm1dImpl*>(&m) || dynamic_cast<const torch::nn::BatchNorm2dImpl*>(&m) ||
           dynamic_cast<const models::BatchNorm2dImpl*>(&m);
}

// Fits a first convolution made for `from` input channels to `to` channels,
// as fastai does: summed for one channel, else repeated and rescaled.
torch::Tensor adaptChannels(const torch::Tensor& weight, int64_t to) {
    int64_t from = weight.size(1);
    if (to == 1) return weight.sum(1, /*keepdim=*/true);
    int64_t repeats = (to + from - 1) / from;
    return weight.repeat({1, repeats, 1, 1}).narrow(1, 0, to) * (static_cast<double>(from) / static_cast<double>(to));
}

class ComposedNetwork : public Network {
public:
    ComposedNetwork(std::shared_ptr<Backbone> backbone, std::shared_ptr<Head> head,
                    std::vector<stdlib::LayerGroup> groups)
        : backbone_(std::move(backbone)), head_(std::move(head)), groups_(std::move(groups)) {
        // The parts' modules become this module's children, so names are the
        // reference implementation's (`conv1.weight`, `fc.weight`).
        // A backbone's own tensors (ViT's `class_token`) come first, as in PyTorch's state dicts.
        for (const auto& p : backbone_->named_parameters(/*recurse=*/false)) register_parameter(p.key(), p.value());
        for (const auto& b : backbone_->named_buffers(/*recurse=*/false)) register_buffer(b.key(), b.value());
        for (const auto& child : backbone_->named_children()) register_module(child.key(), child.value());
        if (backbone_->headPrefix().empty()) {
            for (const auto& child : head_->named_children()) {
                if (named_children().contains(child.key()))
                    throw RuntimeError("internal error: head module `" + child.key() + "` clashes with the backbone's");
                register_module(child.key(), child.value());
            }
        } else {
            register_module(backbone_->headPrefix(), head_);
        }
        // oneDNN's convolutions run about 1.3 to 1.4 times faster on CPU with
        // channels-last images and filters (measured on this project's CNNs);
        // loading and saving weights copy values, so the layout stays inside.
        channelsLast_ = backbone_->channelsLast();
        if (channelsLast_)
            for (auto& p : parameters())
                if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
        // A Linear weight, {out, in}, is kept column-major: the forward
        // product x·Wᵀ then reaches OpenBLAS untransposed, which it serves
        // with its small-matrix kernels (makemore's MLP: forward and
        // backward of its two layers 10% faster). The shape, the names and
        // the saved bytes are unchanged; gradients follow the layout.
        for (const auto& module : modules(/*include_self=*/false))
            if (auto* linear = module->as<torch::nn::Linear>())
                linear->weight.set_data(linear->weight.data().t().contiguous().t());
    }

    torch::Tensor forward(const Batch& batch) override {
        if (!channelsLast_ || batch.x.dim() != 4) return head_->forward(backbone_->forward(batch), batch.mask);
        Batch converted = batch;
        converted.x = batch.x.contiguous(torch::MemoryFormat::ChannelsLast);
        return head_->forward(backbone_->forward(converted), batch.mask);
    }
    std::vector<torch::Tensor> backboneParameters() override { return backbone_->parameters(); }
    std::vector<torch::Tensor> headParameters() override { return head_->parameters(); }

    // The backbone's parameters by the registry's patterns, which name them
    // as the backbone does (`layer1.0.conv1.weight`); the head's all in the last.
    std::vector<ParameterGroup> layerGroups() override {
        std::vector<ParameterGroup> out;
        for (const auto& group : groups_) out.push_back({group.name, {}});
        for (const auto& p : backbone_->named_parameters()) {
            size_t i = 0;
            while (i + 1 < groups_.size() && !groups_[i].holds(p.key())) ++i;
            if (i + 1 == groups_.size())
                throw RuntimeError("internal error: `" + backbone_->builtinName() + "`'s parameter `" + p.key() +
                                   "` is in none of its layer groups");
            out[i].parameters.push_back(p.value());
        }
        out.back().parameters = head_->parameters();
        return out;
    }

    void freezeBackbone(bool frozen) override {
        if (fixed_) frozen = true;
        for (const auto& module : backbone_->modules(/*include_self=*/false)) {
            bool norm = isBatchNorm(*module);
            for (auto& p : module->parameters(/*recurse=*/false)) p.set_requires_grad(!frozen || norm);
        }
        for (auto& p : backbone_->learnsWhenFrozen()) p.set_requires_grad(true);
    }
    bool fixedWindow() const override { return backbone_->fixedWindow(); }
    void fix() {
        fixed_ = true;
        freezeBackbone(true);
    }

    // Whether a state-dict entry (a parameter or buffer) belongs to the head.
    std::set<const void*> headTensors() {
        std::set<const void*> ids;
        for (const auto& p : head_->parameters()) ids.insert(p.unsafeGetTensorImpl());
        for (const auto& b : head_->buffers()) ids.insert(b.unsafeGetTensorImpl());
        return ids;
    }
    // The state-dict name of a module's tensor (`fc.weight` is EfficientNet's `classifier.1.weight`).
    std::string stateName(const std::string& name) const {
        for (const auto& [ours, theirs] : stateNames_)
            if (name.starts_with(ours)) return theirs + name.substr(ours.size());
        return name;
    }
    // A pretrained tensor of another shape made to fit: as the backbone says
    // (ViT's position grid), or its first convolution made for another
    // number of input channels; undefined when it cannot be.
    Backbone::Fitted fitWeight(const std::string& name, const torch::Tensor& value, const torch::Tensor& target) const {
        if (auto fitted = backbone_->fitWeight(name, value, target); fitted.value.defined()) return fitted;
        if (name != backbone_->firstConv() || value.dim() != 4 || target.dim() != 4 ||
            value.size(0) != target.size(0) || value.size(2) != target.size(2) || value.size(3) != target.size(3))
            return {};
        return {adaptChannels(value.to(torch::kFloat32), target.size(1)),
                "`" + name + "` was made for " + std::to_string(value.size(1)) + " input channels; adapted to " +
                    std::to_string(target.size(1))};
    }
    bool ignoresWeight(const std::string& name) const { return backbone_->ignoresWeight(name); }
    std::string weightName(const std::string& name) const { return backbone_->weightName(name); }

private:
    std::shared_ptr<Backbone> backbone_;
    std::shared_ptr<Head> head_;
    std::vector<stdlib::LayerGroup> groups_;  // the backbone's, then the head's
    std::vector<std::pair<std::string, std::string>> stateNames_ = backbone_->stateNames();
    bool fixed_ = false;
    bool channelsLast_ = false;
};

// Every parameter and buffer in PyTorch's state-dict order: a module's own
// parameters, then its buffers, then its children's, depth first.
void collectState(const torch::nn::Module& module, const std::string& prefix,
                  std::vector<std::pair<std::string, torch::Tensor>>& out) {
    for (const auto& p : module.named_parameters(/*recurse=*/false)) out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : module.named_buffers(/*recurse=*/false)) out.emplace_back(prefix + b.key(), b.value());
    for (const auto& c : module.named_children()) collectState(*c.value(), prefix + c.key() + ".", out);
}

// "a, b, c and 4 more"
std::string listOf(const std::vector<std::string>& items, size_t most = 8) {
    std::string text;
    for (size_t i = 0; i < items.size() && i < most; ++i) text += (i ? ", " : "") + items[i];
    if (items.size() > most) text += " and " + std::to_string(items.size() - most) + " more";
    return text;
}

struct Mismatches {
    std::vector<std::string> missing, unexpected, shapes;

    bool empty() const { return missing.empty() && unexpected.empty() && shapes.empty(); }
    void shape(const std::string& name, const torch::Tensor& file, const torch::Tensor& model) {
        shapes.push_back("`" + name + "` is " + models::shapeText(file.sizes()) + " in the file but " +
                         models::shapeText(model.sizes()) + " in the model");
    }
    [[noreturn]] void raise(const std::filesystem::path& path) const {
        std::vector<std::string> parts;
        auto quote = [](std::vector<std::string> names) {
            for (auto& n : names) n = "`" + n + "`";
            return names;
        };
        if (!missing.empty())
            parts.push_back(std::to_string(missing.size()) + " missing (" + listOf(quote(missing)) + ")");
        if (!unexpected.empty())
            parts.push_back(std::to_string(unexpected.size()) + " unexpected (" + listOf(quote(unexpected)) + ")");
        if (!shapes.empty())
            parts.push_back(std::to_string(shapes.size()) + " of another shape (" + listOf(shapes, 4) + ")");
        std::string text;
        for (size_t i = 0; i < parts.size(); ++i) text += (i ? "; " : "") + parts[i];
        throw RuntimeError("weights file `" + path.string() + "` does not fit the model: " + text);
    }
};

void assign(torch::Tensor& target, const torch::Tensor& value) {
    torch::NoGradGuard noGrad;
    target.copy_(value);
}

void emit(const ModelLog& log, const std::string& line) {
    if (log)
        log(line);
    else
        std::cerr << line << "\n";
}

}  // namespace

namespace models {

DenseImpl::DenseImpl(int64_t in, int64_t out, const std::string& activation, double dropout) : activation_(activation) {
    linear_ = register_module("linear", torch::nn::Linear(in, out));
    if (dropout > 0) dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
}

torch::Tensor DenseImpl::forward(const torch::Tensor& x) {
    torch::Tensor y = linear_->forward(x);
    if (activation_ == "gelu")
        y = torch::gelu(y);
    else if (activation_ == "tanh")
        y = torch::tanh(y);
    else
        y = torch::relu(y);
    return dropout_ ? dropout_->forward(y) : y;
}

void expectImages(const Batch& batch, const std::string& builtin, int64_t channels) {
    const torch::Tensor& x = batch.x;
    if (x.dim() != 4 || x.size(1) != channels)
        throw RuntimeError(builtin + " expects a batch of " + std::to_string(channels) + "-channel images, {B, " +
                           std::to_string(channels) + ", H, W}, but got " + shapeText(x.sizes()));
}

int64_t imageChannels(const Value& call, const DataInfo& info, const char* builtin) {
    int64_t inChannels = intArg(call, "in_channels");
    const Value* written = call.arg("in_channels");
    if (info.input == "image" && info.itemShape.size() == 3 && info.itemShape[0] != inChannels) {
        // Left at its default, the channel count follows the data (greyscale
        // Fashion-MNIST needs no `in_channels = 1`); written, it must agree.
        if (written->origin == Origin::Default) return info.itemShape[0];
        throw RuntimeError(std::string(builtin) + " has `in_channels = " + std::to_string(inChannels) +
                           "` but the images have " + std::to_string(info.itemShape[0]) +
                           (info.itemShape[0] == 1 ? " channel" : " channels"));
    }
    return inChannels;
}

std::string shapeText(torch::IntArrayRef shape) {
    std::string text = "[";
    for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

}  // namespace models

std::shared_ptr<Network> buildNetwork(const Value& backboneCall, const Value& headCall, const DataInfo& info,
                                      const std::filesystem::path& baseDir, const ModelLog& log) {
    if (backboneCall.kind == Value::Kind::Ref)
        throw RuntimeError("`backbone = " + backboneCall.text + "` is not supported by this runtime yet");
    if (backboneCall.kind != Value::Kind::Call) throw RuntimeError("the model has no backbone");
    const auto& makeBackbone = makerOf<models::BackboneMakers>(backboneCall);
    if (headCall.kind != Value::Kind::Call) throw RuntimeError("the model has no head");
    const auto& makeHead = makerOf<models::HeadMakers>(headCall);

    std::shared_ptr<Backbone> backbone = makeBackbone(backboneCall, info);
    std::shared_ptr<Head> head = makeHead(headCall, info, *backbone);
    auto network = std::make_shared<ComposedNetwork>(backbone, head, layerGroups(backboneCall));

    // A backbone that wraps another (`frames(resnet(weights = ...))`) takes
    // that one's weights and freezing: its state dict has the same names.
    const Value* own = backboneCall.arg("backbone");
    const Value& weighted = own && own->kind == Value::Kind::Call ? *own : backboneCall;
    if (const Value* weights = weighted.arg("weights"); weights && weights->kind == Value::Kind::String) {
        hub::FoundWeights found = hub::findWeights(weights->text, baseDir);
        if (!found.path) throw RuntimeError(hub::notFound(weights->text, found));
        loadBackboneWeights(*network, *found.path, log);
    }
    if (const Value* freeze = weighted.arg("freeze"); freeze && freeze->boolean) network->fix();
    return network;
}

std::shared_ptr<Network> buildNetwork(const Section& model, const DataInfo& info, const std::filesystem::path& baseDir,
                                      const ModelLog& log) {
    const Value* backbone = model.field("backbone");
    const Value* head = model.field("head");
    if (!backbone || backbone->isNone()) throw RuntimeError("model `" + model.name + "` has no backbone");
    if (!head || head->isNone()) throw RuntimeError("model `" + model.name + "` has no head");
    return buildNetwork(*backbone, *head, info, baseDir, log);
}

std::vector<std::pair<std::string, torch::Tensor>> namedState(Network& network) {
    std::vector<std::pair<std::string, torch::Tensor>> state;
    collectState(network, "", state);
    if (auto* composed = dynamic_cast<ComposedNetwork*>(&network))
        for (auto& [name, _] : state) name = composed->stateName(name);
    return state;
}

void saveWeights(Network& network, const std::filesystem::path& path) {
    NamedTensors data;
    data.tensors = namedState(network);
    data.metadata["format"] = "pt";  // as PyTorch's safetensors writer marks its files
    writeSafetensors(path, data);
}

void loadWeights(Network& network, const std::filesystem::path& path) {
    NamedTensors file = readWeights(path);
    std::map<std::string, torch::Tensor> byName(file.tensors.begin(), file.tensors.end());
    auto state = namedState(network);
    Mismatches bad;
    std::set<std::string> known;
    for (const auto& [name, tensor] : state) {
        known.insert(name);
        auto it = byName.find(name);
        if (it == byName.end())
            bad.missing.push_back(name);
        else if (it->second.sizes() != tensor.sizes())
            bad.shape(name, it->second, tensor);
    }
    for (const auto& [name, _] : file.tensors)
        if (!known.contains(name)) bad.unexpected.push_back(name);
    if (!bad.empty()) bad.raise(path);
    for (auto& [name, tensor] : state) assign(tensor, byName.at(name));
}

// A model saved from a task model (transformers' BertForMaskedLM, ...) holds
// the backbone under a base prefix (`bert.`) beside the task's own heads
// (`cls.`): the prefix goes and those heads are passed over, as
// transformers' from_pretrained does. A file whose names already fit is left alone.
static void dropBasePrefix(NamedTensors& file, const std::vector<std::pair<std::string, torch::Tensor>>& state,
                           const std::filesystem::path& path, const ModelLog& log) {
    std::set<std::string> names;
    for (const auto& [name, _] : state) names.insert(name);
    std::map<std::string, int> prefixes;  // prefix → names it makes fit
    for (const auto& [name, _] : file.tensors) {
        size_t dot = name.find('.');
        if (names.contains(name)) return;
        if (dot != std::string::npos && names.contains(name.substr(dot + 1))) ++prefixes[name.substr(0, dot)];
    }
    if (prefixes.empty()) return;
    std::string prefix =
        std::max_element(prefixes.begin(), prefixes.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
    NamedTensors inner;
    std::set<std::string> passed;
    for (auto& [name, tensor] : file.tensors) {
        if (name.starts_with(prefix + "."))
            inner.tensors.push_back({name.substr(prefix.size() + 1), tensor});
        else
            passed.insert(name.substr(0, name.find('.')));
    }
    std::string heads;
    for (const auto& p : passed) heads += (heads.empty() ? "`" : ", `") + p + ".*`";
    emit(log, "weights `" + path.string() + "`: the backbone is under `" + prefix + ".`" +
                  (heads.empty() ? "" : "; the file's own heads (" + heads + ") are not used"));
    file = std::move(inner);
}

void loadBackboneWeights(Network& network, const std::filesystem::path& path, const ModelLog& log) {
    auto* composed = dynamic_cast<ComposedNetwork*>(&network);
    if (!composed)
        throw RuntimeError("internal error: pretrained weights load only into networks built by buildNetwork");
    NamedTensors file = readWeights(path);
    for (auto& [name, _] : file.tensors) name = composed->weightName(name);
    auto state = namedState(network);
    dropBasePrefix(file, state, path, log);
    std::map<std::string, torch::Tensor> byName(file.tensors.begin(), file.tensors.end());
    std::set<const void*> headIds = composed->headTensors();

    Mismatches bad;
    std::set<std::string> known, headRoots;
    std::vector<std::pair<torch::Tensor*, torch::Tensor>> loads;  // target, value
    std::vector<std::pair<torch::Tensor*, torch::Tensor>> headLoads;
    std::string headProblem;           // why the head keeps its fresh weights
    std::vector<std::string> adapted;  // what fitWeight changed, said once the file loads
    for (auto& [name, tensor] : state) {
        known.insert(name);
        bool inHead = headIds.contains(tensor.unsafeGetTensorImpl());
        if (inHead) headRoots.insert(name.substr(0, name.find('.')));
        auto it = byName.find(name);
        if (it == byName.end()) {
            if (!inHead)
                bad.missing.push_back(name);
            else if (headProblem.empty())
                headProblem = "it has no `" + name + "`";
            continue;
        }
        torch::Tensor value = it->second;
        if (value.sizes() != tensor.sizes()) {
            if (inHead) {
                if (headProblem.empty())
                    headProblem = "its `" + name + "` is " + models::shapeText(value.sizes()) + ", here " +
                                  models::shapeText(tensor.sizes());
                continue;
            }
            auto fitted = composed->fitWeight(name, value, tensor);
            if (!fitted.value.defined() || fitted.value.sizes() != tensor.sizes()) {
                bad.shape(name, value, tensor);
                continue;
            }
            value = fitted.value;
            adapted.push_back(fitted.note);
        }
        (inHead ? headLoads : loads).emplace_back(&tensor, value);
    }
    // File tensors the model lacks: those under the head's names belong to a
    // head made for other outputs; any other is a mismatch.
    for (const auto& [name, _] : file.tensors) {
        if (known.contains(name) || composed->ignoresWeight(name)) continue;
        if (headRoots.contains(name.substr(0, name.find('.')))) {
            if (headProblem.empty()) headProblem = "it has `" + name + "`, which this head lacks";
        } else {
            bad.unexpected.push_back(name);
        }
    }
    if (!bad.empty()) bad.raise(path);

    for (auto& [target, value] : loads) assign(*target, value);
    for (const auto& note : adapted) emit(log, "weights `" + path.string() + "`: " + note);
    // A file without any head (a bare backbone) is no news; one whose head is
    // for other outputs is worth a line.
    bool fileHasHead = false;
    for (const auto& [name, _] : file.tensors)
        if (headRoots.contains(name.substr(0, name.find('.')))) fileHasHead = true;
    if (headProblem.empty()) {
        for (auto& [target, value] : headLoads) assign(*target, value);
    } else if (fileHasHead) {
        emit(log, "weights `" + path.string() +
                      "`: the head starts from random weights, since the file's head does not fit (" + headProblem +
                      ")");
    }
}

}  // namespace pipelang::runtime
