#include "runtime/train/loss.h"

#include "runtime/error.h"

namespace pipelang::runtime {

namespace F = torch::nn::functional;

LossFn makeLoss(const Value& loss) {
    const std::string& name = loss.text;
    auto number = [&](const char* param, double fallback) {
        const Value* v = loss.arg(param);
        return v && !v->isNone() ? v->number : fallback;
    };
    if (name == "cross_entropy") {
        double smoothing = number("label_smoothing", 0);
        return [smoothing](const torch::Tensor& out, const torch::Tensor& y) {
            return F::cross_entropy(out, y, F::CrossEntropyFuncOptions().label_smoothing(smoothing));
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
