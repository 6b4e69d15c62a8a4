#include "record/tpe.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <queue>
#include <set>

#include "record/search.h"

namespace pipelang::record {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double logSumExp(const std::vector<double>& xs) {
    double top = -kInf;
    for (double x : xs) top = std::max(top, x);
    if (top == -kInf) return -kInf;
    double sum = 0;
    for (double x : xs) sum += std::exp(x - top);
    return top + std::log(sum);
}

double normalCdf(double z) {
    return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

// Optuna's default weights of the observations, oldest first: equal below
// 25, else the older ones ramped down from 1 to 1/n.
std::vector<double> observationWeights(size_t n) {
    std::vector<double> w(n, 1.0);
    if (n < 25) return w;
    size_t ramp = n - 25;
    for (size_t i = 0; i < ramp; ++i) w[i] = 1.0 / double(n) + (1.0 - 1.0 / double(n)) * double(i) / double(ramp);
    return w;
}

// A mixture of Gaussians truncated to [lo, hi]: one around each value
// tried, as wide as the larger gap to its neighbours among the values and
// the prior's middle (clipped: Optuna's "magic clip"), and the prior, as
// wide as the span, at its middle.
class Parzen {
public:
    Parzen(const std::vector<double>& values, double lo, double hi, double priorWeight) : lo_(lo), hi_(hi) {
        size_t n = values.size();
        std::vector<double> mus = values;
        mus.push_back(0.5 * (lo + hi));  // the prior's
        std::vector<size_t> order(n + 1);
        for (size_t i = 0; i <= n; ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return mus[a] < mus[b]; });
        std::vector<double> ends = {lo};  // the sorted means between the bounds
        for (size_t i : order) ends.push_back(mus[i]);
        ends.push_back(hi);
        std::vector<double> gaps(n + 1);  // in sorted order
        for (size_t r = 0; r <= n; ++r) gaps[r] = std::max(ends[r + 1] - ends[r], ends[r + 2] - ends[r + 1]);
        if (n + 1 >= 2) {  // the bounds are no neighbours
            gaps[0] = ends[2] - ends[1];
            gaps[n] = ends[n + 1] - ends[n];
        }
        double width = hi - lo;
        double least = width / std::min(100.0, 1.0 + double(n) + 1.0);
        std::vector<double> weights = observationWeights(n);
        weights.push_back(priorWeight);
        for (size_t r = 0; r <= n; ++r) {
            size_t i = order[r];
            mus_.push_back(mus[i]);
            sigmas_.push_back(i == n ? width : std::clamp(gaps[r], least, width));
            weights_.push_back(weights[i]);
        }
        double total = 0;
        for (double w : weights_) total += w;
        for (double& w : weights_) w /= total;
    }

    double sample(Draws& draws) const {
        size_t k = pickByWeight(weights_, draws.uniform());
        for (int tries = 0; tries < 100; ++tries) {
            double x = mus_[k] + sigmas_[k] * draws.normal();
            if (x >= lo_ && x <= hi_) return x;
        }
        return std::clamp(mus_[k], lo_, hi_);
    }

    double logPdf(double x) const {
        std::vector<double> terms;
        for (size_t k = 0; k < mus_.size(); ++k) {
            double z = (x - mus_[k]) / sigmas_[k];
            double mass = normalCdf((hi_ - mus_[k]) / sigmas_[k]) - normalCdf((lo_ - mus_[k]) / sigmas_[k]);
            terms.push_back(std::log(weights_[k]) - 0.5 * z * z - std::log(sigmas_[k] * std::sqrt(2 * M_PI)) -
                            std::log(std::max(mass, 1e-300)));
        }
        return logSumExp(terms);
    }

private:
    double lo_, hi_;
    std::vector<double> mus_, sigmas_, weights_;
};

// A list's estimator: each value tried is a kernel that puts weight 1 on
// that value and priorWeight / (n + 1) on every value, beside a uniform
// prior kernel (Optuna's categorical kernels).
std::vector<double> listProbabilities(const std::vector<size_t>& tried, size_t k, double priorWeight) {
    size_t n = tried.size();
    double spread = priorWeight / double(n + 1);
    std::vector<double> weights = observationWeights(n);
    weights.push_back(priorWeight);
    double total = 0;
    for (double w : weights) total += w;
    std::vector<double> p(k, 0.0);
    for (size_t i = 0; i <= n; ++i)
        for (size_t c = 0; c < k; ++c) {
            double kernel =
                i == n ? 1.0 / double(k) : ((c == tried[i] ? 1.0 : 0.0) + spread) / (1.0 + spread * double(k));
            p[c] += weights[i] / total * kernel;
        }
    return p;
}

const std::string* valueOf(const SweepPoint& point, const std::string& key) {
    for (const auto& [k, v] : point)
        if (k == key) return &v;
    return nullptr;
}

struct Candidate {
    std::string value;
    double score;  // log good - log rest
};

// One axis's candidates, best first, each value once.
std::vector<Candidate> candidates(const SweepAxis& axis, const std::vector<const SweepPoint*>& good,
                                  const std::vector<const SweepPoint*>& rest, const TpeSettings& settings,
                                  Draws& draws) {
    std::map<std::string, double> scored;
    if (axis.range) {
        DrawSpan span = drawSpan(*axis.range);
        auto spans = [&](const std::vector<const SweepPoint*>& points) {
            std::vector<double> out;
            for (const SweepPoint* p : points)
                if (const std::string* v = valueOf(*p, axis.key))
                    if (double x = spanOf(*axis.range, *v); !std::isnan(x)) out.push_back(x);
            return out;
        };
        Parzen l(spans(good), span.lo, span.hi, settings.priorWeight);
        Parzen g(spans(rest), span.lo, span.hi, settings.priorWeight);
        for (size_t i = 0; i < settings.candidates; ++i) {
            std::string value = rangeValue(*axis.range, l.sample(draws));
            double x = spanOf(*axis.range, value);  // scored as run: rounded
            scored[value] = l.logPdf(x) - g.logPdf(x);
        }
    } else if (!axis.values.empty()) {
        size_t k = axis.values.size();
        auto indices = [&](const std::vector<const SweepPoint*>& points) {
            std::vector<size_t> out;
            for (const SweepPoint* p : points)
                if (const std::string* v = valueOf(*p, axis.key))
                    if (auto it = std::find(axis.values.begin(), axis.values.end(), *v); it != axis.values.end())
                        out.push_back(size_t(it - axis.values.begin()));
            return out;
        };
        std::vector<double> l = listProbabilities(indices(good), k, settings.priorWeight);
        std::vector<double> g = listProbabilities(indices(rest), k, settings.priorWeight);
        for (size_t i = 0; i < settings.candidates; ++i) {
            size_t c = pickByWeight(l, draws.uniform());
            scored[axis.values[c]] = std::log(l[c]) - std::log(g[c]);
        }
    }
    std::vector<Candidate> out;
    for (const auto& [value, score] : scored) out.push_back({value, score});
    std::stable_sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    return out;
}

}  // namespace

size_t tpeGood(size_t n) {
    return std::max<size_t>(1, std::min<size_t>((n + 9) / 10, 25));
}

SweepPoint tpePoint(const std::vector<SweepAxis>& axes, size_t k, const SweepHistory& before,
                    const TpeSettings& settings) {
    Draws draws(settings.seed, k + 1);
    std::set<SweepPoint> started(before.started.begin(), before.started.end());
    auto untriedAtRandom = [&]() {
        if (auto size = finiteSize(axes)) {
            // The seeded shuffle's first point not tried yet: distinct points, as `random` draws them.
            auto order = shuffledPoints(axes, *size, settings.seed);
            for (const auto& p : order)
                if (!started.count(p)) return p;
            return order.empty() ? SweepPoint{} : order[k % order.size()];
        }
        SweepPoint p;
        for (const auto& axis : axes) p.push_back({axis.key, drawValue(axis, draws)});
        return p;
    };
    if (before.finished.size() < std::max<size_t>(settings.startup, 2)) return untriedAtRandom();

    // The finished points, best first (NaN last), split into the good and the rest.
    std::vector<size_t> order(before.finished.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return ranksBefore(before.finished[a].second, before.finished[b].second, false);
    });
    size_t goodCount = tpeGood(order.size());
    std::vector<bool> isGood(order.size(), false);
    for (size_t r = 0; r < goodCount; ++r) isGood[order[r]] = true;
    std::vector<const SweepPoint*> good, rest;  // each in the order the points ran
    for (size_t i = 0; i < before.finished.size(); ++i) (isGood[i] ? good : rest).push_back(&before.finished[i].first);

    std::vector<std::vector<Candidate>> perAxis;
    for (const auto& axis : axes) {
        perAxis.push_back(candidates(axis, good, rest, settings, draws));
        if (perAxis.back().empty()) return untriedAtRandom();
    }
    // The best combination not tried yet: best first over the sums of the
    // axes' scores, starting from every axis's best candidate.
    using Entry = std::pair<double, std::vector<size_t>>;
    auto score = [&](const std::vector<size_t>& at) {
        double sum = 0;
        for (size_t a = 0; a < at.size(); ++a) sum += perAxis[a][at[a]].score;
        return sum;
    };
    std::priority_queue<Entry> queue;
    std::set<std::vector<size_t>> seen;
    std::vector<size_t> first(axes.size(), 0);
    queue.push({score(first), first});
    seen.insert(first);
    for (int pops = 0; !queue.empty() && pops < 2000; ++pops) {
        std::vector<size_t> at = queue.top().second;
        queue.pop();
        SweepPoint p;
        for (size_t a = 0; a < axes.size(); ++a) p.push_back({axes[a].key, perAxis[a][at[a]].value});
        if (!started.count(p)) return p;
        for (size_t a = 0; a < axes.size(); ++a) {
            if (at[a] + 1 >= perAxis[a].size()) continue;
            std::vector<size_t> next = at;
            ++next[a];
            if (seen.insert(next).second) queue.push({score(next), next});
        }
    }
    return untriedAtRandom();
}

}  // namespace pipelang::record
