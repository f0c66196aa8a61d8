#include "core/routing/router.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>

#include "core/common/text.hpp"

namespace apiproxy {

namespace {

const std::string& region_of(const Candidate& c) {
  return c.upstream->region ? *c.upstream->region : c.provider->config.region;
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

// Sets every field of `a` (its padding is left as it was: zero in a value-initialised one).
void to_abi(const Candidate& c, const std::string& region, apx_candidate& a) {
  a.struct_size = sizeof(a);
  a.provider_id = {c.upstream->provider_id.data(), c.upstream->provider_id.size()};
  a.model_id = {c.upstream->model_id.data(), c.upstream->model_id.size()};
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
  a.recent_latency_ms = c.metrics.recent_latency_ms;
  a.recent_error_rate = c.metrics.recent_error_rate;
  a.recent_samples = c.metrics.recent_samples;
}

// The tighter of the provider's and the upstream's MAX_QPS; 0 when neither sets one.
double max_qps_of(const ProviderRuntime& p, const PhysicalModel& up) {
  double tightest = 0;
  for (double limit : {p.config.max_qps, up.max_qps.value_or(0)})
    if (limit > 0 && (tightest == 0 || limit < tightest)) tightest = limit;
  return tightest;
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

// The choice, then the others that scored, best first. The candidates are moved, not
// copied: the order is all that is left of them.
std::vector<Candidate> failover_order(std::vector<Candidate>& cands, size_t chosen) {
  thread_local std::vector<size_t> rest;  // reused: no allocation per decision
  rest.clear();
  for (size_t i = 0; i < cands.size(); ++i)
    if (i != chosen && cands[i].score > 0) rest.push_back(i);
  // Equal scores keep upstream order: a stable sort, without the buffer std::stable_sort takes.
  std::sort(rest.begin(), rest.end(), [&](size_t a, size_t b) {
    return cands[a].score != cands[b].score ? cands[a].score > cands[b].score : a < b;
  });
  std::vector<Candidate> order;
  order.reserve(rest.size() + 1);
  order.push_back(std::move(cands[chosen]));
  for (size_t i : rest) order.push_back(std::move(cands[i]));
  return order;
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

Router::Router(RuntimeMetrics& metrics, const DynamicWeights& weights,
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

void Router::candidates(const ProviderRuntimes& providers, const LogicalModel& model, const RouteRequest& request,
                        std::vector<Candidate>& out, std::vector<std::string>& dropped,
                        std::string& region_note) const {
  const size_t n = model.upstreams.size();
  // Every upstream's metrics and weight, each read under one lock for the whole model and
  // at one clock reading, into buffers each thread reuses.
  thread_local std::vector<MetricsView> views;
  thread_local std::vector<double> multipliers;
  views.resize(n);
  multipliers.resize(n);
  metrics_.views_at(model.logical_id, model.upstreams, RuntimeMetrics::Clock::now(), views.data());
  weights_.multipliers(model.logical_id, model.upstreams, multipliers.data());

  // The elements `out` still holds are overwritten rather than rebuilt: assigning reuses
  // their strings' buffers and skips the zero-fill of a new Candidate. Every field is set.
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    const PhysicalModel& up = model.upstreams[i];
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
    if (kept == out.size()) out.emplace_back();
    Candidate& c = out[kept];
    c.upstream = &up;
    c.provider = p;
    c.metrics = views[i];
    c.base_weight = up.base_weight * p->config.weight;
    c.dynamic_weight = multipliers[i];
    c.max_qps = max_qps_of(*p, up);
    c.score = 0;
    if (std::string why = at_capacity_(c, request); !why.empty()) {
      dropped.push_back(up.provider_id + ": " + why);
      continue;  // its slot takes the next candidate
    }
    ++kept;
  }
  out.resize(kept);
  if (!request.preferred_region.empty() && !out.empty()) {
    std::vector<Candidate> in_region;
    for (const auto& c : out)
      if (iequals(region_of(c), request.preferred_region)) in_region.push_back(c);
    if (in_region.empty()) {
      region_note = "no upstream in region '" + request.preferred_region + "', so all regions were considered";
    } else {
      for (const auto& c : out)
        if (!iequals(region_of(c), request.preferred_region))
          dropped.push_back(c.upstream->provider_id + ": outside preferred region '" +
                            request.preferred_region + "'");
      region_note = "preferred region '" + request.preferred_region + "' matched " +
                    std::to_string(in_region.size()) + " of " + std::to_string(out.size()) + " upstreams";
      out = std::move(in_region);
    }
  }
}

// Scores with the strategy plugin; returns a note when it had to fall back.
std::string Router::score(const StrategyPlugin& strategy, const LogicalModel& model,
                          const RouteRequest& request, std::vector<Candidate>& cands) const {
  // The plugin's arguments, in buffers each thread reuses: scoring allocates nothing.
  thread_local std::vector<apx_candidate> abi;
  thread_local std::vector<const apx_candidate*> ptrs;
  thread_local std::vector<double> scores;
  // Filled in place; elements kept from an earlier decision are overwritten field by field.
  abi.resize(cands.size());
  ptrs.clear();
  for (size_t i = 0; i < cands.size(); ++i) {
    to_abi(cands[i], region_of(cands[i]), abi[i]);
    ptrs.push_back(&abi[i]);
  }
  apx_route_ctx ctx{};
  ctx.struct_size = sizeof(ctx);
  ctx.logical_model = {model.logical_id.data(), model.logical_id.size()};
  ctx.strategy = to_apx(strategy.name());
  ctx.preferred_region = {request.preferred_region.data(), request.preferred_region.size()};
  ctx.estimated_input_tokens = request.estimated_input_tokens;
  ctx.estimated_output_tokens = request.estimated_output_tokens;
  ctx.stream = request.stream ? 1 : 0;
  scores.assign(cands.size(), 0.0);
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

size_t Router::claim_probe(const LogicalModel& model, const std::vector<Candidate>& cands) const {
  for (size_t i = 0; i < cands.size(); ++i)
    if (cands[i].metrics.probe_due && metrics_.claim_probe(model.logical_id, cands[i].upstream->provider_id))
      return i;
  return cands.size();
}

std::string candidate_label(const Candidate& c) { return c.upstream->provider_id + "/" + c.upstream->model_id; }

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
  const std::string& strategy = !request.strategy.empty()                       ? request.strategy
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
  // Reused by each thread (its elements are moved out into the order below, and
  // overwritten by the next decision): the only allocation of a data-plane decision is
  // then the order it returns.
  thread_local std::vector<Candidate> cands;
  candidates(plugins.providers, model, request, cands, d.dropped, region_note);
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
      if (c.upstream->provider_id == s->provider_id && c.upstream->model_id == s->model_id &&
          c.metrics.status != Health::Down) {
        chosen = i;
        d.sticky = true;
        if (request.explain)
          why.push_back("conversation '" + s->conversation_id + "' is bound to " + candidate_label(c));
      }
    }
    if (!d.sticky && request.explain)
      why.push_back("conversation '" + s->conversation_id + "' was bound to " + s->provider_id + "/" +
                    s->model_id + ", which is no longer available: re-chosen");
  }
  double total = 0;
  for (const auto& c : cands) total += c.score;
  if (chosen == cands.size() && request.probe) {
    chosen = claim_probe(model, cands);
    if (chosen < cands.size() && request.explain)
      why.push_back(candidate_label(cands[chosen]) + " was ejected after failures: this request probes it");
  }
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
  d.order = failover_order(cands, chosen);

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
