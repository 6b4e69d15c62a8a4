// A small, portable random generator for data work: splits, epoch orders and
// random transforms. Its stream depends only on the numbers it is seeded with
// (never on the platform's <random> distributions or on thread timing), so a
// run repeats bit for bit. splitmix64 (Steele, Lea, Flood 2014).
#pragma once

#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

namespace pipelang::runtime {

class Rng {
public:
    // Seeded by a tuple of numbers, e.g. (seed, epoch, item index).
    explicit Rng(uint64_t a, uint64_t b = 0, uint64_t c = 0) : state_(mix(mix(mix(a) ^ b) ^ c)) {}

    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1).
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    bool chance(double p) { return uniform() < p; }
    // Uniform in [0, n).
    uint64_t below(uint64_t n) { return n ? uint64_t((unsigned __int128)next() * n >> 64) : 0; }

    // Fisher–Yates, in place.
    template <class T>
    void shuffle(std::vector<T>& v) {
        for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
    }
    std::vector<int64_t> permutation(int64_t n) {
        std::vector<int64_t> v(size_t(n < 0 ? 0 : n));
        std::iota(v.begin(), v.end(), int64_t(0));
        shuffle(v);
        return v;
    }

private:
    static uint64_t mix(uint64_t x) {
        x += 0x9e3779b97f4a7c15ULL;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
    }
    uint64_t state_;
};

}  // namespace pipelang::runtime
