#include "runtime/train/loss.h"

#include "runtime/error.h"

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

LossFn makeLoss(const Value& loss) {
    const std::string& name = loss.text;
    auto number = [&](const char* param, double fallback) {
        const Value* v = loss.arg(param);
        return v && !v->isNone() ? v->number : fallback;
    };
    if (name == "cross_entropy") {
        double smoothing = number("label_smoothing", 0);
        return [smoothing](const torch::Tensor& out, const torch::Tensor& y) {
            auto options = F::CrossEntropyFuncOptions().label_smoothing(smoothing).ignore_index(kIgnoreToken);
            if (y.dim() != 2 || y.scalar_type() != torch::kInt64) return F::cross_entropy(out, y, options);
            auto [scores, next] = tokenPredictions(out, y);
            return F::cross_entropy(scores, next, options);
        };
    }
    if (name == "bce_with_logits") {
        torch::Tensor posWeight;
        if (const Value* w = loss.arg("pos_weight"); w && !w->isNone()) {
            std::vector<float> weights;
            if (w->kind == Value::Kind::List)
                for (const auto& item : w->items) weights.push_back(float(item.number));
            else
                weights.push_back(float(w->number));
            posWeight = torch::tensor(weights);
        }
        return [posWeight](const torch::Tensor& out, const torch::Tensor& y) {
            auto options = F::BinaryCrossEntropyWithLogitsFuncOptions();
            if (posWeight.defined()) options.pos_weight(posWeight.to(out.device()));
            return F::binary_cross_entropy_with_logits(out, y, options);
        };
    }
    if (name == "mse")
        return [](const torch::Tensor& out, const torch::Tensor& y) { return F::mse_loss(out.reshape(y.sizes()), y); };
    if (name == "l1")
        return [](const torch::Tensor& out, const torch::Tensor& y) { return F::l1_loss(out.reshape(y.sizes()), y); };
    if (name == "huber") {
        double delta = number("delta", 1.0);
        return [delta](const torch::Tensor& out, const torch::Tensor& y) {
            return F::huber_loss(out.reshape(y.sizes()), y, F::HuberLossFuncOptions().delta(delta));
        };
    }
    throw RuntimeError("loss `" + name + "` is not supported by this runtime yet");
}

}  // namespace pipelang::runtime
