// strategy reliability_first — send each request where it is least likely to fail; among
// upstreams that are equally reliable, the fastest.
//
// Failure estimate from the recent attempts (decayed counts, so an outage or a gray
// failure shows within seconds and a recovery is not held against an upstream for a
// minute), Beta-Binomial with a prior worth PRIOR_WEIGHT attempts at PRIOR_ERROR:
//
//   mean = (failures + PRIOR_ERROR × PRIOR_WEIGHT) / (attempts + PRIOR_WEIGHT)
//   sd   = sqrt(mean × (1 − mean) / (attempts + PRIOR_WEIGHT + 1))
//   DEGRADED: mean × DEGRADED_PENALTY
//
// Equally reliable: a candidate whose mean is within Z × sqrt(sd² + sd_best²) of the
// most reliable candidate's (or within TIE of it, relative) is not measurably worse, so it
// joins the best group and is valued at the best mean. This is what keeps equal upstreams
// equal: 0 failures in 3 attempts is not "worse" than 0 in 300 — the evidence cannot tell
// them apart — so the one that happens to have more traffic does not take it all.
// Everything else keeps its own mean.
//
//   best group:  raw = (fastest / latency)^LATENCY_SHARPNESS
//   the others:  raw = (best_mean / mean)^SHARPNESS × the lowest raw of the best group
//   score = EXPLORE + (1 − EXPLORE) × raw
//
// (latency: recent, else the window's EWMA; unknown or cold, < 5 samples: the median). Speed
// decides only among the equally reliable, so latency never outranks a real reliability
// difference, and a brownout at one of several equally reliable upstreams moves traffic
// to the others. With the defaults, 30 % errors over ~20 recent attempts against a clean
// upstream scores ~1e-6 before EXPLORE; an upstream 10× slower than its equals ~1e-4.
//
// DOWN candidates score 0 unless every candidate is DOWN. Settings
// (APIPROXY_STRATEGY_RELIABILITY_FIRST_*): PRIOR_ERROR (0.05, 0..<1), PRIOR_WEIGHT (4,
// > 0 and <= 1e6), Z (1, 0..10), SHARPNESS (2, > 0 and <= 20), LATENCY_SHARPNESS (4,
// 0..20), DEGRADED_PENALTY (2, 1..1e6), TIE (0.1, 0..1), EXPLORE (0.002, 0..1).
#include "../common/strategy_common.hpp"

namespace {

using namespace apx::strategies;

class ReliabilityFirst final : public apx::Strategy {
 public:
  ReliabilityFirst(const apx::Host& host, const apx::Settings& settings) {
    Params p(host, settings, "RELIABILITY_FIRST",
             {"PRIOR_ERROR", "PRIOR_WEIGHT", "Z", "SHARPNESS", "LATENCY_SHARPNESS",
              "DEGRADED_PENALTY", "TIE", "EXPLORE"});
    prior_error_ = p.number("PRIOR_ERROR", 0.05, 0, 0.999999);
    prior_weight_ = p.number("PRIOR_WEIGHT", 4, 0, 1e6, /*lo_open=*/true);
    z_ = p.number("Z", 1, 0, 10);
    sharpness_ = p.number("SHARPNESS", 2, 0, 20, /*lo_open=*/true);
    latency_sharpness_ = p.number("LATENCY_SHARPNESS", 4, 0, 20);
    degraded_penalty_ = p.number("DEGRADED_PENALTY", 2, 1, 1e6);
    tie_ = p.number("TIE", 0.1, 0, 1);
    explore_ = p.number("EXPLORE", 0.002, 0, 1);
  }

  void score(const apx::RouteContext&, apx::Candidates candidates, double* out) override {
    const size_t n = candidates.size();
    if (n == 0) return;
    auto m = sanitize_all(candidates);
    auto ok = eligible(m);
    auto latency = latencies(m, ok);

    SmallVector<double> mean(n, 0), sd(n, 0);
    size_t best = n;
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) continue;
      Posterior post = error_posterior(m[i], prior_error_, prior_weight_);
      mean[i] = std::clamp(post.mean_error, 1e-9, 1.0);
      sd[i] = post.sd;
      if (m[i].degraded()) mean[i] *= degraded_penalty_;
      if (best == n || mean[i] < mean[best]) best = i;
    }
    if (best == n) return finish(SmallVector<double>(n, 0), ok, explore_, out);

    SmallVector<char> equal(n, 0);  // in the best group
    double fastest = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) continue;
      double margin = std::max(z_ * std::sqrt(sd[i] * sd[i] + sd[best] * sd[best]), tie_ * mean[best]);
      equal[i] = mean[i] - mean[best] <= margin;
      if (equal[i]) fastest = std::min(fastest, latency[i]);
    }
    SmallVector<double> raw(n, 0);
    const SharpenedInverse fast(fastest, latency_sharpness_);
    double slowest_equal = 1;
    for (size_t i = 0; i < n; ++i)
      if (ok[i] && equal[i]) slowest_equal = std::min(slowest_equal, raw[i] = fast(latency[i]));
    // The measurably less reliable rank below every equally reliable one, however slow.
    const SharpenedInverse reliable(mean[best], sharpness_);
    for (size_t i = 0; i < n; ++i)
      if (ok[i] && !equal[i]) raw[i] = reliable(mean[i]) * slowest_equal;
    finish(raw, ok, explore_, out);
  }

 private:
  double prior_error_ = 0.05;
  double prior_weight_ = 4;
  double z_ = 1;
  double sharpness_ = 2;
  double latency_sharpness_ = 4;
  double degraded_penalty_ = 2;
  double tie_ = 0.1;
  double explore_ = 0.002;
};

}  // namespace

APIPROXY_EXPORT_STRATEGY(ReliabilityFirst, "reliability_first", "2.0.0",
                         "lowest recent error rate (Bayesian, sample-aware: only a measurable "
                         "difference counts); latency decides among the equally reliable")
