#include "runtime/models/batch_norm.h"

#include "runtime/distributed/collectives.h"

namespace pipelang::runtime::models {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The shape that broadcasts a per-channel vector over {N, C, ...}.
std::vector<int64_t> channelShape(const torch::Tensor& input) {
    std::vector<int64_t> shape(size_t(input.dim()), 1);
    shape[1] = input.size(1);
    return shape;
}

std::vector<int64_t> reducedDims(const torch::Tensor& input) {
    std::vector<int64_t> dims = {0};
    for (int64_t d = 2; d < input.dim(); ++d) dims.push_back(d);
    return dims;
}

// The sum over every rank of a per-channel statistic, in one collective.
torch::Tensor sumOverRanks(torch::Tensor stacked) {
    std::vector<torch::Tensor> t = {stacked.contiguous()};
    distributed::allReduceSum(t);
    return t[0];
}

class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
public:
    static torch::Tensor forward(AutogradContext* ctx, torch::Tensor input, torch::Tensor weight, torch::Tensor bias,
                                 torch::Tensor runningMean, torch::Tensor runningVar, double momentum, double eps) {
        auto dims = reducedDims(input);
        auto shape = channelShape(input);
        // Sums in double: the statistics of a large global batch keep their digits.
        torch::Tensor local = torch::stack(
            {torch::full({input.size(1)}, double(input.numel() / input.size(1)), input.options().dtype(torch::kDouble)),
             input.sum(dims, false, torch::kDouble), (input * input).sum(dims, false, torch::kDouble)});
        torch::Tensor global = sumOverRanks(local);
        torch::Tensor count = global[0], mean = global[1] / count;
        torch::Tensor var = (global[2] / count - mean * mean).clamp_min(0);
        torch::Tensor invstd = (var + eps).rsqrt();
        {
            torch::NoGradGuard noGrad;
            if (runningMean.defined()) {
                runningMean.mul_(1 - momentum).add_(mean.to(runningMean.dtype()), momentum);
                runningVar.mul_(1 - momentum).add_((var * count / (count - 1)).to(runningVar.dtype()), momentum);
            }
        }
        mean = mean.to(input.scalar_type());
        invstd = invstd.to(input.scalar_type());
        torch::Tensor w = weight.defined() ? weight : torch::ones({input.size(1)}, input.options());
        torch::Tensor out = (input - mean.view(shape)) * (invstd * w).view(shape);
        if (bias.defined()) out = out + bias.view(shape);
        ctx->save_for_backward({input, w, mean, invstd});
        ctx->saved_data["count"] = count[0].item<double>();
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
        auto saved = ctx->get_saved_variables();
        torch::Tensor input = saved[0], w = saved[1], mean = saved[2], invstd = saved[3];
        double count = ctx->saved_data["count"].toDouble();
        torch::Tensor dy = gradOutputs[0];
        auto dims = reducedDims(input);
        auto shape = channelShape(input);
        torch::Tensor xmu = input - mean.view(shape);
        torch::Tensor sumDy = dy.sum(dims), sumDyXmu = (dy * xmu).sum(dims);
        // The parameters' gradients are this rank's: the gradient reducer
        // averages them with the others' as it does every parameter's.
        torch::Tensor gradWeight = sumDyXmu * invstd, gradBias = sumDy;
        // The input's gradient goes through the global mean and variance:
        // it needs the gradient sums of every rank.
        torch::Tensor global = sumOverRanks(torch::stack({sumDy, sumDyXmu}));
        torch::Tensor meanDy = global[0] / count, meanDyXmu = global[1] / count;
        torch::Tensor gradInput =
            (dy - meanDy.view(shape) - xmu * (invstd * invstd * meanDyXmu).view(shape)) * (invstd * w).view(shape);
        return {gradInput, gradWeight, gradBias, {}, {}, {}, {}};
    }
};

}  // namespace

torch::Tensor syncBatchNorm(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias,
                            torch::Tensor runningMean, torch::Tensor runningVar, double momentum, double eps) {
    return SyncBatchNormFunction::apply(input, weight, bias, runningMean, runningVar, momentum, eps);
}

BatchNorm2dImpl::BatchNorm2dImpl(int64_t features, double eps, double momentum)
    : features(features), eps(eps), momentum(momentum) {
    reset();
}

void BatchNorm2dImpl::reset() {
    weight = register_parameter("weight", torch::ones({features}));
    bias = register_parameter("bias", torch::zeros({features}));
    running_mean = register_buffer("running_mean", torch::zeros({features}));
    running_var = register_buffer("running_var", torch::ones({features}));
    num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
}

void BatchNorm2dImpl::pretty_print(std::ostream& stream) const {
    stream << "BatchNorm2d(" << features << ", eps=" << eps << ", momentum=" << momentum
           << (synchronized ? ", synchronized" : "") << ")";
}

torch::Tensor BatchNorm2dImpl::forward(const torch::Tensor& input) {
    if (input.dim() != 4)
        throw std::invalid_argument("batch norm expects {N, C, H, W} input, got " + std::to_string(input.dim()) +
                                    " dimensions");
    if (is_training()) num_batches_tracked += 1;
    if (synchronized && is_training() && distributed::distributed())
        return syncBatchNorm(input, weight, bias, running_mean, running_var, momentum, eps);
    return torch::batch_norm(input, weight, bias, running_mean, running_var, is_training(), momentum, eps,
                             at::globalContext().userEnabledCuDNN());
}

void synchronizeBatchNorm(torch::nn::Module& network, bool on) {
    for (auto& m : network.modules())
        if (auto* bn = dynamic_cast<BatchNorm2dImpl*>(m.get())) bn->synchronized = on;
}

}  // namespace pipelang::runtime::models
