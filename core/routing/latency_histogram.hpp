// Latencies in fixed, geometrically spaced buckets: cheap to record, cheap to add up over
// a window, and good enough for p95/p99 (each bucket is ~20% wide).
#pragma once

#include <array>
#include <cstdint>

namespace apiproxy {

class LatencyHistogram {
 public:
  static constexpr int kBuckets = 64;  // 0.5 ms .. ~50 s; the last also takes anything slower

  void add(double ms);
  void merge(const LatencyHistogram& other);
  void subtract(const LatencyHistogram& other);  // other must be part of this one
  void clear() { counts_.fill(0); total_ = 0; }
  uint64_t total() const { return total_; }
  // The q-quantile (0 < q <= 1) as the upper bound of the bucket it falls in; 0 if empty.
  double quantile(double q) const;
  // Two quantiles in one pass (q1 <= q2).
  void quantiles(double q1, double q2, double& v1, double& v2) const;

  static double upper_bound(int bucket);

 private:
  static int bucket_for(double ms);
  std::array<uint32_t, kBuckets> counts_{};
  uint64_t total_ = 0;
};

}  // namespace apiproxy
