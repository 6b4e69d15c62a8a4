#include "runtime/data/channel_stats.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "runtime/data/random.h"
#include "runtime/error.h"
#include "runtime/values.h"

namespace pipelang::runtime {

std::vector<int64_t> statsSample(const std::vector<int64_t>& rows, int64_t most, uint64_t seed) {
    const int64_t n = int64_t(rows.size());
    if (n <= most) return rows;
    auto order = Rng(seed, 0x7374617473).permutation(n);
    order.resize(size_t(most));
    std::sort(order.begin(), order.end());
    std::vector<int64_t> sample;
    for (int64_t i : order) sample.push_back(rows[size_t(i)]);
    return sample;
}

std::pair<std::vector<double>, std::vector<double>> channelStats(
    const std::vector<int64_t>& rows, int64_t channels, const std::function<torch::Tensor(int64_t row)>& item) {
    const size_t width = size_t(channels);
    std::vector<double> itemSums(rows.size() * 2 * width, 0.0);
    std::vector<int64_t> itemCounts(rows.size(), 0);
    std::vector<std::exception_ptr> errors(rows.size());
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    const int threads = int(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 16));
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            for (size_t i = next++; i < rows.size(); i = next++) {
                try {
                    torch::Tensor x = item(rows[i]).to(torch::kFloat64).reshape({channels, -1});
                    torch::Tensor s = x.sum(1), q = x.pow(2).sum(1);
                    for (size_t c = 0; c < width; ++c) {
                        itemSums[i * 2 * width + 2 * c] = s[int64_t(c)].item<double>();
                        itemSums[i * 2 * width + 2 * c + 1] = q[int64_t(c)].item<double>();
                    }
                    itemCounts[i] = x.size(1);
                } catch (...) {
                    errors[i] = std::current_exception();
                }
            }
        });
    for (auto& thread : pool) thread.join();
    for (auto& error : errors)
        if (error) std::rethrow_exception(error);
    std::vector<double> sum(width, 0), squares(width, 0);
    int64_t count = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        for (size_t c = 0; c < width; ++c) {
            sum[c] += itemSums[i * 2 * width + 2 * c];
            squares[c] += itemSums[i * 2 * width + 2 * c + 1];
        }
        count += itemCounts[i];
    }
    std::vector<double> means(width, 0.0), deviations(width, 0.0);
    for (size_t c = 0; c < width && count > 0; ++c) {
        means[c] = sum[c] / double(count);
        deviations[c] = std::sqrt(std::max(0.0, squares[c] / double(count) - means[c] * means[c]));
    }
    return {means, deviations};
}

std::pair<std::vector<float>, std::vector<float>> normalization(
    const Value* normalize, size_t channels,
    const std::function<std::pair<std::vector<double>, std::vector<double>>()>& measure) {
    auto given = [&](const char* what) {
        auto values = numbersArg(normalize, what);
        if (values.size() == 1) values.resize(channels, values[0]);
        if (!values.empty() && values.size() != channels)
            throw RuntimeError("normalize(" + std::string(what) + " = ...) gives " + std::to_string(values.size()) +
                               " values for items with " + std::to_string(channels) +
                               " channels; give one per channel.");
        return values;
    };
    auto mean = given("mean"), std = given("std");
    if (mean.empty() || std.empty()) {
        auto [measuredMean, measuredStd] = measure();
        if (mean.empty()) mean = measuredMean;
        if (std.empty()) std = measuredStd;
    }
    std::vector<float> means, deviations;
    for (size_t c = 0; c < channels; ++c) {
        means.push_back(float(mean[c]));
        deviations.push_back(float(std[c] > 1e-6 ? std[c] : 1.0));
    }
    return {means, deviations};
}

}  // namespace pipelang::runtime
