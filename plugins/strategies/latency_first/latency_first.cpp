// strategy latency_first — send each request where a useful answer is expected soonest.
//
// Expected cost of a candidate:
//
//   cost = latency × (1 + IN_FLIGHT_WEIGHT × in_flight) × (1 + ERROR_PENALTY × e / (1 − e))
//
//   latency   the recent latency (the last seconds, so a brownout moves traffic within a
//             second and a recovery brings it back), else the window's EWMA. A cold
//             candidate (fewer than COLD_SAMPLES samples) is given the median latency of
//             the others, so it is explored like a typical upstream instead of being
//             starved or stampeded.
//   in_flight requests already outstanding at it. LLM upstreams serve requests in
//             parallel, so each one adds only a little (2 % by default), but load that
//             piles onto the fastest upstream raises its cost at once, before any latency
//             sample arrives, and concurrent decisions spread out.
//   e         the recent error rate (shrunk toward 0 when it rests on few attempts, capped
//             at 0.9). A failed attempt is retried elsewhere, so errors count as latency:
//             without this an upstream that fails fast would look fastest. 1 % errors cost
//             ~10 %, 30 % errors ~5.3× (ERROR_PENALTY 10).
//
// Score = EXPLORE + (1 − EXPLORE) × (best_cost / cost)^SHARPNESS  (best eligible = 1).
// SHARPNESS 4 gives a 2×-faster upstream ~94 % of the traffic between two, a 1.25×-faster
// one ~71 %, and one 5× slower ~0.2 % plus EXPLORE: few enough that a brownout does not
// show in the p99, enough to notice its end.
//
// Why sharpened inverse costs and not a literal power-of-two-choices draw: the host
// already draws at random, weighted by the scores, and orders the rest best-first for
// failover. A random pair inside `score` would randomise that failover order too and
// make /routing/decide non-reproducible.
//
// DOWN candidates score 0 unless every candidate is DOWN (then all are scored by the
// same rule). Settings (APIPROXY_STRATEGY_LATENCY_FIRST_*): COLD_SAMPLES (5, whole
// number >= 0), SHARPNESS (4, > 0 and <= 20), EXPLORE (0.002, 0..1), IN_FLIGHT_WEIGHT
// (0.02, 0..100), ERROR_PENALTY (10, 0..1000).
#include "../common/strategy_common.hpp"

namespace {

using namespace apx::strategies;

class LatencyFirst final : public apx::Strategy {
 public:
  LatencyFirst(const apx::Host& host, const apx::Settings& settings) {
    Params p(host, settings, "LATENCY_FIRST",
             {"COLD_SAMPLES", "SHARPNESS", "EXPLORE", "IN_FLIGHT_WEIGHT", "ERROR_PENALTY"});
    cold_samples_ = p.whole("COLD_SAMPLES", 5, 0, 1e9);
    sharpness_ = p.number("SHARPNESS", 4, 0, 20, /*lo_open=*/true);
    explore_ = p.number("EXPLORE", 0.002, 0, 1);
    in_flight_weight_ = p.number("IN_FLIGHT_WEIGHT", 0.02, 0, 100);
    error_penalty_ = p.number("ERROR_PENALTY", 10, 0, 1000);
  }

  void score(const apx::RouteContext&, apx::Candidates candidates, double* out) override {
    const size_t n = candidates.size();
    if (n == 0) return;
    auto m = sanitize_all(candidates);
    auto ok = eligible(m);
    auto latency = latencies(m, ok, cold_samples_);

    SmallVector<double> cost(n, 0);
    double best = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) continue;
      cost[i] = latency[i] * (1 + in_flight_weight_ * m[i].in_flight) *
                error_slowdown(m[i], error_penalty_);  // <= ~1e7 × 4e11 × 9e3: finite
      best = std::min(best, cost[i]);
    }
    SmallVector<double> raw(n, 0);
    const SharpenedInverse sharpened(best, sharpness_);
    for (size_t i = 0; i < n; ++i)
      if (ok[i]) raw[i] = sharpened(cost[i]);
    finish(raw, ok, explore_, out);
  }

 private:
  double cold_samples_ = 5;
  double sharpness_ = 4;
  double explore_ = 0.002;
  double in_flight_weight_ = 0.02;
  double error_penalty_ = 10;
};

}  // namespace

APIPROXY_EXPORT_STRATEGY(LatencyFirst, "latency_first", "2.0.0",
                         "lowest expected latency: recent latency x in-flight load x error "
                         "slowdown, cold upstreams explored at the median latency")
