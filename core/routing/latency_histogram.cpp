#include "core/routing/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace apiproxy {

namespace {
constexpr double kFirstBound = 0.5;  // ms
constexpr double kGrowth = 1.2;

// Computed once: a quantile is read on every routing decision.
const std::array<double, LatencyHistogram::kBuckets>& bounds() {
  static const auto table = [] {
    std::array<double, LatencyHistogram::kBuckets> t{};
    for (int i = 0; i < LatencyHistogram::kBuckets; ++i) t[i] = kFirstBound * std::pow(kGrowth, i);
    return t;
  }();
  return table;
}

}  // namespace

double LatencyHistogram::upper_bound(int bucket) { return bounds()[static_cast<size_t>(bucket)]; }

int LatencyHistogram::bucket_for(double ms) {
  if (!(ms > kFirstBound)) return 0;  // also NaN
  int b = static_cast<int>(std::ceil(std::log(ms / kFirstBound) / std::log(kGrowth)));
  return b >= kBuckets ? kBuckets - 1 : b;
}

void LatencyHistogram::add(double ms) {
  ++counts_[bucket_for(ms)];
  ++total_;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
}

void LatencyHistogram::subtract(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] -= std::min(counts_[i], other.counts_[i]);
  total_ -= std::min(total_, other.total_);
}

double LatencyHistogram::quantile(double q) const {
  double out;
  quantiles(q, q, out, out);
  return out;
}

void LatencyHistogram::quantiles(double q1, double q2, double& v1, double& v2) const {
  v1 = v2 = 0;
  if (total_ == 0) return;
  auto rank_of = [&](double q) {
    auto r = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
    return r == 0 ? uint64_t{1} : r;
  };
  uint64_t r1 = rank_of(q1), r2 = rank_of(q2);
  bool found1 = false;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (!found1 && seen >= r1) {
      v1 = upper_bound(i);
      found1 = true;
    }
    if (seen >= r2) {
      v2 = upper_bound(i);
      if (found1) return;
    }
  }
  if (!found1) v1 = upper_bound(kBuckets - 1);
  v2 = upper_bound(kBuckets - 1);
}

}  // namespace apiproxy
