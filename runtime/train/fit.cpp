#include "runtime/train/fit.h"

#include <ATen/autocast_mode.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include "record/tensorboard.h"
#include "runtime/distributed/gradient_sync.h"
#include "runtime/distributed/world.h"
#include "runtime/error.h"
#include "runtime/models/batch_norm.h"
#include "runtime/train/checkpoint.h"
#include "runtime/train/interrupt.h"
#include "runtime/train/loss.h"
#include "runtime/train/metrics.h"
#include "runtime/train/optimizer.h"
#include "runtime/train/schedule.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

bool higherIsBetter(const std::string& m) {
    static const char* lower[] = {"valid_loss", "train_loss", "error_rate", "mse", "mae", "rmse", "perplexity"};
    for (const char* name : lower)
        if (m == name) return false;
    return true;
}

std::string formatNumber(double value) {
    if (std::isnan(value)) return "nan";
    char buffer[32];
    double magnitude = std::fabs(value);
    std::snprintf(buffer, sizeof buffer, magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e5) ? "%.3e" : "%.6f",
                  value);
    return buffer;
}

namespace {

int64_t intArg(const Section& s, const char* field, int64_t fallback) {
    const Value* v = s.field(field);
    return v && v->kind == Value::Kind::Int ? v->integer : fallback;
}

Batch toDevice(Batch batch, const torch::Device& device) {
    if (device.is_cpu()) return batch;
    // From page-locked memory the copies run while the GPU still works on
    // the last batch. (Convolutional networks take their images channels_last
    // on every device: network.cpp.)
    batch.x = batch.x.pin_memory().to(device, /*non_blocking=*/true);
    if (batch.xCat.defined()) batch.xCat = batch.xCat.pin_memory().to(device, true);
    if (batch.mask.defined()) batch.mask = batch.mask.pin_memory().to(device, true);
    batch.y = batch.y.pin_memory().to(device, true);
    return batch;
}

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

std::string precisionOf(const Section& train) {
    const Value* p = train.field("precision");
    return p && p->kind == Value::Kind::String ? p->text : "fp32";
}

// Steps between two checks, in a run of several processes, of whether any
// rank was interrupted or is due a checkpoint: each check is an all-reduce
// that waits for the slowest rank.
constexpr int64_t kAskEvery = 16;

// One `step,lr` row of lr.csv, as `out << step << "," << lr` writes it
// (%g, 6 digits): std::to_chars skips the stream's locale machinery, a
// microsecond a row, which shows in the steps of a small model.
void writeLrRow(std::ofstream& out, int64_t step, double lr) {
    char row[64];
    char* end = std::to_chars(row, row + 24, step).ptr;
    *end++ = ',';
    end = std::to_chars(end, row + 62, lr, std::chars_format::general, 6).ptr;
    *end++ = '\n';
    out.write(row, end - row);
}

// The forward pass at the stage's precision; predictions come back float32,
// so that losses and metrics are computed as in fp32 training.
torch::Tensor forwardAt(Network& network, const Batch& batch, const std::string& precision,
                        const torch::Device& device) {
    if (precision == "fp32") return network.forward(batch);
    Autocast autocast(precision, device);
    return network.forward(batch).to(torch::kFloat32);
}

// What a `keep = best(...)` or `early_stop(...)` callback watches.
struct Watch {
    std::string monitor;
    bool higher = false;
    double best = 0;
    int64_t bestEpoch = -1;
    double minDelta = 0;

    explicit Watch(const Value& callback) {
        const Value* m = callback.arg("monitor");
        monitor = m && m->kind == Value::Kind::String ? m->text : "valid_loss";
        higher = higherIsBetter(monitor);
        if (const Value* d = callback.arg("min_delta")) minDelta = d->number;
    }
    // Records the epoch's value; true when it improved on the best so far.
    bool update(const EpochResult& r) {
        double value = read(r);
        if (std::isnan(value)) return false;
        bool improved = bestEpoch < 0 || (higher ? value > best + minDelta : value < best - minDelta);
        if (improved) {
            best = value;
            bestEpoch = r.epoch;
        }
        return improved;
    }
    double read(const EpochResult& r) const {
        if (monitor == "valid_loss") return r.validLoss;
        if (monitor == "train_loss") return r.trainLoss;
        for (const auto& [name, value] : r.metrics)
            if (name == monitor) return value;
        return std::nan("");
    }
};

std::vector<std::pair<std::string, torch::Tensor>> snapshot(Network& network) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : network.named_parameters()) out.push_back({p.key(), p.value().detach().clone()});
    for (const auto& b : network.named_buffers()) out.push_back({b.key(), b.value().detach().clone()});
    return out;
}

void restore(Network& network, const std::vector<std::pair<std::string, torch::Tensor>>& weights) {
    torch::NoGradGuard noGrad;
    auto params = network.named_parameters();
    auto buffers = network.named_buffers();
    for (const auto& [name, tensor] : weights) {
        if (auto* p = params.find(name)) p->copy_(tensor);
        if (auto* b = buffers.find(name)) b->copy_(tensor);
    }
}

// Keeps the header and the first `rows` rows of a CSV file the run wrote
// (what a checkpoint covers), reads them back as epochs when they are
// metrics, and reopens the file to append.
std::ofstream reopen(const fs::path& path, int64_t rows, std::vector<EpochResult>& epochs) {
    std::ifstream in(path);
    std::string text, line, header;
    std::getline(in, header);
    text = header + "\n";
    for (int64_t i = 0; i < rows && std::getline(in, line); ++i) {
        text += line + "\n";
        if (header.rfind("epoch,", 0) != 0) continue;
        std::vector<double> cells;
        std::stringstream split(line);
        for (std::string cell; std::getline(split, cell, ',');) cells.push_back(std::strtod(cell.c_str(), nullptr));
        std::vector<std::string> names;
        std::stringstream columns(header);
        for (std::string name; std::getline(columns, name, ',');) names.push_back(name);
        if (cells.size() < 4 || names.size() != cells.size()) continue;
        EpochResult r;
        r.epoch = int64_t(cells[0]);
        r.trainLoss = cells[1];
        r.validLoss = cells[2];
        for (size_t c = 3; c + 1 < cells.size(); ++c) r.metrics.push_back({names[c], cells[c]});
        r.seconds = cells.back();
        epochs.push_back(r);
    }
    in.close();
    std::ofstream(path, std::ios::trunc) << text;
    return std::ofstream(path, std::ios::app);
}

}  // namespace

Evaluation evaluate(Network& network, const PreparedData& data, const Section& dataSection, Split split,
                    const Section& train, const Value& metricList, const torch::Device& device) {
    Evaluation result;
    LossFn loss = makeLoss(*train.field("loss"));
    Metrics metrics(metricList, data.info());
    // Scoring keeps no activations for backward, so it can take larger batches.
    auto loader = data.loader(split, 2 * intArg(dataSection, "batch_size", 64), intArg(dataSection, "workers", 4));
    loader->start(0);
    torch::NoGradGuard noGrad;
    network.eval();
    double total = 0;
    const std::string precision = precisionOf(train);
    while (auto batch = loader->next()) {
        Batch b = toDevice(std::move(*batch), device);
        auto out = forwardAt(network, b, precision, device);
        total += loss(out, b.y).item<double>() * double(b.size());
        result.items += b.size();
        metrics.add(out, b.y);
    }
    if (distributed::distributed()) {
        // Each rank scored its shard of the split: the loss and the metrics
        // are those of the whole split, the same on every rank.
        if (distributed::anyRank(result.items == 0))
            throw RuntimeError("the " + std::string(split == Split::Test ? "test" : "validation") + " split has " +
                               "fewer items than there are processes; run with fewer, or give it more items");
        total = distributed::allReduceSum(total);
        result.items = int64_t(distributed::allReduceSum(double(result.items)));
        metrics.gather(distributed::allGatherRows);
    }
    result.loss = result.items ? total / double(result.items) : std::nan("");
    result.metrics = metrics.compute();
    result.confusion = metrics.confusionTable();
    return result;
}

FitResult fit(Network& network, const PreparedData& data, const Section& dataSection, const Section& train,
              const torch::Device& device, const fs::path& stageDir, Progress& progress, bool resume) {
    FitResult result;
    const Value& optimizerValue = *train.field("optimizer");
    LossFn loss = makeLoss(*train.field("loss"));
    PeakRates rates = peakRates(optimizerValue);
    std::vector<Phase> phases = planSchedule(*train.field("schedule"), rates.backbone, rates.head);
    auto optimizer = makeOptimizer(optimizerValue, network);
    const Value& metricList = *train.field("metrics");
    Metrics metrics(metricList, data.info());
    int64_t accumulate = intArg(train, "accumulate", 1);
    const Value* clip = train.field("clip");
    const std::string precision = precisionOf(train);
    { Autocast check(precision, device); }  // an unsupported precision fails before any work

    int64_t batchSize = intArg(dataSection, "batch_size", 64);
    int64_t workers = intArg(dataSection, "workers", 4);
    // `batch_size` is the whole batch of a step, as in one process: each of
    // N data-parallel ranks loads batch_size / N of it.
    if (batchSize % distributed::size() != 0)
        throw RuntimeError("batch_size " + std::to_string(batchSize) + " does not divide among " +
                           std::to_string(distributed::size()) + " processes; use a multiple of " +
                           std::to_string(distributed::size()));
    // Rank 0 alone writes metrics, events and checkpoints; every rank trains.
    const bool writes = distributed::isMain();

    // Callbacks: `keep` (best weights) and `callbacks` (early stop, checkpoints).
    std::optional<Watch> keep;
    if (const Value* k = train.field("keep"); k && k->kind == Value::Kind::Call && k->text == "best") keep.emplace(*k);
    std::optional<Watch> stopper;
    int64_t patience = 0, checkpointEvery = 0;
    for (const auto& cb : train.field("callbacks")->items) {
        if (cb.text == "early_stop") {
            stopper.emplace(cb);
            patience = cb.arg("patience")->integer;
        } else if (cb.text == "checkpoint") {
            checkpointEvery = cb.arg("every")->integer;
        } else if (cb.text == "best") {
            keep.emplace(cb);
        }
    }
    std::vector<std::pair<std::string, torch::Tensor>> keptWeights;

    if (writes) fs::create_directories(stageDir);
    const fs::path checkpoint = stageDir / "checkpoint.pt";
    TrainState state;
    bool resumed = resume && fs::exists(checkpoint);
    if (resumed) {
        state = loadCheckpoint(checkpoint, network, *optimizer);
        if (keep) keep->best = state.keepBest, keep->bestEpoch = state.keepEpoch;
        if (stopper) stopper->best = state.stopBest, stopper->bestEpoch = state.stopEpoch;
        keptWeights = state.kept;
        progress.line("resuming from " + checkpoint.string() + ": epoch " + std::to_string(state.epoch) + ", batch " +
                      std::to_string(state.batch));
    }
    distributed::copyFromMain(network);
    if (const Value* syncBn = train.field("sync_bn")) models::synchronizeBatchNorm(network, syncBn->boolean);
    auto saveState = [&](int64_t epoch, int64_t batch, int64_t globalStep, double total, double running,
                         int64_t items) {
        if (!writes) return;
        TrainState now;
        now.epoch = epoch, now.batch = batch, now.globalStep = globalStep;
        now.total = total, now.running = running, now.items = items;
        if (keep) now.keepBest = keep->best, now.keepEpoch = keep->bestEpoch;
        if (stopper) now.stopBest = stopper->best, now.stopEpoch = stopper->bestEpoch;
        now.kept = keptWeights;
        saveCheckpoint(checkpoint, network, *optimizer, now);
    };

    std::vector<std::string> columns = {"epoch", "train_loss", "valid_loss"};
    for (const auto& name : metrics.names()) columns.push_back(name);
    columns.push_back("time");
    // On resume the files keep the rows of the epochs (and steps) the
    // checkpoint holds, and go on from there.
    std::ofstream csv = !writes   ? std::ofstream()
                        : resumed ? reopen(stageDir / "metrics.csv", state.epoch, result.epochs)
                                  : std::ofstream(stageDir / "metrics.csv");
    if (!resumed)
        for (size_t i = 0; i < columns.size(); ++i)
            csv << (i ? "," : "") << columns[i] << (i + 1 < columns.size() ? "" : "\n");
    progress.header(columns);
    // The learning rate of every step (the head's, under discriminative
    // rates), for `pipe plot`'s picture of the schedule.
    std::vector<EpochResult> unusedRows;
    std::ofstream lrCsv = !writes   ? std::ofstream()
                          : resumed ? reopen(stageDir / "lr.csv", state.globalStep, unusedRows)
                                    : std::ofstream(stageDir / "lr.csv");
    if (!resumed) lrCsv << "step,lr\n";
    // Losses, metrics and the learning rate for `tensorboard --logdir runs`,
    // all against the global training step.
    std::optional<record::EventWriter> events;
    if (writes) events.emplace(stageDir);

    std::vector<torch::Tensor> buffers = network.buffers(), bufferBackup;
    for (const auto& buffer : buffers) bufferBackup.push_back(buffer.detach().clone());

    bool hasValid = data.size(Split::Valid) > 0;
    int64_t epoch = 0, globalStep = state.globalStep;
    auto lastCheckpoint = std::chrono::steady_clock::now();
    for (const auto& phase : phases) {
        network.freezeBackbone(phase.frozen);
        // Gradients averaged over the ranks, for the parameters this phase trains.
        distributed::GradientSync sync(network);
        auto trainLoader = data.loader(Split::Train, batchSize, workers);
        int64_t steps = phase.epochs * trainLoader->batches();
        int64_t step = 0;
        for (int64_t e = 0; e < phase.epochs && !result.stoppedEarly; ++e, ++epoch) {
            if (epoch < state.epoch) {  // trained before the checkpoint
                step += trainLoader->batches();
                continue;
            }
            auto started = std::chrono::steady_clock::now();
            network.train();
            bool partial = resumed && epoch == state.epoch && state.batch > 0;
            // A checkpoint's loss sums are over every rank: rank 0 takes them up.
            bool sums = partial && distributed::isMain();
            int64_t done = partial ? state.batch : 0, items = sums ? state.items : 0;
            double total = sums ? state.total : 0, running = partial ? state.running : 0;
            step += done;
            trainLoader->start(epoch, done);
            progress.begin("epoch " + std::to_string(epoch), trainLoader->batches());
            clearGradients(*optimizer);
            while (auto batch = trainLoader->next()) {
                double t = steps > 0 ? double(step) / double(steps) : 0;
                double factor = phase.shape(t, e);
                setRates(*optimizer, phase.backboneLr * factor, phase.headLr * factor);
                writeLrRow(lrCsv, globalStep, phase.headLr * factor);
                if (events) events->scalar("lr", globalStep, phase.headLr * factor);
                ++globalStep;
                Batch b = toDevice(std::move(*batch), device);
                // A forward pass in training mode updates batch-norm
                // statistics; they are kept (a few small tensors) so that a
                // step whose loss is not finite leaves the last good state.
                for (size_t i = 0; i < buffers.size(); ++i) bufferBackup[i].copy_(buffers[i]);
                // Gradients are averaged in the backward of a step's last
                // accumulated batch only, as under DDP's no_sync.
                bool stepsNow = (done + 1) % accumulate == 0 || done + 1 == trainLoader->batches();
                sync.beforeForward(stepsNow);
                auto out = forwardAt(network, b, precision, device);
                auto value = loss(out, b.y);
                // Checked before the step, so the weights are still the last
                // good ones: they are saved where the run's weights go.
                double v = value.item<double>();
                if (!std::isfinite(v)) {
                    {
                        torch::NoGradGuard noGrad;
                        for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(bufferBackup[i]);
                    }
                    fs::path kept = stageDir / "weights.safetensors";
                    if (writes) saveWeights(network, kept);
                    throw RuntimeError("the training loss became " + formatNumber(v) + " at step " +
                                       std::to_string(step + 1) + " (epoch " + std::to_string(epoch) + ", batch " +
                                       std::to_string(done + 1) + "); the last good weights are in " + kept.string() +
                                       "; lower the learning rate or add `clip = 1.0`");
                }
                sync.beforeBackward(stepsNow);
                (accumulate == 1 ? value : value / double(accumulate)).backward();
                ++done;
                ++step;
                if (done % accumulate == 0 || done == trainLoader->batches()) {
                    if (clip && !clip->isNone()) torch::nn::utils::clip_grad_norm_(network.parameters(), clip->number);
                    optimizer->step();
                    clearGradients(*optimizer);
                }
                total += v * double(b.size());
                items += b.size();
                running = done == 1 ? v : 0.98 * running + 0.02 * v;
                // Every rank trains on an equal shard: the run's items are N times this rank's.
                progress.step(done, items * distributed::size(), running);
                // Ctrl-C, or a long epoch: a checkpoint at a step boundary,
                // so that `--resume` goes on from the next batch.
                // Across processes that asks every rank (an all-reduce), so
                // they ask every kAskEvery steps: all at the same steps.
                bool boundary = done % accumulate == 0 && done < trainLoader->batches() &&
                                (!distributed::distributed() || done % kAskEvery == 0);
                bool due = std::chrono::steady_clock::now() - lastCheckpoint > std::chrono::minutes(5);
                // Every rank stops at the same step when Ctrl-C reached any,
                // and the checkpoint holds the loss sums of every rank.
                if (boundary && distributed::anyRank(interruptRequested() || due)) {
                    bool interrupted = distributed::anyRank(interruptRequested());
                    saveState(epoch, done, globalStep, distributed::allReduceSum(total), running,
                              int64_t(distributed::allReduceSum(double(items))));
                    lastCheckpoint = std::chrono::steady_clock::now();
                    if (interrupted) {
                        progress.end();
                        throw Interrupted("interrupted in epoch " + std::to_string(epoch) + " after batch " +
                                          std::to_string(done) + "; a checkpoint is in " + checkpoint.string());
                    }
                }
            }
            progress.end();

            EpochResult r;
            r.epoch = epoch;
            // The training loss of the whole epoch, over every rank's items.
            double epochTotal = distributed::allReduceSum(total);
            double epochItems = distributed::allReduceSum(double(items));
            r.trainLoss = epochItems > 0 ? epochTotal / epochItems : std::nan("");
            r.validLoss = std::nan("");
            if (hasValid) {
                Evaluation ev = evaluate(network, data, dataSection, Split::Valid, train, metricList, device);
                r.validLoss = ev.loss;
                r.metrics = ev.metrics;
            } else {
                // No validation split: the metric columns stay, empty (nan).
                for (const auto& name : metrics.names()) r.metrics.push_back({name, std::nan("")});
            }
            r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            std::vector<std::string> cells = {std::to_string(epoch), formatNumber(r.trainLoss),
                                              formatNumber(r.validLoss)};
            for (const auto& [name, value] : r.metrics) cells.push_back(formatNumber(value));
            cells.push_back(formatDuration(r.seconds));
            progress.row(cells);
            for (size_t i = 0; i + 1 < cells.size(); ++i) csv << cells[i] << ",";
            csv << r.seconds;
            csv << "\n";
            csv.flush();
            result.epochs.push_back(r);
            if (events) {
                events->scalar("loss/train", globalStep, r.trainLoss);
                if (hasValid) {
                    events->scalar("loss/valid", globalStep, r.validLoss);
                    for (const auto& [name, value] : r.metrics) events->scalar("metrics/" + name, globalStep, value);
                }
                events->flush();
            }

            if (keep && keep->update(r)) keptWeights = snapshot(network);
            if (writes && checkpointEvery > 0 && (epoch + 1) % checkpointEvery == 0) {
                fs::create_directories(stageDir / "checkpoints");
                saveWeights(network, stageDir / "checkpoints" / ("epoch-" + std::to_string(epoch) + ".safetensors"));
            }
            if (stopper) {
                stopper->update(r);
                if (epoch - stopper->bestEpoch >= patience) {
                    progress.line("stopping early: `" + stopper->monitor + "` has not improved for " +
                                  std::to_string(patience) + " epochs");
                    result.stoppedEarly = true;
                }
            }
            saveState(epoch + 1, 0, globalStep, 0, 0, 0);
            lastCheckpoint = std::chrono::steady_clock::now();
            if (distributed::anyRank(interruptRequested()))
                throw Interrupted("interrupted after epoch " + std::to_string(epoch) + "; a checkpoint is in " +
                                  checkpoint.string());
        }
        if (result.stoppedEarly) break;
    }
    if (keep && !keptWeights.empty()) {
        restore(network, keptWeights);
        result.keptEpoch = keep->bestEpoch;
        progress.line("kept the weights of epoch " + std::to_string(keep->bestEpoch) + " (best " + keep->monitor + " " +
                      formatNumber(keep->best) + ")");
    }
    return result;
}

}  // namespace pipelang::runtime
