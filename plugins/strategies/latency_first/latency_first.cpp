// strategy latency_first — send each request where the answer is expected soonest.
//
// Expected cost of a candidate (PeakEWMA, as in Finagle / linkerd):
//
//   cost = latency × (in_flight + 1) / max(1 − error_rate, 0.1)
//
//   latency   the latency EWMA of a warm candidate (samples >= COLD_SAMPLES and an EWMA
//             is known); a cold candidate is given the median EWMA of the warm eligible
//             candidates (1 ms when none is warm), so it is explored like a typical
//             upstream instead of being starved or stampeded.
//   in_flight requests already outstanding: each one queued ahead of us makes the
//             upstream look one latency slower, so load that piles onto the fastest
//             upstream raises its cost immediately, before any latency sample arrives.
//   1 − error a failed attempt is retried elsewhere, so the expected time to a useful
//             answer is latency / success rate; without it an upstream that fails fast
//             would look fastest. Warm candidates only (a cold one's rate is noise).
//
// Score = EXPLORE + (1 − EXPLORE) × (best_cost / cost)^SHARPNESS  (best eligible = 1).
//
// Why sharpened inverse costs and not a literal power-of-two-choices draw: the host
// already draws at random, weighted by the scores, and orders the rest best-first for
// failover. A random pair inside `score` would randomise that failover order too and
// make /routing/decide non-reproducible. P2C exists to keep one fast server from being
// stampeded by many balancers acting on the same stale view; here the same protection
// comes from (1) the weighted draw — the fastest gets most, not all, of the traffic
// unless it is clearly faster — and (2) the in-flight factor — every request it absorbs
// raises its cost at once, so concurrent decisions spread out. SHARPNESS 3 gives a
// 2×-faster upstream ~89 % of the traffic between two, a 1.25×-faster one ~66 %.
//
// DOWN candidates score 0 unless every candidate is DOWN (then all are scored by the
// same rule). Settings (APIPROXY_STRATEGY_LATENCY_FIRST_*): COLD_SAMPLES (5, whole
// number >= 0), SHARPNESS (3, > 0 and <= 20), EXPLORE (0.01, 0..1).
#include "../common/strategy_common.hpp"

namespace {

using namespace apx::strategies;

class LatencyFirst final : public apx::Strategy {
 public:
  LatencyFirst(const apx::Host& host, const apx::Settings& settings) {
    Params p(host, settings, "LATENCY_FIRST", {"COLD_SAMPLES", "SHARPNESS", "EXPLORE"});
    cold_samples_ = p.whole("COLD_SAMPLES", 5, 0, 1e9);
    sharpness_ = p.number("SHARPNESS", 3, 0, 20, /*lo_open=*/true);
    explore_ = p.number("EXPLORE", 0.01, 0, 1);
  }

  void score(const apx::RouteContext&, apx::Candidates candidates, double* out) override {
    const size_t n = candidates.size();
    if (n == 0) return;
    auto m = sanitize_all(candidates);
    auto ok = eligible(m);

    SmallVector<double> warm_latencies;
    for (size_t i = 0; i < n; ++i)
      if (ok[i] && warm(m[i])) warm_latencies.push_back(m[i].ewma_ms);
    const double typical = warm_latencies.empty() ? 1.0 : median(warm_latencies);

    SmallVector<double> cost(n, 0);
    double best = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) continue;
      bool w = warm(m[i]);
      double latency = std::max(w ? m[i].ewma_ms : typical, 1e-3);
      double success = w ? std::max(1 - m[i].error_rate, 0.1) : 1.0;
      cost[i] = latency * (m[i].in_flight + 1) / success;  // <= ~4e17: finite
      best = std::min(best, cost[i]);
    }
    SmallVector<double> raw(n, 0);
    const SharpenedInverse sharpened(best, sharpness_);
    for (size_t i = 0; i < n; ++i)
      if (ok[i]) raw[i] = sharpened(cost[i]);
    finish(raw, ok, explore_, out);
  }

 private:
  bool warm(const Metrics& m) const noexcept {
    return m.samples >= cold_samples_ && m.ewma_ms > 0;
  }

  double cold_samples_ = 5;
  double sharpness_ = 3;
  double explore_ = 0.01;
};

}  // namespace

APIPROXY_EXPORT_STRATEGY(LatencyFirst, "latency_first", "1.0.0",
                         "lowest expected latency: PeakEWMA (latency EWMA x (in-flight + 1)), "
                         "cold upstreams explored at the median latency")
