// A distribution in fixed buckets (Prometheus type "histogram"), and a family of them.
//
// Each cell keeps one atomic count per bucket (not cumulative: an observation touches one
// bucket, so recording is a short scan plus two atomic adds) and the sum; the scrape adds
// the buckets up. `_count` is the cumulative count at +Inf, read in the same pass, so the
// two always agree in the output even while observations are being recorded.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/telemetry/family.hpp"

namespace apiproxy::telemetry {

// Request latencies in seconds: 5 ms .. 60 s. LLM answers take from milliseconds (cached,
// embeddings) to a minute (long completions).
const std::vector<double>& latency_buckets();

class Histogram {
 public:
  // `bounds`: strictly increasing, finite upper bounds (inclusive, as `le` means); +Inf is
  // implied. Throws std::invalid_argument otherwise.
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);

  // NaN is ignored: it would poison the sum for the life of the process.
  void observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds + 1 (+Inf)
  std::atomic<double> sum_{0};
};

class HistogramFamily : public Family<Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds, size_t max_series = kDefaultMaxSeries);
};

// # HELP, # TYPE histogram, then per series its _bucket lines (cumulative, le ascending,
// ending with +Inf), _sum and _count.
void write(TextWriter& out, const HistogramFamily& family);

}  // namespace apiproxy::telemetry
