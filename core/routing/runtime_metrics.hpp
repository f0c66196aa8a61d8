// Runtime metrics per (logical model, provider): a rolling 60-second window of outcomes
// and latencies (p95, p99, error rate, success QPS), a latency EWMA, in-flight requests
// and a health status. Each instance records its own; the background flush publishes
// them to llm:metrics:{logical}:{provider} and reads the other instances' share back, so
// that routing on every instance sees the traffic of all of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/routing/latency_histogram.hpp"

namespace apiproxy {

enum class Health { Unknown = 0, Healthy = 1, Degraded = 2, Down = 3 };
const char* health_name(Health h);

struct Observation {
  double latency_ms = 0;
  bool success = true;
};

// What routing sees for one (logical model, provider).
struct MetricsView {
  double latency_ewma_ms = 0;
  double latency_p95_ms = 0;
  double latency_p99_ms = 0;
  double error_rate = 0;
  double success_qps = 0;    // successes per second over the window
  double current_qps = 0;    // requests per second over the last few seconds
  uint64_t total_requests = 0;  // in the window
  uint32_t in_flight = 0;
  Health status = Health::Unknown;
};

// Another instance's share, as read from the store.
struct RemoteShare {
  uint64_t requests = 0;
  uint64_t errors = 0;
  double latency_p95_ms = 0;
  double latency_p99_ms = 0;
  double latency_ewma_ms = 0;
  double recent_qps = 0;
  uint32_t in_flight = 0;
};

struct MetricsThresholds {
  double down_error_rate = 0.5;
  double degraded_error_rate = 0.1;
  double degraded_p95_ms = 2000;
  uint64_t min_samples = 3;  // fewer: error-rate thresholds do not apply yet
  double ewma_alpha = 0.2;
};

class RuntimeMetrics {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kWindowSeconds = 60;

  explicit RuntimeMetrics(MetricsThresholds t = {}) : thresholds_(t) {}

  void begin(const std::string& logical, const std::string& provider);
  void end(const std::string& logical, const std::string& provider, const Observation& o);
  // A request that ended without an outcome worth counting (the client went away).
  void abandon(const std::string& logical, const std::string& provider);
  // An outcome not tied to an in-flight request (e.g. a health probe).
  void record(const std::string& logical, const std::string& provider, const Observation& o);

  MetricsView view(const std::string& logical, const std::string& provider) const;

  // Every pair with data, and this instance's own share of each (for the flush).
  struct LocalShare {
    std::string logical, provider;
    RemoteShare share;
  };
  std::vector<LocalShare> local_shares() const;
  // Replaces what the other instances contribute to a pair.
  void set_remote(const std::string& logical, const std::string& provider, RemoteShare others);

  Health classify(double error_rate, double p95, uint64_t samples) const;
  const MetricsThresholds& thresholds() const { return thresholds_; }

  // Recording as if at `now` (for tests); a view at `now` (tests, and the router, which
  // reads the clock once for all its candidates).
  void record_at(const std::string& logical, const std::string& provider, const Observation& o,
                 Clock::time_point now);
  MetricsView view_at(const std::string& logical, const std::string& provider,
                      Clock::time_point now) const;

 private:
  struct Second {
    int64_t second = -1;  // which second this slot holds
    uint32_t requests = 0, errors = 0;
  };
  // The window is kept as running sums: a second leaves them when its slot expires or is
  // reused, so a view costs a scan of 64 buckets, not a merge of 60 histograms. The
  // seconds' counts sit apart from their histograms: a view walks the counts (1 KiB), and
  // only once a second (when a slot may have expired), not the 16 KiB of histograms.
  struct Entry {
    mutable std::mutex mutex;
    mutable std::array<Second, kWindowSeconds> ring;
    mutable std::array<LatencyHistogram, kWindowSeconds> ring_latency;
    mutable int64_t expired_at = -1;  // the second of the last expiry scan
    mutable uint64_t window_requests = 0, window_errors = 0;
    mutable LatencyHistogram window_latency;
    double ewma_ms = 0;
    bool has_ewma = false;
    uint32_t in_flight = 0;
    RemoteShare remote;
  };
  struct Totals {
    uint64_t requests = 0, errors = 0, recent_requests = 0;
    double p95_ms = 0, p99_ms = 0;
  };

  Entry& entry(const std::string& logical, const std::string& provider);
  const Entry* find(const std::string& logical, const std::string& provider) const;
  static Totals totals(const Entry& e, int64_t now_second);
  static void expire(const Entry& e, int64_t now_second);  // caller holds e.mutex
  static int64_t second_of(Clock::time_point t);

  MetricsThresholds thresholds_;
  mutable std::shared_mutex map_mutex_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;  // "logical\nprovider"
};

}  // namespace apiproxy
