#include "runtime/train/loop.h"

#include <ATen/autocast_mode.h>

#include <chrono>
#include <cmath>

#include "runtime/distributed/collectives.h"
#include "runtime/error.h"
#include "runtime/train/optimizer.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

// `precision = "bf16"`: the forward pass under LibTorch's autocast, which
// runs matrix products and convolutions in bfloat16 and keeps reductions and
// the loss in float32; weights, gradients and the optimizer stay float32.
// On CPU, LibTorch 1.13 autocasts to bfloat16 only; fp16 would need a
// gradient scaler, which this runtime does not have.
class Autocast {
public:
    Autocast(const std::string& precision, const torch::Device& device) {
        if (precision == "fp32") return;
        if (precision != "bf16")
            throw RuntimeError("precision \"" + precision +
                               "\" is not supported by this runtime yet (it needs a gradient scaler); use \"bf16\" "
                               "or \"fp32\"");
        cpu_ = device.is_cpu();
        if (cpu_) {
            previous_ = at::autocast::is_cpu_enabled();
            at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
            at::autocast::set_cpu_enabled(true);
        } else {
            previous_ = at::autocast::is_enabled();
            at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
            at::autocast::set_enabled(true);
        }
        at::autocast::increment_nesting();
        active_ = true;
    }
    ~Autocast() {
        if (!active_) return;
        // Casts of the weights are cached within one forward pass; leaving
        // the outermost autocast region drops them, as torch.autocast does.
        if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
        if (cpu_)
            at::autocast::set_cpu_enabled(previous_);
        else
            at::autocast::set_enabled(previous_);
    }
    Autocast(const Autocast&) = delete;
    Autocast& operator=(const Autocast&) = delete;

private:
    bool active_ = false, cpu_ = true, previous_ = false;
};

}  // namespace

Batch toDevice(Batch batch, const torch::Device& device) {
    if (device.is_cpu()) return batch;
    // From page-locked memory the copies run while the GPU still works on
    // the last batch. (Convolutional networks take their images channels_last
    // on every device: network.cpp.)
    batch.x = batch.x.pin_memory().to(device, /*non_blocking=*/true);
    if (batch.xCat.defined()) batch.xCat = batch.xCat.pin_memory().to(device, true);
    if (batch.mask.defined()) batch.mask = batch.mask.pin_memory().to(device, true);
    batch.y = batch.y.pin_memory().to(device, true);
    if (batch.yMix.defined()) batch.yMix = batch.yMix.pin_memory().to(device, true);
    if (batch.lam.defined()) batch.lam = batch.lam.pin_memory().to(device, true);
    return batch;
}

torch::Tensor forwardAt(Network& network, const Batch& batch, const std::string& precision,
                        const torch::Device& device) {
    if (precision == "fp32") return network.forward(batch);
    Autocast autocast(precision, device);
    return network.forward(batch).to(torch::kFloat32);
}

void checkPrecision(const std::string& precision, const torch::Device& device) {
    Autocast check(precision, device);
}

namespace {
const Value& fieldOfKind(const Section& section, std::string_view name, Value::Kind kind) {
    const Value& v = fieldOf(section, name);
    if (v.kind != kind)
        throw RuntimeError("internal error: " + section.kind + " `" + section.name + "` has no value for `" +
                           std::string(name) + "` (the checker fills in every default)");
    return v;
}
}  // namespace

int64_t integerField(const Section& section, std::string_view name) {
    return fieldOfKind(section, name, Value::Kind::Int).integer;
}

std::string stringField(const Section& section, std::string_view name) {
    return fieldOfKind(section, name, Value::Kind::String).text;
}

std::vector<std::string> epochColumns(const std::vector<std::string>& metricNames) {
    std::vector<std::string> columns = {"epoch", "train_loss", "valid_loss"};
    for (const auto& name : metricNames) columns.push_back(name);
    columns.push_back("time");
    return columns;
}

std::vector<std::string> epochCells(const EpochResult& r) {
    std::vector<std::string> cells = {std::to_string(r.epoch), formatNumber(r.trainLoss), formatNumber(r.validLoss)};
    for (const auto& [name, value] : r.metrics) cells.push_back(formatNumber(value));
    cells.push_back(formatDuration(r.seconds));
    return cells;
}

Loop::Loop(Network& network, const PreparedData& data, const Section& dataSection, const Section& train,
           const torch::Device& device, std::filesystem::path stageDir, Progress& progress)
    : network(network),
      data(data),
      dataSection(dataSection),
      train(train),
      device(device),
      stageDir(std::move(stageDir)),
      progress(progress) {}

FitResult Loop::run() {
    globalStep = start.globalStep;
    emit(&Callback::beforeFit);
    for (const Phase& p : phases) {
        runPhase(p);
        if (result.stoppedEarly) break;
    }
    emit(&Callback::afterFit);
    return std::move(result);
}

void Loop::runPhase(const Phase& p) {
    phase = &p;
    network.freezeBackbone(p.frozen);
    emit(&Callback::beforePhase);
    auto loader = data.loader(Split::Train, batchSize, workers);
    batches = loader->batches();
    step = 0;
    for (epochInPhase = 0; epochInPhase < p.epochs && !result.stoppedEarly; ++epochInPhase, ++epoch) {
        if (epoch < start.epoch) {  // trained before the checkpoint
            step += batches;
            continue;
        }
        runEpoch(*loader);
    }
    emit(&Callback::afterPhase);
}

void Loop::runEpoch(Loader& loader) {
    auto started = std::chrono::steady_clock::now();
    network.train();
    enterEpoch();
    loader.start(epoch, done);
    emit(&Callback::beforeEpoch);
    clearGradients(*optimizer);
    while (auto next = loader.next()) trainBatch(std::move(*next));
    emit(&Callback::beforeValidate);
    result.epochs.push_back(score(started));
    emit(&Callback::afterEpoch);
}

// An epoch the checkpoint stopped inside goes on after its last batch, with
// its loss sums; any other starts from nothing.
void Loop::enterEpoch() {
    bool partial = resumed && epoch == start.epoch && start.batch > 0;
    // A checkpoint's loss sums are over every rank: rank 0 takes them up.
    bool sums = partial && distributed::isMain();
    done = partial ? start.batch : 0;
    items = sums ? start.items : 0;
    total = sums ? start.total : 0;
    running = partial ? start.running : 0;
    step += done;
}

void Loop::trainBatch(Batch next) {
    int64_t steps = phase->epochs * batches;
    double factor = phase->shape(steps > 0 ? double(step) / double(steps) : 0, epochInPhase);
    setRates(*optimizer, phase->peak.lo * factor, phase->peak.hi * factor);
    lr = phase->peak.hi * factor;
    batch = toDevice(std::move(next), device);
    stepsNow = true;
    emit(&Callback::beforeBatch);
    output = forwardAt(network, batch, precision, device);
    loss = mixedLoss(lossFn, output, batch.y, batch.yMix, batch.lam);
    lossValue = loss.item<double>();
    emit(&Callback::afterLoss);
    loss.backward();
    ++done, ++step, ++globalStep;
    emit(&Callback::afterBackward);
    if (stepsNow) {
        emit(&Callback::beforeStep);
        optimizer->step();
        clearGradients(*optimizer);
        emit(&Callback::afterStep);
    }
    total += lossValue * double(batch.size());
    items += batch.size();
    running = done == 1 ? lossValue : 0.98 * running + 0.02 * lossValue;
    emit(&Callback::afterBatch);
    // The batch and its graph go before the next is made, as they would as locals.
    loss = output = torch::Tensor();
    batch = Batch();
}

EpochResult Loop::score(std::chrono::steady_clock::time_point started) {
    EpochResult r;
    r.epoch = epoch;
    // The training loss of the whole epoch, over every rank's items.
    double epochTotal = distributed::allReduceSum(total);
    double epochItems = distributed::allReduceSum(double(items));
    r.trainLoss = epochItems > 0 ? epochTotal / epochItems : std::nan("");
    r.validLoss = std::nan("");
    if (hasValid) {
        Evaluation ev = evaluate(network, data, dataSection, Split::Valid, train, *metricList, device);
        r.validLoss = ev.loss;
        r.metrics = ev.metrics;
    } else {
        // No validation split: the metric columns stay, empty (nan).
        for (const auto& name : metricNames) r.metrics.push_back({name, std::nan("")});
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return r;
}

void Loop::emit(void (Callback::*event)(Loop&)) {
    for (auto& callback : callbacks) ((*callback).*event)(*this);
}

}  // namespace pipelang::runtime
