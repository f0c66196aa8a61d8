// strategy balanced (the default) — a blend of latency, errors, price and quota in which
// each term weighs in proportion to how much worse a candidate really is.
//
//   raw = base_weight × dynamic_weight
//         × (L_best / L)^(10·ALPHA)          latency: 2× slower → × 1/16 with ALPHA 0.4
//         × exp(−100·BETA · (E − E_best))    errors: each percentage point → × 0.74
//         × (C_best / C)^(10·GAMMA)          price: 2× pricier → × 1/4 with GAMMA 0.2
//         × exp(−10·DELTA · Q)               quota: at its MAX_QPS → × 0.14 with DELTA 0.2
//   score = max(raw / max(raw), MIN_SCORE)
//
//   L  the latency (recent, else the window's EWMA, else its p95); unknown or cold (< 5
//      samples): the median of the others, so a new upstream is tried like a typical one
//   E  the recent error rate, shrunk toward 0 when it rests on few attempts
//   C  the request's price (estimated tokens × COST_INPUT/COST_OUTPUT per 1k; 0 tokens →
//      the defaults); unknown (both costs 0): the median of the priced candidates
//   Q  quota pressure current_qps / max_qps, 0..1; 0 when max_qps is 0
//   *_best  the lowest among the eligible candidates
//
// Worked examples (defaults, equal weights, two candidates):
//   * equal metrics: 50/50; weights 3:2:1 with equal metrics: 3:2:1.
//   * one 5× slower (a brownout): (1/5)^4 = 0.0016 → ~0.2 % of the traffic (MIN_SCORE).
//   * one 20 % slower: (1/1.2)^4 = 0.48 → 33 / 67.
//   * one failing 30 % of its recent attempts: exp(−30 × 0.3) ≈ 1e-4 → ~0.2 %.
//   * one 2× pricier: (1/2)^2 = 0.25 → 20 / 80; 2× pricier and 2× faster: 0.25 × 16 = 4 →
//     the pricier one gets 4/5.
// The old formula (1 − α·L − β·E − γ·C − δ·Q on terms normalised to 0..1) could not tell a
// 60× slower upstream from a 2× slower one, and MIN_SCORE 0.1 kept ~10 % of the traffic
// on any upstream, however bad.
//
// DOWN candidates score 0 unless every candidate is DOWN. Settings
// (APIPROXY_STRATEGY_BALANCED_*): ALPHA (0.4), BETA (0.3), GAMMA (0.2), DELTA (0.2), each
// 0..100; MIN_SCORE (0.002, 0..1: the share floor, relative to the best candidate);
// DEFAULT_INPUT_TOKENS (1000), DEFAULT_OUTPUT_TOKENS (500), both 1..1e8.
#include "../common/strategy_common.hpp"

namespace {

using namespace apx::strategies;

class Balanced final : public apx::Strategy {
 public:
  Balanced(const apx::Host& host, const apx::Settings& settings) {
    Params p(host, settings, "BALANCED",
             {"ALPHA", "BETA", "GAMMA", "DELTA", "MIN_SCORE", "DEFAULT_INPUT_TOKENS",
              "DEFAULT_OUTPUT_TOKENS"});
    alpha_ = p.number("ALPHA", 0.4, 0, 100);
    beta_ = p.number("BETA", 0.3, 0, 100);
    gamma_ = p.number("GAMMA", 0.2, 0, 100);
    delta_ = p.number("DELTA", 0.2, 0, 100);
    min_score_ = p.number("MIN_SCORE", 0.002, 0, 1);
    default_in_ = p.number("DEFAULT_INPUT_TOKENS", 1000, 1, 1e8);
    default_out_ = p.number("DEFAULT_OUTPUT_TOKENS", 500, 1, 1e8);
  }

  void score(const apx::RouteContext& ctx, apx::Candidates candidates, double* out) override {
    const size_t n = candidates.size();
    if (n == 0) return;
    auto m = sanitize_all(candidates);
    auto ok = eligible(m);
    auto latency = latencies(m, ok);
    auto price = prices(m, ok, tokens(ctx, default_in_, default_out_));

    double best_latency = std::numeric_limits<double>::infinity(), best_price = best_latency;
    double best_error = 1;
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) continue;
      best_latency = std::min(best_latency, latency[i]);
      best_price = std::min(best_price, price[i]);
      best_error = std::min(best_error, recent_error(m[i]));
    }
    // Every factor is <= 1 (a ratio to the best, or e^-x with x >= 0), so nothing
    // overflows whatever the settings; the defaults' whole exponents are multiplications.
    const SharpenedInverse faster(best_latency, 10 * alpha_), cheaper(best_price, 10 * gamma_);
    SmallVector<double> raw(n, 0);
    double best_raw = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) continue;
      double q = m[i].max_qps > 0 ? std::clamp(m[i].current_qps / m[i].max_qps, 0.0, 1.0) : 0.0;
      double penalty = 100 * beta_ * (recent_error(m[i]) - best_error) + 10 * delta_ * q;
      raw[i] = m[i].base_weight * m[i].dynamic_weight * faster(latency[i]) * cheaper(price[i]) *
               (penalty > 0 ? std::exp(-penalty) : 1.0);
      best_raw = std::max(best_raw, raw[i]);
    }
    // Relative to the best, with the floor: scores above it keep their exact ratios.
    const double floor = std::max(min_score_, kMinShare);
    for (size_t i = 0; i < n; ++i)
      out[i] = !ok[i] ? 0 : best_raw > 0 ? std::max(raw[i] / best_raw, floor) : 1;
  }

 private:
  // Each eligible candidate's price (> 0); unknown prices get the median of the known
  // ones, and all are equal (1) when none is known.
  static SmallVector<double> prices(const SmallVector<Metrics>& m, const SmallVector<char>& ok, Tokens t) {
    SmallVector<double> out(m.size(), 0);
    SmallVector<char> unknown(m.size(), 0);
    for (size_t i = 0; i < m.size(); ++i) {
      if (!ok[i]) continue;
      unknown[i] = !m[i].price_known();
      out[i] = std::max(request_cost(m[i], t), 1e-12);
    }
    fill_unknown_with_median(out, ok, unknown, 1.0);
    return out;
  }

  double alpha_ = 0.4, beta_ = 0.3, gamma_ = 0.2, delta_ = 0.2;
  double min_score_ = 0.002;
  double default_in_ = 1000, default_out_ = 500;
};

}  // namespace

APIPROXY_EXPORT_STRATEGY(Balanced, "balanced", "2.0.0",
                         "blend of latency, errors, price and quota, each in proportion to how "
                         "much worse a candidate is: weights x (L*/L)^10a x e^(-100b dE) x "
                         "(C*/C)^10g x e^(-10d Q)")
