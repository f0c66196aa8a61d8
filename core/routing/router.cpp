#include "core/routing/router.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace apiproxy {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

const std::string& region_of(const Candidate& c) {
  return c.upstream.region ? *c.upstream.region : c.provider->config.region;
}

std::string fmt(double v, const char* spec = "%.3g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

std::string join(const std::vector<std::string>& items, const char* sep = "; ") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

apx_candidate to_abi(const Candidate& c, const std::string& region) {
  apx_candidate a{};
  a.struct_size = sizeof(a);
  a.provider_id = {c.upstream.provider_id.data(), c.upstream.provider_id.size()};
  a.model_id = {c.upstream.model_id.data(), c.upstream.model_id.size()};
  a.region = {region.data(), region.size()};
  a.base_weight = c.base_weight;
  a.dynamic_weight = c.dynamic_weight;
  a.cost_input = c.provider->config.cost_input;
  a.cost_output = c.provider->config.cost_output;
  a.latency_ewma_ms = c.metrics.latency_ewma_ms;
  a.latency_p95_ms = c.metrics.latency_p95_ms;
  a.latency_p99_ms = c.metrics.latency_p99_ms;
  a.error_rate = c.metrics.error_rate;
  a.in_flight = c.metrics.in_flight;
  a.samples = static_cast<uint32_t>(std::min<uint64_t>(c.metrics.total_requests, UINT32_MAX));
  a.status = static_cast<uint32_t>(c.metrics.status);
  a.max_qps = c.max_qps;
  a.current_qps = c.metrics.current_qps;
  return a;
}

// Index drawn with probability score / sum(scores).
size_t weighted_pick(const std::vector<Candidate>& cands, double total, std::mt19937_64& rng) {
  double x = std::uniform_real_distribution<double>(0, total)(rng);
  for (size_t i = 0; i < cands.size(); ++i) {
    if (cands[i].score <= 0) continue;
    if (x < cands[i].score) return i;
    x -= cands[i].score;
  }
  for (size_t i = cands.size(); i-- > 0;)  // rounding left x at the very top
    if (cands[i].score > 0) return i;
  return 0;
}

std::string describe(const Candidate& c) {
  const auto& m = c.metrics;
  std::string s = candidate_label(c) + " (score " + fmt(c.score) + ", " + health_name(m.status);
  if (m.total_requests) {
    s += ", ewma " + fmt(m.latency_ewma_ms, "%.0f") + " ms, p95 " + fmt(m.latency_p95_ms, "%.0f") +
         " ms, errors " + fmt(m.error_rate * 100, "%.1f") + "% of " + std::to_string(m.total_requests);
  } else {
    s += ", no traffic yet";
  }
  return s + ")";
}

}  // namespace

bool Router::qps_estimate_exceeded(const Candidate& c, const RouteRequest& r) {
  return !r.exact_qps_limits && c.max_qps > 0 && c.metrics.current_qps >= c.max_qps;
}

std::string Router::at_qps_limit(const Candidate& c) {
  return "at its QPS limit (" + fmt(c.max_qps) + "/s)";
}

Router::Router(const RuntimeMetrics& metrics, const DynamicWeights& weights,
               std::string default_strategy, CapacityCheck at_capacity)
    : metrics_(metrics),
      weights_(weights),
      default_strategy_(std::move(default_strategy)),
      at_capacity_(std::move(at_capacity)) {
  if (!at_capacity_) {
    // Without a shared limiter, the recent request rate stands in for the bucket.
    at_capacity_ = [](const Candidate& c, const RouteRequest& r) {
      return qps_estimate_exceeded(c, r) ? at_qps_limit(c) : std::string();
    };
  }
}

double Router::sanitise(double score) {
  return std::isfinite(score) && score > 0 ? std::min(score, kMaxScore) : 0.0;
}

std::vector<Candidate> Router::candidates(const ProviderRuntimes& providers, const LogicalModel& model,
                                          const RouteRequest& request, std::vector<std::string>& dropped,
                                          std::string& region_note) const {
  std::vector<Candidate> out;
  out.reserve(model.upstreams.size());
  auto now = RuntimeMetrics::Clock::now();  // one clock read for every candidate's view
  for (const auto& up : model.upstreams) {
    const ProviderRuntime* p = providers.find(up.provider_id);
    if (!p) {
      dropped.push_back(up.provider_id + ": provider not configured");
      continue;
    }
    if (std::find(request.exclude_providers.begin(), request.exclude_providers.end(),
                  up.provider_id) != request.exclude_providers.end()) {
      dropped.push_back(up.provider_id + ": excluded by the request");
      continue;
    }
    Candidate c;
    c.upstream = up;
    c.provider = p;
    c.metrics = metrics_.view_at(model.logical_id, up.provider_id, now);
    c.base_weight = up.base_weight * p->config.weight;
    c.dynamic_weight = weights_.multiplier(model.logical_id, up.provider_id);
    double limits[] = {p->config.max_qps, up.max_qps.value_or(0)};
    for (double l : limits)
      if (l > 0 && (c.max_qps == 0 || l < c.max_qps)) c.max_qps = l;
    if (std::string why = at_capacity_(c, request); !why.empty()) {
      dropped.push_back(up.provider_id + ": " + why);
      continue;
    }
    out.push_back(std::move(c));
  }
  if (!request.preferred_region.empty() && !out.empty()) {
    std::vector<Candidate> in_region;
    for (const auto& c : out)
      if (iequals(region_of(c), request.preferred_region)) in_region.push_back(c);
    if (in_region.empty()) {
      region_note = "no upstream in region '" + request.preferred_region + "', so all regions were considered";
    } else {
      for (const auto& c : out)
        if (!iequals(region_of(c), request.preferred_region))
          dropped.push_back(c.upstream.provider_id + ": outside preferred region '" +
                            request.preferred_region + "'");
      region_note = "preferred region '" + request.preferred_region + "' matched " +
                    std::to_string(in_region.size()) + " of " + std::to_string(out.size()) + " upstreams";
      out = std::move(in_region);
    }
  }
  return out;
}

// Scores with the strategy plugin; returns a note when it had to fall back.
std::string Router::score(const StrategyPlugin& strategy, const LogicalModel& model,
                          const RouteRequest& request, std::vector<Candidate>& cands) const {
  std::vector<apx_candidate> abi;
  abi.reserve(cands.size());
  for (const auto& c : cands) abi.push_back(to_abi(c, region_of(c)));
  std::vector<const apx_candidate*> ptrs;
  ptrs.reserve(abi.size());
  for (const auto& a : abi) ptrs.push_back(&a);
  apx_route_ctx ctx{};
  ctx.struct_size = sizeof(ctx);
  ctx.logical_model = {model.logical_id.data(), model.logical_id.size()};
  ctx.strategy = to_apx(strategy.name());
  ctx.preferred_region = {request.preferred_region.data(), request.preferred_region.size()};
  ctx.estimated_input_tokens = request.estimated_input_tokens;
  ctx.estimated_output_tokens = request.estimated_output_tokens;
  ctx.stream = request.stream ? 1 : 0;
  std::vector<double> scores(cands.size(), 0.0);
  Status st = strategy.score(ctx, ptrs.data(), ptrs.size(), scores.data());
  if (!st) {
    // A failing strategy must not fail the request: fall back to the weights.
    for (auto& c : cands) c.score = c.metrics.status == Health::Down ? 0 : c.base_weight * c.dynamic_weight;
    return st.error() + "; fell back to base × dynamic weights";
  }
  size_t unusable = 0;
  for (size_t i = 0; i < cands.size(); ++i) {
    unusable += !(std::isfinite(scores[i]) && scores[i] >= 0);
    cands[i].score = sanitise(scores[i]);
  }
  if (unusable)
    strategy.fault(plugin_fault::kBadScore, "score gave " + std::to_string(unusable) + " of " +
                                                std::to_string(cands.size()) +
                                                " candidates a NaN, infinite or negative score (used as 0)");
  return {};
}

std::string candidate_label(const Candidate& c) { return c.upstream.provider_id + "/" + c.upstream.model_id; }

std::string_view route_error_code(RouteError e) {
  switch (e) {
    case RouteError::None: return "";
    case RouteError::ModelDisabled: return "model_disabled";
    case RouteError::UnknownStrategy: return "invalid_strategy";
    case RouteError::StrategyUnavailable: return "strategy_unavailable";
    case RouteError::NoUpstream: return "no_upstream_available";
  }
  return "";
}

RouteOutcome Router::decide(const PluginGeneration& plugins, const LogicalModel& model,
                            const RouteRequest& request, std::mt19937_64& rng) const {
  RouteOutcome out;
  if (!model.enabled) {
    out.error_kind = RouteError::ModelDisabled;
    out.error = "logical model '" + model.logical_id + "' is disabled";
    return out;
  }
  std::string strategy = !request.strategy.empty() ? request.strategy
                         : model.strategy && !model.strategy->empty() ? *model.strategy
                                                                      : default_strategy_;
  auto plugin = plugins.plugins->strategy(strategy);
  if (!plugin) {
    // A strategy the client named is its mistake; the model's own (or the default) missing
    // is ours: the plugin is not loaded, and a client cannot fix that.
    std::string available = "available: " + join(plugins.plugins->strategy_names(), ", ");
    if (!request.strategy.empty()) {
      out.error_kind = RouteError::UnknownStrategy;
      out.error = "unknown strategy '" + strategy + "'; " + available;
    } else {
      out.error_kind = RouteError::StrategyUnavailable;
      out.error = "logical model '" + model.logical_id + "' routes with strategy '" + strategy +
                  "', which is not loaded; " + available;
    }
    return out;
  }
  RouteDecision d;
  d.strategy_used = strategy;
  std::string region_note;
  std::vector<Candidate> cands = candidates(plugins.providers, model, request, d.dropped, region_note);
  if (cands.empty()) {
    out.error_kind = RouteError::NoUpstream;
    out.error = "no upstream of '" + model.logical_id + "' is available" +
                (d.dropped.empty() ? std::string(" (it has no upstreams)") : ": " + join(d.dropped));
    return out;
  }
  std::string fallback_note = score(*plugin, model, request, cands);
  if (request.explain) d.all = cands;  // only explanations list every candidate

  std::vector<std::string> why;
  if (!region_note.empty()) why.push_back(region_note);
  if (!fallback_note.empty()) why.push_back(fallback_note);

  size_t chosen = cands.size();
  const auto& s = request.session;
  if (s && s->logical_model == model.logical_id) {
    for (size_t i = 0; i < cands.size(); ++i) {
      const auto& c = cands[i];
      if (c.upstream.provider_id == s->provider_id && c.upstream.model_id == s->model_id &&
          c.metrics.status != Health::Down) {
        chosen = i;
        d.sticky = true;
        why.push_back("conversation '" + s->conversation_id + "' is bound to " + candidate_label(c));
      }
    }
    if (!d.sticky)
      why.push_back("conversation '" + s->conversation_id + "' was bound to " + s->provider_id + "/" +
                    s->model_id + ", which is no longer available: re-chosen");
  }
  double total = 0;
  for (const auto& c : cands) total += c.score;
  if (chosen == cands.size()) {
    if (total <= 0) {
      out.error_kind = RouteError::NoUpstream;
      out.error = "strategy '" + strategy + "' scored every upstream of '" + model.logical_id +
                  "' 0 (all unhealthy or unusable)";
      return out;
    }
    chosen = weighted_pick(cands, total, rng);
    if (request.explain)
      why.push_back("strategy " + strategy + " scored " + std::to_string(cands.size()) +
                  " candidate(s); drew " + candidate_label(cands[chosen]) + " with probability " +
                  fmt(100 * cands[chosen].score / total, "%.0f") + "%");
  }
  // The choice, then the others that scored, best first. The candidates are moved, not
  // copied: the order is all that is left of them.
  std::vector<size_t> rest;
  rest.reserve(cands.size());
  for (size_t i = 0; i < cands.size(); ++i)
    if (i != chosen && cands[i].score > 0) rest.push_back(i);
  std::stable_sort(rest.begin(), rest.end(), [&](size_t a, size_t b) { return cands[a].score > cands[b].score; });
  d.order.reserve(rest.size() + 1);
  d.order.push_back(std::move(cands[chosen]));
  for (size_t i : rest) d.order.push_back(std::move(cands[i]));

  if (!request.explain) {
    out.decision = std::move(d);
    return out;
  }
  why.push_back("chosen: " + describe(d.order.front()));
  if (d.order.size() > 1) {
    std::vector<std::string> alts;
    for (size_t i = 1; i < d.order.size(); ++i) alts.push_back(describe(d.order[i]));
    why.push_back("failover order: " + join(alts, ", "));
  }
  if (!d.dropped.empty()) why.push_back("not considered: " + join(d.dropped, ", "));
  d.reasoning = join(why);
  out.decision = std::move(d);
  return out;
}

}  // namespace apiproxy
