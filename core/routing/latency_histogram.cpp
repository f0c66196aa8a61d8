#include "core/routing/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace apiproxy {

namespace {
constexpr double kFirstBound = 0.5;  // ms
constexpr double kGrowth = 1.2;
}  // namespace

double LatencyHistogram::upper_bound(int bucket) {
  return kFirstBound * std::pow(kGrowth, bucket);
}

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
  if (total_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return upper_bound(i);
  }
  return upper_bound(kBuckets - 1);
}

}  // namespace apiproxy
