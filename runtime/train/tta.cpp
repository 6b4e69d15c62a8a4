#include "runtime/train/tta.h"

#include <cmath>

#include "runtime/distributed/collectives.h"
#include "runtime/error.h"
#include "runtime/train/loop.h"
#include "runtime/train/loss.h"
#include "runtime/train/metrics.h"
#include "runtime/values.h"

namespace pipelang::runtime {

torch::Tensor predictionsOf(const torch::Tensor& output, const std::string& target) {
    if (target == "category") return output.softmax(-1);
    if (target == "multi_category") return output.sigmoid();
    return output;
}

torch::Tensor outputsOf(const torch::Tensor& predictions, const std::string& target) {
    if (target == "category") return predictions.clamp_min(1e-12).log();
    if (target == "multi_category") return predictions.clamp(1e-7, 1 - 1e-7).logit();
    return predictions;
}

torch::Tensor ttaBlend(const torch::Tensor& augmentedMean, const torch::Tensor& plain) {
    return torch::lerp(augmentedMean, plain, kTtaBeta);
}

namespace {

// Every batch's predictions and targets, in the loader's order.
struct Pass {
    std::vector<torch::Tensor> predictions, targets;
};

Pass predictAll(Network& network, Loader& loader, const std::string& precision, const std::string& target,
                const torch::Device& device) {
    Pass pass;
    loader.start(0);
    while (auto batch = loader.next()) {
        Batch b = toDevice(std::move(*batch), device);
        pass.predictions.push_back(predictionsOf(forwardAt(network, b, precision, device), target));
        pass.targets.push_back(b.y);
    }
    return pass;
}

}  // namespace

Evaluation evaluateWithTta(Network& network, const PreparedData& data, const Section& dataSection, Split split,
                           const Section& train, const Value& metricList, const torch::Device& device, int64_t passes) {
    const DataInfo& info = data.info();
    const int64_t batchSize = 2 * integerField(dataSection, "batch_size"),
                  workers = integerField(dataSection, "workers");
    if (passes > 0 && !data.augmentedLoader(split, batchSize, workers, 0))
        throw RuntimeError("tta needs image data: data `" + dataSection.name + "` has no item transforms to repeat");
    torch::NoGradGuard noGrad;
    network.eval();
    const std::string precision = stringField(train, "precision");
    auto plainLoader = data.loader(split, batchSize, workers);
    Pass plain = predictAll(network, *plainLoader, precision, info.target, device);
    std::vector<torch::Tensor> sums(plain.predictions.size());
    for (int64_t k = 0; k < passes; ++k) {
        auto loader = data.augmentedLoader(split, batchSize, workers, k);
        Pass augmented = predictAll(network, *loader, precision, info.target, device);
        for (size_t i = 0; i < sums.size() && i < augmented.predictions.size(); ++i)
            sums[i] = k == 0 ? augmented.predictions[i] : sums[i] + augmented.predictions[i];
    }
    Evaluation result;
    LossFn loss = makeLoss(fieldOf(train, "loss"));
    Metrics metrics(metricList, info);
    double total = 0;
    for (size_t i = 0; i < plain.predictions.size(); ++i) {
        torch::Tensor p = passes > 0 ? ttaBlend(sums[i] / double(passes), plain.predictions[i]) : plain.predictions[i];
        torch::Tensor out = outputsOf(p, info.target);
        const torch::Tensor& y = plain.targets[i];
        total += loss(out, y).item<double>() * double(y.size(0));
        result.items += y.size(0);
        metrics.add(out, y);
    }
    if (distributed::distributed()) {
        total = distributed::allReduceSum(total);
        result.items = int64_t(distributed::allReduceSum(double(result.items)));
        metrics.gather(distributed::allGatherRows);
    }
    result.loss = result.items ? total / double(result.items) : std::nan("");
    result.metrics = metrics.compute();
    result.confusion = metrics.confusionTable();
    return result;
}

}  // namespace pipelang::runtime
