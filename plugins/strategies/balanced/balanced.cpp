// strategy balanced (the default) — a weighted blend of latency, errors, price and quota.
//
//   score = base_weight × dynamic_weight × max(1 − α·L − β·E − γ·C − δ·Q, MIN_SCORE)
//
//   L  latency (p95, else EWMA) / the highest such latency among the eligible candidates;
//      unknown latency → the mean L of the candidates that have one (0 when none has)
//   E  error_rate over the window, 0..1
//   C  request price (estimated tokens × COST_INPUT/COST_OUTPUT per 1k; 0 tokens → the
//      defaults) / the highest price among the eligible candidates; unknown price
//      (both costs 0) → the mean C of the priced candidates (0 when none is priced)
//   Q  quota pressure current_qps / max_qps, clamped to 0..1; 0 when max_qps is 0
//
// The result is not normalised, so providers with equal metrics get scores in the ratio
// of their weights (3:2:1 weights → 3:2:1 scores), and MIN_SCORE keeps every eligible
// candidate at >= MIN_SCORE × its weights (an internal 1e-6 floor applies even with
// MIN_SCORE 0, so an eligible candidate never reads as "never use").
// DOWN candidates score 0 unless every candidate is DOWN.
//
// Settings (APIPROXY_STRATEGY_BALANCED_*): ALPHA (0.3), BETA (0.3), GAMMA (0.2), DELTA
// (0.2), each 0..100; MIN_SCORE (0.1, 0..1); DEFAULT_INPUT_TOKENS (1000),
// DEFAULT_OUTPUT_TOKENS (500), both 1..1e8.
#include "../common/strategy_common.hpp"

namespace {

using namespace apx::strategies;

class Balanced final : public apx::Strategy {
 public:
  Balanced(const apx::Host& host, const apx::Settings& settings) {
    Params p(host, settings, "BALANCED",
             {"ALPHA", "BETA", "GAMMA", "DELTA", "MIN_SCORE", "DEFAULT_INPUT_TOKENS",
              "DEFAULT_OUTPUT_TOKENS"});
    alpha_ = p.number("ALPHA", 0.3, 0, 100);
    beta_ = p.number("BETA", 0.3, 0, 100);
    gamma_ = p.number("GAMMA", 0.2, 0, 100);
    delta_ = p.number("DELTA", 0.2, 0, 100);
    min_score_ = p.number("MIN_SCORE", 0.1, 0, 1);
    default_in_ = p.number("DEFAULT_INPUT_TOKENS", 1000, 1, 1e8);
    default_out_ = p.number("DEFAULT_OUTPUT_TOKENS", 500, 1, 1e8);
  }

  void score(const apx::RouteContext& ctx, apx::Candidates candidates, double* out) override {
    const size_t n = candidates.size();
    if (n == 0) return;
    auto m = sanitize_all(candidates);
    auto ok = eligible(m);
    const Tokens t = tokens(ctx, default_in_, default_out_);

    SmallVector<double> latency(n, 0), price(n, 0);
    double max_latency = 0, max_price = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) continue;
      latency[i] = m[i].p95_or_ewma();
      if (m[i].price_known()) price[i] = request_cost(m[i], t);
      max_latency = std::max(max_latency, latency[i]);
      max_price = std::max(max_price, price[i]);
    }
    auto L = normalised(latency, ok, max_latency);
    auto C = normalised(price, ok, max_price);

    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) {
        out[i] = 0;
        continue;
      }
      double E = m[i].error_rate;
      double Q = m[i].max_qps > 0 ? std::clamp(m[i].current_qps / m[i].max_qps, 0.0, 1.0) : 0.0;
      double blend = 1 - alpha_ * L[i] - beta_ * E - gamma_ * C[i] - delta_ * Q;
      double factor = std::max({blend, min_score_, kMinShare});
      out[i] = m[i].base_weight * m[i].dynamic_weight * factor;
    }
  }

 private:
  // values[i] / max in 0..1 for the eligible candidates with a known (> 0) value; the
  // others get the mean of those (0 when there are none).
  static SmallVector<double> normalised(const SmallVector<double>& values,
                                        const SmallVector<char>& ok, double max) {
    SmallVector<double> out(values.size(), 0);
    double sum = 0;
    size_t known = 0;
    for (size_t i = 0; i < values.size(); ++i)
      if (ok[i] && values[i] > 0 && max > 0) {
        out[i] = std::clamp(values[i] / max, 0.0, 1.0);
        sum += out[i];
        ++known;
      }
    double fill = known ? sum / static_cast<double>(known) : 0.0;
    for (size_t i = 0; i < values.size(); ++i)
      if (ok[i] && !(values[i] > 0 && max > 0)) out[i] = fill;
    return out;
  }

  double alpha_ = 0.3, beta_ = 0.3, gamma_ = 0.2, delta_ = 0.2;
  double min_score_ = 0.1;
  double default_in_ = 1000, default_out_ = 500;
};

}  // namespace

APIPROXY_EXPORT_STRATEGY(Balanced, "balanced", "1.0.0",
                         "weighted blend: weights x (1 - a*latency - b*errors - g*cost - "
                         "d*quota), floor MIN_SCORE; the default strategy")
