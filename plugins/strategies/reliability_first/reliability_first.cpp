// strategy reliability_first — send each request where it is least likely to fail.
//
// Failure estimate over the metrics window (Beta-Binomial, so the sample count weighs
// in: 0 errors in 3 requests is much less certain than 0 in 300):
//
//   a = successes + (1 − PRIOR_ERROR) × PRIOR_WEIGHT      failures = error_rate × samples
//   b = failures  + PRIOR_ERROR × PRIOR_WEIGHT            successes = samples − failures
//   mean = b / (a + b),  sd = sqrt(mean × (1 − mean) / (a + b + 1))
//   F = mean + Z × sd                       (a pessimistic bound on the error rate)
//   DEGRADED: F × DEGRADED_PENALTY
//
// With the defaults (5 % prior worth 4 requests, Z = 1): no data F ≈ 0.15, 0/3 ≈ 0.088,
// 0/300 ≈ 0.002, 1 % of 100 ≈ 0.022, 30 % of 100 ≈ 0.33.
//
// Latency breaks ties: failure bounds within TIE (relative) of each other form one group
// valued at its lowest F, and inside it
//   effective = group_F × (1 + 0.9 × TIE × (1 − fastest_latency / latency))
// (latency = EWMA, else p95; unknown → the median of the known ones). The factor stays
// below 1 + TIE, so latency never outranks a real reliability difference.
//
// Score = EXPLORE + (1 − EXPLORE) × (best_effective / effective)^SHARPNESS (best = 1).
// With SHARPNESS 2 a candidate with 15× the failure bound gets ~1/225 of the best's score.
//
// DOWN candidates score 0 unless every candidate is DOWN. Settings
// (APIPROXY_STRATEGY_RELIABILITY_FIRST_*): PRIOR_ERROR (0.05, 0..<1), PRIOR_WEIGHT (4,
// > 0 and <= 1e6), Z (1, 0..10), SHARPNESS (2, > 0 and <= 20), DEGRADED_PENALTY (2,
// 1..1e6), TIE (0.1, 0..1), EXPLORE (0.01, 0..1).
#include "../common/strategy_common.hpp"

namespace {

using namespace apx::strategies;

class ReliabilityFirst final : public apx::Strategy {
 public:
  ReliabilityFirst(const apx::Host& host, const apx::Settings& settings) {
    Params p(host, settings, "RELIABILITY_FIRST",
             {"PRIOR_ERROR", "PRIOR_WEIGHT", "Z", "SHARPNESS", "DEGRADED_PENALTY", "TIE",
              "EXPLORE"});
    prior_error_ = p.number("PRIOR_ERROR", 0.05, 0, 0.999999);
    prior_weight_ = p.number("PRIOR_WEIGHT", 4, 0, 1e6, /*lo_open=*/true);
    z_ = p.number("Z", 1, 0, 10);
    sharpness_ = p.number("SHARPNESS", 2, 0, 20, /*lo_open=*/true);
    degraded_penalty_ = p.number("DEGRADED_PENALTY", 2, 1, 1e6);
    tie_ = p.number("TIE", 0.1, 0, 1);
    explore_ = p.number("EXPLORE", 0.01, 0, 1);
  }

  void score(const apx::RouteContext&, apx::Candidates candidates, double* out) override {
    const size_t n = candidates.size();
    if (n == 0) return;
    auto m = sanitize_all(candidates);
    auto ok = eligible(m);

    SmallVector<size_t> idx;
    SmallVector<double> failure, latency;
    SmallVector<double> known_latency;
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) continue;
      Posterior post = error_posterior(m[i], prior_error_, prior_weight_);
      double f = std::clamp(post.mean_error + z_ * post.sd, 1e-9, 1.0);
      if (m[i].degraded()) f *= degraded_penalty_;
      idx.push_back(i);
      failure.push_back(f);
      double l = m[i].ewma_ms > 0 ? m[i].ewma_ms : m[i].p95_ms;
      latency.push_back(l);
      if (l > 0) known_latency.push_back(l);
    }
    const double typical = known_latency.empty() ? 1.0 : median(known_latency);
    double fastest = std::numeric_limits<double>::infinity();
    for (auto& l : latency) {
      if (!(l > 0)) l = typical;
      fastest = std::min(fastest, l);
    }

    auto group = tie_groups(failure, tie_);
    SmallVector<double> eff(failure.size());
    double best = std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < eff.size(); ++k) {
      eff[k] = group[k] * (1 + 0.9 * tie_ * (1 - fastest / latency[k]));
      best = std::min(best, eff[k]);
    }
    SmallVector<double> raw(n, 0);
    const SharpenedInverse sharpened(best, sharpness_);
    for (size_t k = 0; k < eff.size(); ++k) raw[idx[k]] = sharpened(eff[k]);
    finish(raw, ok, explore_, out);
  }

 private:
  double prior_error_ = 0.05;
  double prior_weight_ = 4;
  double z_ = 1;
  double sharpness_ = 2;
  double degraded_penalty_ = 2;
  double tie_ = 0.1;
  double explore_ = 0.01;
};

}  // namespace

APIPROXY_EXPORT_STRATEGY(ReliabilityFirst, "reliability_first", "1.0.0",
                         "lowest error rate over the window (Bayesian-smoothed, sample-aware); "
                         "latency breaks ties")
