// strategy cost_first — send each request where it is expected to cost least.
//
// Price of the request at a candidate (estimated tokens; 0 = unknown → the defaults):
//
//   price = input_tokens / 1000 × cost_input + output_tokens / 1000 × cost_output
//
// Effective cost, lowest wins:
//   * unknown price (cost_input = cost_output = 0): the highest known price among the
//     eligible candidates × UNKNOWN_COST_FACTOR, so it ranks after every priced candidate
//     but is not excluded (all prices unknown: all equal);
//   * DEGRADED: × DEGRADED_PENALTY;
//   * ties: effective costs within TIE (relative) of each other form one group valued at
//     the group's lowest cost; inside it the more reliable candidate wins:
//       effective = group_cost × (1 + 0.9 × TIE × smoothed_error_rate)
//     with smoothed_error_rate = (errors + 0.05 × 4) / (samples + 4) (4 pseudo-requests
//     at 5 %, so an unmeasured upstream does not win ties on an empty window). The factor
//     stays below 1 + TIE, so it never reorders candidates whose costs differ by more
//     than TIE: the cheaper provider wins however slow it is.
//
// Score = EXPLORE + (1 − EXPLORE) × (best_effective / effective)^SHARPNESS (best = 1).
// With SHARPNESS 6 a 2× pricier upstream gets 1/64 of the cheapest one's score, a 10 %
// pricier one 0.56 of it.
//
// DOWN candidates score 0 unless every candidate is DOWN. Latency is ignored on purpose.
// Settings (APIPROXY_STRATEGY_COST_FIRST_*): SHARPNESS (6, > 0 and <= 20), TIE (0.01,
// 0..0.5), DEGRADED_PENALTY (2, 1..1e6), UNKNOWN_COST_FACTOR (2, 1..1e6), EXPLORE (0,
// 0..1; a 1e-6 floor always applies), DEFAULT_INPUT_TOKENS (1000), DEFAULT_OUTPUT_TOKENS
// (500) (both 1..1e8).
#include "../common/strategy_common.hpp"

namespace {

using namespace apx::strategies;

class CostFirst final : public apx::Strategy {
 public:
  CostFirst(const apx::Host& host, const apx::Settings& settings) {
    Params p(host, settings, "COST_FIRST",
             {"SHARPNESS", "TIE", "DEGRADED_PENALTY", "UNKNOWN_COST_FACTOR", "EXPLORE",
              "DEFAULT_INPUT_TOKENS", "DEFAULT_OUTPUT_TOKENS"});
    sharpness_ = p.number("SHARPNESS", 6, 0, 20, /*lo_open=*/true);
    tie_ = p.number("TIE", 0.01, 0, 0.5);
    degraded_penalty_ = p.number("DEGRADED_PENALTY", 2, 1, 1e6);
    unknown_factor_ = p.number("UNKNOWN_COST_FACTOR", 2, 1, 1e6);
    explore_ = p.number("EXPLORE", 0, 0, 1);
    default_in_ = p.number("DEFAULT_INPUT_TOKENS", 1000, 1, 1e8);
    default_out_ = p.number("DEFAULT_OUTPUT_TOKENS", 500, 1, 1e8);
  }

  void score(const apx::RouteContext& ctx, apx::Candidates candidates, double* out) override {
    const size_t n = candidates.size();
    if (n == 0) return;
    auto m = sanitize_all(candidates);
    auto ok = eligible(m);
    const Tokens t = tokens(ctx, default_in_, default_out_);

    double max_known = 0;
    bool any_known = false;
    for (size_t i = 0; i < n; ++i)
      if (ok[i] && m[i].price_known()) {
        any_known = true;
        max_known = std::max(max_known, request_cost(m[i], t));
      }
    const double unknown_cost = any_known ? max_known * unknown_factor_ : 1.0;

    // Effective costs of the eligible candidates (index map `idx`).
    SmallVector<size_t> idx;
    SmallVector<double> cost;
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) continue;
      double c = m[i].price_known() && any_known ? request_cost(m[i], t) : unknown_cost;
      if (m[i].degraded()) c *= degraded_penalty_;
      idx.push_back(i);
      cost.push_back(std::max(c, 1e-12));  // a positive floor keeps ratios defined
    }
    auto group = tie_groups(cost, tie_);

    SmallVector<double> eff(cost.size());
    double best = std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < cost.size(); ++k) {
      double err = error_posterior(m[idx[k]], 0.05, 4).mean_error;
      eff[k] = group[k] * (1 + 0.9 * tie_ * err);
      best = std::min(best, eff[k]);
    }
    SmallVector<double> raw(n, 0);
    const SharpenedInverse sharpened(best, sharpness_);
    for (size_t k = 0; k < eff.size(); ++k) raw[idx[k]] = sharpened(eff[k]);
    finish(raw, ok, explore_, out);
  }

 private:
  double sharpness_ = 6;
  double tie_ = 0.01;
  double degraded_penalty_ = 2;
  double unknown_factor_ = 2;
  double explore_ = 0;
  double default_in_ = 1000;
  double default_out_ = 500;
};

}  // namespace

APIPROXY_EXPORT_STRATEGY(CostFirst, "cost_first", "1.0.0",
                         "lowest expected price per request from COST_INPUT/COST_OUTPUT and "
                         "the estimated tokens; reliability breaks ties")
