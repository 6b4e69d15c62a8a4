#include "runtime/train/loss.h"

#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace F = torch::nn::functional;

std::pair<torch::Tensor, torch::Tensor> tokenPredictions(const torch::Tensor& out, const torch::Tensor& y) {
    // A model that reads a whole window predicts the token after it: y's last column.
    if (out.dim() == 2) return {out, y.select(1, -1)};
    if (out.dim() != 3 || out.size(0) != y.size(0) || out.size(1) != y.size(1))
        throw RuntimeError("a language model's predictions must be {batch, vocab} or {batch, length, vocab} for " +
                           std::string("targets of ") + std::to_string(y.size(0)) + " × " + std::to_string(y.size(1)) +
                           " tokens");
    return {out.reshape({-1, out.size(2)}), y.reshape({-1})};
}

namespace {

using LossMaker = LossFn (*)(const Value& call);
using LossMakers = stdlib::Implementations<stdlib::Family::Loss, LossMaker>;

LossFn crossEntropy(const Value& call) {
    double smoothing = numberArg(call, "label_smoothing");
    return [smoothing](const torch::Tensor& out, const torch::Tensor& y) {
        auto options = F::CrossEntropyFuncOptions().label_smoothing(smoothing).ignore_index(kIgnoreToken);
        if (y.dim() != 2 || y.scalar_type() != torch::kInt64) return F::cross_entropy(out, y, options);
        auto [scores, next] = tokenPredictions(out, y);
        return F::cross_entropy(scores, next, options);
    };
}
const LossMakers::Add kCrossEntropy{"cross_entropy", crossEntropy};

LossFn bceWithLogits(const Value& call) {
    torch::Tensor posWeight;
    if (auto weights = numbersArg(&call, "pos_weight"); !weights.empty())
        posWeight = torch::tensor(std::vector<float>(weights.begin(), weights.end()));
    return [posWeight](const torch::Tensor& out, const torch::Tensor& y) {
        auto options = F::BinaryCrossEntropyWithLogitsFuncOptions();
        if (posWeight.defined()) options.pos_weight(posWeight.to(out.device()));
        return F::binary_cross_entropy_with_logits(out, y, options);
    };
}
const LossMakers::Add kBceWithLogits{"bce_with_logits", bceWithLogits};

// Regression losses compare one output per target value.
const LossMakers::Add kMse{"mse", [](const Value&) -> LossFn {
                               return [](const torch::Tensor& out, const torch::Tensor& y) {
                                   return F::mse_loss(out.reshape(y.sizes()), y);
                               };
                           }};
const LossMakers::Add kL1{"l1", [](const Value&) -> LossFn {
                              return [](const torch::Tensor& out, const torch::Tensor& y) {
                                  return F::l1_loss(out.reshape(y.sizes()), y);
                              };
                          }};

LossFn huber(const Value& call) {
    double delta = numberArg(call, "delta");
    return [delta](const torch::Tensor& out, const torch::Tensor& y) {
        return F::huber_loss(out.reshape(y.sizes()), y, F::HuberLossFuncOptions().delta(delta));
    };
}
const LossMakers::Add kHuber{"huber", huber};

}  // namespace

torch::Tensor mixedLoss(const LossFn& loss, const torch::Tensor& output, const torch::Tensor& y,
                        const torch::Tensor& yMix, const torch::Tensor& lam) {
    if (!yMix.defined() || !lam.defined()) return loss(output, y);
    if (y.scalar_type() == torch::kInt64 && y.dim() == 1) {
        const int64_t classes = output.size(-1);
        torch::Tensor own = F::one_hot(y, classes).to(output.scalar_type());
        torch::Tensor other = F::one_hot(yMix, classes).to(output.scalar_type());
        torch::Tensor w = lam.to(output.scalar_type()).unsqueeze(1);
        return loss(output, w * own + (1 - w) * other);
    }
    std::vector<int64_t> shape(size_t(y.dim()), 1);
    shape[0] = y.size(0);
    torch::Tensor w = lam.to(y.scalar_type()).view(shape);
    return loss(output, w * y + (1 - w) * yMix);
}

LossFn makeLoss(const Value& loss) {
    return makerOf<LossMakers>(loss)(loss);
}

}  // namespace pipelang::runtime
