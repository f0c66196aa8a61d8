// Choosing an upstream for one request to a logical model: filter the candidates, let the
// strategy plugin score them, honour a sticky session, pick by weighted chance, and keep
// the rest, best first, as the failover order.
#pragma once

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/model/types.hpp"
#include "core/providers/plugin_generation.hpp"
#include "core/routing/dynamic_weights.hpp"
#include "core/routing/runtime_metrics.hpp"

namespace apiproxy {

struct RouteRequest {
  std::string strategy;  // empty: the logical model's own, then the default
  std::string preferred_region;
  std::vector<std::string> exclude_providers;
  std::optional<Session> session;  // the conversation's binding, if it has one
  uint64_t estimated_input_tokens = 0;
  uint64_t estimated_output_tokens = 0;
  bool stream = false;
  // The caller enforces MAX_QPS exactly (the data plane's rate limiter), so the router
  // need not estimate it from recent traffic.
  bool exact_qps_limits = false;
  // Write RouteDecision::reasoning. It costs about half of a decision, so the data plane,
  // which never shows it, leaves it off.
  bool explain = true;
  // May send the half-open probe of an ejected upstream (see RuntimeMetrics): only a caller
  // that sends the request to the choice may claim it, so never a dry run.
  bool probe = false;
};

struct Candidate {
  // The upstream, in the LogicalModel the decision was made for: valid while that lives.
  const PhysicalModel* upstream = nullptr;
  const ProviderRuntime* provider = nullptr;
  MetricsView metrics;
  double base_weight = 1;     // upstream base_weight × provider WEIGHT
  double dynamic_weight = 1;  // learned multiplier
  double max_qps = 0;         // the tighter of provider MAX_QPS and upstream max_qps; 0 = none
  double score = 0;
};

// "provider/model", as logs and explanations name a candidate.
std::string candidate_label(const Candidate& c);

struct RouteDecision {
  std::string strategy_used;
  std::vector<Candidate> order;  // [0] is the choice; then the failover order (score > 0)
  std::vector<Candidate> all;    // every candidate the strategy scored, in upstream order
  std::vector<std::string> dropped;  // "provider: why" for upstreams that were not candidates
  bool sticky = false;
  std::string reasoning;
};

// Why no decision was made. Only UnknownStrategy is the caller's mistake (it named a
// strategy that is not loaded); the others say nothing can serve the model right now.
enum class RouteError { None, ModelDisabled, UnknownStrategy, StrategyUnavailable, NoUpstream };

// A stable machine-readable name: model_disabled, invalid_strategy, strategy_unavailable,
// no_upstream_available.
std::string_view route_error_code(RouteError e);

struct RouteOutcome {
  std::optional<RouteDecision> decision;
  RouteError error_kind = RouteError::None;
  std::string error;  // for people: what is wrong and what is available
};

class Router {
 public:
  // Why the upstream must not take another request now (cooling down, at its QPS limit),
  // or an empty string when it may.
  using CapacityCheck = std::function<std::string(const Candidate&, const RouteRequest&)>;

  Router(RuntimeMetrics& metrics, const DynamicWeights& weights, std::string default_strategy,
         CapacityCheck at_capacity = {});

  // Decides with the strategies and providers of `plugins`; the candidates point into it,
  // so the caller keeps it alive while it uses the decision.
  RouteOutcome decide(const PluginGeneration& plugins, const LogicalModel& model,
                      const RouteRequest& request, std::mt19937_64& rng) const;
  const std::string& default_strategy() const { return default_strategy_; }

  // Turns strategy output into usable scores: NaN, infinite and negative become 0, and
  // huge ones are capped so that their sum cannot overflow.
  static double sanitise(double score);
  static constexpr double kMaxScore = 1e12;

  // Without the data plane's limiter, recent traffic stands in for MAX_QPS.
  static bool qps_estimate_exceeded(const Candidate& c, const RouteRequest& r);
  static std::string at_qps_limit(const Candidate& c);

 private:
  // Fills `out` with the candidates, overwriting what it held.
  void candidates(const ProviderRuntimes& providers, const LogicalModel& model, const RouteRequest& request,
                  std::vector<Candidate>& out, std::vector<std::string>& dropped, std::string& region_note) const;
  std::string score(const StrategyPlugin& strategy, const LogicalModel& model,
                    const RouteRequest& request, std::vector<Candidate>& cands) const;

  // The index of an ejected candidate whose half-open probe this request claimed, or n.
  size_t claim_probe(const LogicalModel& model, const std::vector<Candidate>& cands) const;

  RuntimeMetrics& metrics_;
  const DynamicWeights& weights_;
  std::string default_strategy_;
  CapacityCheck at_capacity_;
};

}  // namespace apiproxy
