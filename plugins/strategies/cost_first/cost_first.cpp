// strategy cost_first — send each request to the cheapest upstream that answers within a
// latency objective; among equally priced ones, the fastest.
//
// Price of the request at a candidate (estimated tokens; 0 = unknown → the defaults):
//
//   price = input_tokens / 1000 × cost_input + output_tokens / 1000 × cost_output
//
// Effective price, lowest wins:
//   * unknown price (cost_input = cost_output = 0): the highest known price among the
//     eligible candidates × UNKNOWN_COST_FACTOR, so it ranks after every priced candidate
//     but is not excluded (all prices unknown: all equal);
//   * DEGRADED: × DEGRADED_PENALTY;
//   * over the objective (latency above MAX_LATENCY_MS) while another candidate meets it:
//     × OVER_SLO_PENALTY — a cheap upstream that has become too slow is not "cheap";
//     when none meets it, the objective is ignored (the cheapest still wins).
//
// Prices within TIE (relative) of each other form one group, valued at its lowest price
// (group_price). In ascending order of price, each member of a group gets
//
//   raw = min((cheapest / group_price)^SHARPNESS, lowest raw of the cheaper groups)
//         × (fastest_in_group / time)^LATENCY_SHARPNESS
//   score = EXPLORE + (1 − EXPLORE) × raw
//
// where time = latency × (1 + 10 × e / (1 − e)) (errors count as slow, as in
// latency_first; latency recent, else the window's EWMA; unknown or cold, < 5 samples:
// the median). Speed only
// orders equal prices: a cheaper upstream that meets the objective wins however much
// faster a pricier one is. With SHARPNESS 6 a 2× pricier upstream gets 1/64 of the
// cheapest one's share, a 10 % pricier one 0.56 of it.
//
// DOWN candidates score 0 unless every candidate is DOWN. Settings
// (APIPROXY_STRATEGY_COST_FIRST_*): MAX_LATENCY_MS (120000, > 0), OVER_SLO_PENALTY (100,
// 1..1e6), SHARPNESS (6, > 0 and <= 20), LATENCY_SHARPNESS (4, 0..20), TIE (0.01,
// 0..0.5), DEGRADED_PENALTY (2, 1..1e6), UNKNOWN_COST_FACTOR (2, 1..1e6), EXPLORE (0.002,
// 0..1; a 1e-6 floor always applies), DEFAULT_INPUT_TOKENS (1000), DEFAULT_OUTPUT_TOKENS
// (500) (both 1..1e8).
#include "../common/strategy_common.hpp"

namespace {

using namespace apx::strategies;

constexpr double kErrorPenalty = 10;

class CostFirst final : public apx::Strategy {
 public:
  CostFirst(const apx::Host& host, const apx::Settings& settings) {
    Params p(host, settings, "COST_FIRST",
             {"MAX_LATENCY_MS", "OVER_SLO_PENALTY", "SHARPNESS", "LATENCY_SHARPNESS", "TIE",
              "DEGRADED_PENALTY", "UNKNOWN_COST_FACTOR", "EXPLORE", "DEFAULT_INPUT_TOKENS",
              "DEFAULT_OUTPUT_TOKENS"});
    max_latency_ms_ = p.number("MAX_LATENCY_MS", 120000, 0, kMaxLatencyMs, /*lo_open=*/true);
    over_slo_penalty_ = p.number("OVER_SLO_PENALTY", 100, 1, 1e6);
    sharpness_ = p.number("SHARPNESS", 6, 0, 20, /*lo_open=*/true);
    latency_sharpness_ = p.number("LATENCY_SHARPNESS", 4, 0, 20);
    tie_ = p.number("TIE", 0.01, 0, 0.5);
    degraded_penalty_ = p.number("DEGRADED_PENALTY", 2, 1, 1e6);
    unknown_factor_ = p.number("UNKNOWN_COST_FACTOR", 2, 1, 1e6);
    explore_ = p.number("EXPLORE", 0.002, 0, 1);
    default_in_ = p.number("DEFAULT_INPUT_TOKENS", 1000, 1, 1e8);
    default_out_ = p.number("DEFAULT_OUTPUT_TOKENS", 500, 1, 1e8);
  }

  void score(const apx::RouteContext& ctx, apx::Candidates candidates, double* out) override {
    const size_t n = candidates.size();
    if (n == 0) return;
    auto m = sanitize_all(candidates);
    auto ok = eligible(m);
    auto latency = latencies(m, ok);
    auto price = effective_prices(m, ok, latency, tokens(ctx, default_in_, default_out_));

    // Price groups (prices within TIE of a group's lowest), cheapest first. Inside a group
    // the fastest wins; a group's price factor is capped at the lowest raw score of the
    // group before it, so no member of a pricier group outranks one of a cheaper group.
    SmallVector<size_t> by_price;
    SmallVector<double> time(n, 0);
    for (size_t i = 0; i < n; ++i)
      if (ok[i]) by_price.push_back(i), time[i] = time_of(m[i], latency[i]);
    std::sort(by_price.begin(), by_price.end(), [&](size_t a, size_t b) { return price[a] < price[b]; });

    SmallVector<double> raw(n, 0);
    const SharpenedInverse inexpensive(price[by_price[0]], sharpness_);
    double cap = 1;
    for (size_t start = 0; start < by_price.size();) {
      const double group_price = price[by_price[start]];
      size_t end = start;
      double fastest = std::numeric_limits<double>::infinity();
      for (; end < by_price.size() && price[by_price[end]] <= group_price * (1 + tie_); ++end)
        fastest = std::min(fastest, time[by_price[end]]);
      const SharpenedInverse fast(fastest, latency_sharpness_);
      const double price_factor = std::min(cap, inexpensive(group_price));
      for (size_t k = start; k < end; ++k) {
        size_t i = by_price[k];
        raw[i] = price_factor * fast(time[i]);
        cap = std::min(cap, raw[i]);
      }
      start = end;
    }
    finish(raw, ok, explore_, out);
  }

 private:
  // The time to a useful answer: errors count as slow, as in latency_first.
  static double time_of(const Metrics& m, double latency) { return latency * error_slowdown(m, kErrorPenalty); }

  // Each eligible candidate's effective price (> 0; see the top of this file).
  SmallVector<double> effective_prices(const SmallVector<Metrics>& m, const SmallVector<char>& ok,
                                       const SmallVector<double>& latency, Tokens t) const {
    const size_t n = m.size();
    double max_known = 0;
    bool any_known = false, any_within_slo = false;
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) continue;
      if (m[i].price_known()) {
        any_known = true;
        max_known = std::max(max_known, request_cost(m[i], t));
      }
      any_within_slo |= latency[i] <= max_latency_ms_;
    }
    const double unknown_cost = any_known ? max_known * unknown_factor_ : 1.0;
    SmallVector<double> price(n, 0);
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) continue;
      double c = m[i].price_known() && any_known ? request_cost(m[i], t) : unknown_cost;
      if (m[i].degraded()) c *= degraded_penalty_;
      if (any_within_slo && latency[i] > max_latency_ms_) c *= over_slo_penalty_;
      price[i] = std::max(c, 1e-12);  // a positive floor keeps ratios defined
    }
    return price;
  }

  double max_latency_ms_ = 120000;
  double over_slo_penalty_ = 100;
  double sharpness_ = 6;
  double latency_sharpness_ = 4;
  double tie_ = 0.01;
  double degraded_penalty_ = 2;
  double unknown_factor_ = 2;
  double explore_ = 0.002;
  double default_in_ = 1000;
  double default_out_ = 500;
};

}  // namespace

APIPROXY_EXPORT_STRATEGY(CostFirst, "cost_first", "2.0.0",
                         "lowest expected price per request among upstreams within the latency "
                         "objective (MAX_LATENCY_MS); the fastest among equal prices")
