#include "runtime/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>

#include "runtime/error.h"

namespace pipelang::runtime {

namespace fs = std::filesystem;

namespace {

torch::Tensor number(double value) {
    return torch::tensor(value, torch::kFloat64);
}
torch::Tensor count(int64_t value) {
    return torch::tensor(value, torch::kInt64);
}

torch::Tensor read(torch::serialize::InputArchive& archive, const std::string& key) {
    torch::Tensor t;
    archive.read(key, t);
    return t;
}

void fsyncFile(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    bool ok = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok) throw RuntimeError("cannot write the checkpoint `" + path.string() + "` to disk");
}

}  // namespace

void saveCheckpoint(const fs::path& path, Network& network, torch::optim::Optimizer& optimizer,
                    const TrainState& state) {
    torch::serialize::OutputArchive archive;
    for (const auto& [name, tensor] : namedState(network)) archive.write("model/" + name, tensor.detach().cpu());
    torch::serialize::OutputArchive optimizerArchive;
    optimizer.save(optimizerArchive);
    archive.write("optimizer", optimizerArchive);
    archive.write("state/epoch", count(state.epoch));
    archive.write("state/batch", count(state.batch));
    archive.write("state/global_step", count(state.globalStep));
    archive.write("state/total", number(state.total));
    archive.write("state/running", number(state.running));
    archive.write("state/items", count(state.items));
    archive.write("state/keep_best", number(state.keepBest));
    archive.write("state/keep_epoch", count(state.keepEpoch));
    archive.write("state/stop_best", number(state.stopBest));
    archive.write("state/stop_epoch", count(state.stopEpoch));
    archive.write("state/kept", count(int64_t(state.kept.size())));
    for (size_t i = 0; i < state.kept.size(); ++i) archive.write("kept/" + std::to_string(i), state.kept[i].second);
    archive.write("rng", at::detail::getDefaultCPUGenerator().get_state());

    fs::path temporary = path;
    temporary += ".tmp";
    archive.save_to(temporary.string());
    fsyncFile(temporary);
    // The current checkpoint becomes the previous one: a hard link, so that
    // checkpoint.pt exists at every moment; renaming where links are not allowed.
    std::error_code ec;
    if (fs::exists(path, ec)) {
        fs::path previous = previousCheckpoint(path);
        fs::remove(previous, ec);
        if (::link(path.c_str(), previous.c_str()) != 0) fs::rename(path, previous, ec);
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0)
        throw RuntimeError("cannot write the checkpoint `" + path.string() + "`");
}

fs::path previousCheckpoint(const fs::path& path) {
    fs::path previous = path;
    previous.replace_extension(".prev" + path.extension().string());
    return previous;
}

std::optional<Resumed> resumeCheckpoint(const fs::path& path, Network& network, torch::optim::Optimizer& optimizer) {
    fs::path previous = previousCheckpoint(path);
    std::error_code ec;
    bool current = fs::exists(path, ec), before = fs::exists(previous, ec);
    if (!current && !before) return std::nullopt;
    std::string why;
    if (current) {
        try {
            return Resumed{loadCheckpoint(path, network, optimizer), path, ""};
        } catch (const RuntimeError& e) {
            if (!before) throw;
            why = e.what();
        }
    } else {
        why = "`" + path.string() + "` is missing";
    }
    Resumed resumed{loadCheckpoint(previous, network, optimizer), previous, ""};
    resumed.warning = why + "; resuming from the checkpoint before it, `" + previous.string() + "`";
    return resumed;
}

TrainState loadCheckpoint(const fs::path& path, Network& network, torch::optim::Optimizer& optimizer) {
    TrainState state;
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(path.string());
        torch::NoGradGuard noGrad;
        auto named = namedState(network);
        for (auto& [name, tensor] : named) tensor.copy_(read(archive, "model/" + name));
        torch::serialize::InputArchive optimizerArchive;
        archive.read("optimizer", optimizerArchive);
        optimizer.load(optimizerArchive);
        state.epoch = read(archive, "state/epoch").item<int64_t>();
        state.batch = read(archive, "state/batch").item<int64_t>();
        state.globalStep = read(archive, "state/global_step").item<int64_t>();
        state.total = read(archive, "state/total").item<double>();
        state.running = read(archive, "state/running").item<double>();
        state.items = read(archive, "state/items").item<int64_t>();
        state.keepBest = read(archive, "state/keep_best").item<double>();
        state.keepEpoch = read(archive, "state/keep_epoch").item<int64_t>();
        state.stopBest = read(archive, "state/stop_best").item<double>();
        state.stopEpoch = read(archive, "state/stop_epoch").item<int64_t>();
        int64_t kept = read(archive, "state/kept").item<int64_t>();
        if (kept > 0) {
            // `kept` holds tensors in namedState order: the order snapshot() takes them in.
            std::vector<std::pair<std::string, torch::Tensor>> names;
            for (const auto& p : network.named_parameters()) names.push_back({p.key(), {}});
            for (const auto& b : network.named_buffers()) names.push_back({b.key(), {}});
            if (int64_t(names.size()) != kept) throw RuntimeError("the kept weights do not fit this network");
            for (int64_t i = 0; i < kept; ++i)
                state.kept.push_back({names[size_t(i)].first, read(archive, "kept/" + std::to_string(i))});
        }
        at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the one generator
        std::lock_guard<std::mutex> lock(generator.mutex());
        generator.set_state(read(archive, "rng"));
    } catch (const c10::Error& e) {
        throw RuntimeError("the checkpoint `" + path.string() + "` is corrupt or does not belong to this run (" +
                           firstLine(e) + "); start the run again without --resume");
    } catch (const RuntimeError& e) {
        throw RuntimeError("the checkpoint `" + path.string() + "` cannot be used: " + e.what());
    }
    return state;
}

}  // namespace pipelang::runtime
