// Batch transforms that mix training images, as fastai's MixUp and CutMix
// callbacks do, and the draws behind them. They act on a whole batch after
// normalisation (a blend commutes with it), on training batches only; the
// loss then weighs each item's own target by lam and its partner's by
// 1 - lam (loss.h, mixedLoss). Every draw comes from the generator given,
// which the loader seeds from (seed, epoch, batch), so the same seed gives
// the same batches.
#pragma once

#include "runtime/data/dataset.h"
#include "runtime/data/random.h"

namespace pipelang::runtime {

// Gamma(shape, 1) by Marsaglia and Tsang (shape < 1 through shape + 1 and a
// power of a uniform), and Beta(a, b) as G(a) / (G(a) + G(b)).
double gammaDraw(double shape, Rng& rng);
double betaDraw(double a, double b, Rng& rng);

// fastai's MixUp: per item λ ~ Beta(alpha, alpha), kept at max(λ, 1 - λ);
// a random permutation of the batch pairs the items; x = λ·x + (1 - λ)·x[perm].
void mixUp(Batch& batch, double alpha, Rng& rng);

// fastai's CutMix box for an h × w image and λ: sides round(side · √(1 - λ))
// about a uniform centre, clamped to the image. Rows y1..y2, columns x1..x2
// (ends excluded).
struct MixBox {
    int y1 = 0, x1 = 0, y2 = 0, x2 = 0;
};
MixBox cutMixBox(int height, int width, double lam, Rng& rng);
// fastai's CutMix: one λ ~ Beta(alpha, alpha) and one box for the batch;
// the box of every image is replaced by the box of its partner's, and lam is
// the share of the image left its own, 1 - box area / image area.
void cutMix(Batch& batch, double alpha, Rng& rng);

}  // namespace pipelang::runtime
