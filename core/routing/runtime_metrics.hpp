// Runtime metrics per (logical model, provider): a rolling 60-second window of outcomes
// and latencies (p95, p99, error rate, success QPS), a latency EWMA, in-flight requests
// and a health status. Each instance records its own; the background flush publishes
// them to llm:metrics:{logical}:{provider} and reads the other instances' share back, so
// that routing on every instance sees the traffic of all of them.
//
// Next to the window, two things that react within a second, from this instance's own
// attempts only (a brownout must move traffic now, not when a minute of history has
// aged out):
//  * recent figures, exponentially decayed by time (not by sample count, so a rarely
//    used upstream's few samples still describe it): latency with a time constant of
//    0.5 s, error rate and sample count with 2 s;
//  * an ejection breaker: after consecutive failures (or a recent error rate at the
//    down threshold) the upstream is Down for an ejection time (1 s, doubling for each
//    re-ejection within 30 s of recovering, up to 8 s); then one request may probe it
//    (half-open), and a successful probe readmits it with its recent failures forgotten.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/types.hpp"
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
  // This instance's recent attempts (see the top of this file); 0 when it has none.
  double recent_latency_ms = 0;
  double recent_error_rate = 0;
  double recent_samples = 0;  // decayed count: about the attempts of the last 2 s
  bool ejected = false;       // the breaker is open (status is Down)
  bool probe_due = false;     // ejected, and a half-open probe may be sent now
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
  // The recent figures' time constants.
  double recent_latency_tau_s = 0.5;
  double recent_error_tau_s = 2.0;
  // The recent latency also forgets by count: it is the mean of at most about this many
  // attempts. At a high request rate, 0.5 s holds hundreds of fast answers, and a brownout
  // would need as many slow ones (each held for the slow latency) before it showed.
  double recent_latency_max_samples = 20;
  // Ejection: this many failures in a row, or a recent error rate above down_error_rate
  // over at least eject_min_samples (decayed) attempts.
  uint32_t eject_consecutive_failures = 5;
  double eject_min_samples = 10;
  std::chrono::milliseconds eject_base{1000}, eject_max{8000};
  // A re-ejection this soon after readmission doubles the ejection time.
  std::chrono::seconds eject_memory{30};
  // A claimed probe that never reports back frees the slot after this long.
  std::chrono::seconds probe_grace{10};
};

class RuntimeMetrics {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kWindowSeconds = 60;

  explicit RuntimeMetrics(MetricsThresholds t = {}) : thresholds_(t) {}

  void begin(const std::string& logical, const std::string& provider);
  // `now`: the caller's reading of the clock, if it has one.
  void end(const std::string& logical, const std::string& provider, const Observation& o,
           Clock::time_point now = Clock::now());
  // A request that ended without an outcome worth counting (the client went away).
  void abandon(const std::string& logical, const std::string& provider);
  // An outcome not tied to an in-flight request (e.g. a health probe).
  void record(const std::string& logical, const std::string& provider, const Observation& o);

  MetricsView view(const std::string& logical, const std::string& provider) const;

  // Claims the half-open probe of an ejected upstream whose ejection time is over: true
  // for exactly one caller, which must then send it a request. Its outcome (end, or
  // abandon) readmits the upstream, ejects it again, or frees the claim.
  bool claim_probe(const std::string& logical, const std::string& provider,
                   Clock::time_point now = Clock::now());

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
  // The view of each upstream's provider, in order (out[i] for upstreams[i]): the model is
  // looked up and locked once for all of them, as a routing decision needs.
  void views_at(const std::string& logical, std::span<const PhysicalModel> upstreams,
                Clock::time_point now, MetricsView* out) const;

 private:
  struct Second {
    int64_t second = -1;  // which second this slot holds
    uint32_t requests = 0, errors = 0;
  };
  // This instance's recent attempts, decayed by time (see the top of this file).
  struct Recent {
    Clock::time_point at{};  // when the sums below were last decayed
    bool any = false;
    double count = 0, errors = 0;                // time constant recent_error_tau_s
    double latency_weight = 0, latency_sum = 0;  // time constant recent_latency_tau_s
  };
  struct Breaker {
    bool open = false;
    bool probe_claimed = false;
    uint32_t consecutive_failures = 0;
    uint32_t strikes = 0;  // ejections in a row, each within eject_memory of readmission
    Clock::time_point probe_at{}, readmitted_at{};
  };
  struct Totals {
    uint64_t requests = 0, errors = 0, recent_requests = 0;
    double p95_ms = 0, p99_ms = 0;
  };
  static constexpr int64_t kNoSecond = INT64_MIN;
  // The window is kept as running sums: a second leaves them when its slot expires or is
  // reused, so a view costs a scan of 64 buckets, not a merge of 60 histograms. The
  // seconds' counts sit apart from their histograms: a view walks the counts (1 KiB), and
  // only once a second (when a slot may have expired), not the 16 KiB of histograms.
  struct Entry {
    explicit Entry(std::mutex& model_mutex) : mutex(model_mutex) {}
    std::mutex& mutex;  // its Model's: guards everything below
    mutable std::array<Second, kWindowSeconds> ring;
    mutable std::array<LatencyHistogram, kWindowSeconds> ring_latency;
    mutable int64_t expired_at = -1;  // the second of the last expiry scan
    mutable uint64_t window_requests = 0, window_errors = 0;
    mutable LatencyHistogram window_latency;
    // The window's totals (quantiles included) as last computed, for `derived_second`
    // (kNoSecond: none). They depend only on the window and the second, so they are reused
    // until a sample lands or a new second's expiry scan runs: a view never sees an older
    // state than without the cache, so it needs no time limit. Routing reads a view per
    // candidate for every decision, far more often than samples land.
    mutable Totals derived;
    mutable int64_t derived_second = kNoSecond;
    double ewma_ms = 0;
    bool has_ewma = false;
    uint32_t in_flight = 0;
    RemoteShare remote;
    Recent recent;
    Breaker breaker;
  };

  // One logical model's entries. They share one mutex: a routing decision reads every
  // provider of its model, and so locks once rather than once per candidate.
  struct Model {
    mutable std::mutex mutex;
    std::map<std::string, std::unique_ptr<Entry>, std::less<>> providers;
  };

  Entry& entry(const std::string& logical, const std::string& provider);
  Entry* find(const std::string& logical, const std::string& provider) const;
  const Model* model_of(std::string_view logical) const;  // map_mutex_ held; null if none
  static Entry* entry_in(const Model* model, std::string_view provider);  // null if none
  // The caller holds e.mutex for these.
  MetricsView view_of(const Entry* e, Clock::time_point now, int64_t now_second) const;  // empty view for nullptr
  static Totals totals(const Entry& e, int64_t now_second);
  static Totals compute_totals(const Entry& e, int64_t now_second);
  static void expire(const Entry& e, int64_t now_second);
  static RemoteShare local_share(const Entry& e, int64_t now_second);
  // Adds one outcome to the entry's window, recent latency and breaker; e.mutex is held.
  void record_locked(Entry& e, const Observation& o, Clock::time_point now);
  void add_recent(Entry& e, const Observation& o, double ms, Clock::time_point now) const;
  void update_breaker(Entry& e, bool success, Clock::time_point now) const;
  std::chrono::milliseconds ejection_time(uint32_t strikes) const;
  void recent_view(const Entry& e, Clock::time_point now, MetricsView& v) const;

  static int64_t second_of(Clock::time_point t);

  MetricsThresholds thresholds_;
  mutable std::shared_mutex map_mutex_;
  // logical → provider → entry. Two levels, so that a lookup compares the names as given
  // instead of building a joined key. Models and entries are never removed.
  std::map<std::string, Model, std::less<>> entries_;
};

}  // namespace apiproxy
