#include "runtime/data/mix.h"

#include <algorithm>
#include <cmath>

namespace pipelang::runtime {

namespace {

double normalDraw(Rng& rng) {
    // Box–Muller; 1 - uniform() lies in (0, 1], so the logarithm is finite.
    double u = 1 - rng.uniform(), v = rng.uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
}

torch::Tensor permutationTensor(int64_t n, Rng& rng) {
    std::vector<int64_t> perm = rng.permutation(n);
    return torch::tensor(perm, torch::kInt64);
}

}  // namespace

double gammaDraw(double shape, Rng& rng) {
    if (shape < 1) return gammaDraw(shape + 1, rng) * std::pow(1 - rng.uniform(), 1 / shape);
    const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
    for (;;) {
        double x = normalDraw(rng), v = 1 + c * x;
        if (v <= 0) continue;
        v = v * v * v;
        double u = 1 - rng.uniform();
        if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
    }
}

double betaDraw(double a, double b, Rng& rng) {
    double x = gammaDraw(a, rng), y = gammaDraw(b, rng);
    return x + y > 0 ? x / (x + y) : 0.5;
}

void mixUp(Batch& batch, double alpha, Rng& rng) {
    const int64_t n = batch.size();
    if (n == 0) return;
    std::vector<float> lam(static_cast<size_t>(n));
    for (auto& l : lam) {
        double draw = betaDraw(alpha, alpha, rng);
        l = float(std::max(draw, 1 - draw));
    }
    torch::Tensor perm = permutationTensor(n, rng);
    torch::Tensor weights = torch::tensor(lam, torch::kFloat32);
    std::vector<int64_t> shape(size_t(batch.x.dim()), 1);
    shape[0] = n;
    torch::Tensor w = weights.view(shape);
    torch::Tensor partner = batch.x.index_select(0, perm);
    batch.x = w * batch.x + (1 - w) * partner;
    batch.yMix = batch.y.index_select(0, perm);
    batch.lam = weights;
}

MixBox cutMixBox(int height, int width, double lam, Rng& rng) {
    double cut = std::sqrt(1 - lam);
    int w = int(std::nearbyint(width * cut)), h = int(std::nearbyint(height * cut));
    int cx = int(rng.below(uint64_t(width))), cy = int(rng.below(uint64_t(height)));
    MixBox box;
    box.x1 = std::clamp(cx - w / 2, 0, width);
    box.y1 = std::clamp(cy - h / 2, 0, height);
    box.x2 = std::clamp(cx + w / 2, 0, width);
    box.y2 = std::clamp(cy + h / 2, 0, height);
    return box;
}

void cutMix(Batch& batch, double alpha, Rng& rng) {
    const int64_t n = batch.size();
    if (n == 0 || batch.x.dim() != 4) return;
    const int height = int(batch.x.size(2)), width = int(batch.x.size(3));
    double lam = betaDraw(alpha, alpha, rng);
    torch::Tensor perm = permutationTensor(n, rng);
    MixBox box = cutMixBox(height, width, lam, rng);
    using torch::indexing::Slice;
    std::vector<torch::indexing::TensorIndex> region = {Slice(), Slice(), Slice(box.y1, box.y2), Slice(box.x1, box.x2)};
    torch::Tensor partner = batch.x.index_select(0, perm);
    batch.x.index_put_(region, partner.index(region));
    double kept = 1 - double(box.x2 - box.x1) * double(box.y2 - box.y1) / (double(width) * height);
    batch.yMix = batch.y.index_select(0, perm);
    batch.lam = torch::full({n}, float(kept), torch::kFloat32);
}

}  // namespace pipelang::runtime
