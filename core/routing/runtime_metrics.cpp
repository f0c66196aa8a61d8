#include "core/routing/runtime_metrics.hpp"

#include <algorithm>
#include <cmath>

namespace apiproxy {

namespace {

constexpr int kRecentSeconds = 5;  // current_qps looks at this much of the window

double weighted(double a, uint64_t wa, double b, uint64_t wb) {
  if (wa + wb == 0) return 0;
  return (a * static_cast<double>(wa) + b * static_cast<double>(wb)) / static_cast<double>(wa + wb);
}

}  // namespace

const char* health_name(Health h) {
  switch (h) {
    case Health::Healthy: return "healthy";
    case Health::Degraded: return "degraded";
    case Health::Down: return "down";
    default: return "unknown";
  }
}

int64_t RuntimeMetrics::second_of(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

RuntimeMetrics::Entry& RuntimeMetrics::entry(const std::string& logical, const std::string& provider) {
  if (Entry* e = find(logical, provider)) return *e;
  std::unique_lock lock(map_mutex_);
  Model& model = entries_[logical];
  auto& slot = model.providers[provider];
  if (!slot) slot = std::make_unique<Entry>(model.mutex);
  return *slot;
}

RuntimeMetrics::Entry* RuntimeMetrics::find(const std::string& logical, const std::string& provider) const {
  std::shared_lock lock(map_mutex_);
  return entry_in(model_of(logical), provider);
}

const RuntimeMetrics::Model* RuntimeMetrics::model_of(std::string_view logical) const {
  auto it = entries_.find(logical);
  return it == entries_.end() ? nullptr : &it->second;
}

RuntimeMetrics::Entry* RuntimeMetrics::entry_in(const Model* model, std::string_view provider) {
  if (!model) return nullptr;
  auto it = model->providers.find(provider);
  return it == model->providers.end() ? nullptr : it->second.get();
}

void RuntimeMetrics::begin(const std::string& logical, const std::string& provider) {
  Entry& e = entry(logical, provider);
  std::lock_guard lock(e.mutex);
  ++e.in_flight;
}

void RuntimeMetrics::end(const std::string& logical, const std::string& provider, const Observation& o,
                         Clock::time_point now) {
  Entry& e = entry(logical, provider);
  std::lock_guard lock(e.mutex);
  if (e.in_flight > 0) --e.in_flight;
  record_locked(e, o, now);
}

void RuntimeMetrics::abandon(const std::string& logical, const std::string& provider) {
  Entry& e = entry(logical, provider);
  std::lock_guard lock(e.mutex);
  if (e.in_flight > 0) --e.in_flight;
  // A probe whose client went away told nothing: the next request may probe.
  if (e.breaker.probe_claimed) {
    e.breaker.probe_claimed = false;
    e.breaker.probe_at = Clock::now();
  }
}

bool RuntimeMetrics::claim_probe(const std::string& logical, const std::string& provider,
                                 Clock::time_point now) {
  Entry* e = find(logical, provider);
  if (!e) return false;
  std::lock_guard lock(e->mutex);
  Breaker& b = e->breaker;
  // A claim moves probe_at past the grace period: a lost probe frees the slot then.
  if (!b.open || now < b.probe_at) return false;
  b.probe_claimed = true;
  b.probe_at = now + thresholds_.probe_grace;  // frees the claim if the probe never reports
  return true;
}

void RuntimeMetrics::record(const std::string& logical, const std::string& provider, const Observation& o) {
  record_at(logical, provider, o, Clock::now());
}

void RuntimeMetrics::record_at(const std::string& logical, const std::string& provider,
                               const Observation& o, Clock::time_point now) {
  Entry& e = entry(logical, provider);
  std::lock_guard lock(e.mutex);
  record_locked(e, o, now);
}

void RuntimeMetrics::record_locked(Entry& e, const Observation& o, Clock::time_point now) {
  int64_t sec = second_of(now);
  double ms = std::isfinite(o.latency_ms) && o.latency_ms > 0 ? o.latency_ms : 0;
  expire(e, sec);
  e.derived_second = kNoSecond;  // the window changes
  auto at = static_cast<size_t>(sec % kWindowSeconds);
  Second& slot = e.ring[at];
  LatencyHistogram& slot_latency = e.ring_latency[at];
  if (slot.second != sec) {
    if (slot.second >= 0) {  // an old second still in the sums (e.g. a clock step back)
      e.window_requests -= slot.requests;
      e.window_errors -= slot.errors;
      e.window_latency.subtract(slot_latency);
    }
    slot = Second{};
    slot_latency.clear();
    slot.second = sec;
  }
  ++slot.requests;
  if (!o.success) ++slot.errors;
  slot_latency.add(ms);
  ++e.window_requests;
  if (!o.success) ++e.window_errors;
  e.window_latency.add(ms);
  // Failures count in the EWMA too: a provider that fails slowly is slow.
  e.ewma_ms = e.has_ewma ? thresholds_.ewma_alpha * ms + (1 - thresholds_.ewma_alpha) * e.ewma_ms : ms;
  e.has_ewma = true;
  add_recent(e, o, ms, now);
  update_breaker(e, o.success, now);
}

void RuntimeMetrics::add_recent(Entry& e, const Observation& o, double ms, Clock::time_point now) const {
  Recent& r = e.recent;
  if (r.any && now > r.at) {
    double dt = std::chrono::duration<double>(now - r.at).count();
    double keep_errors = std::exp(-dt / thresholds_.recent_error_tau_s);
    double keep_latency = std::exp(-dt / thresholds_.recent_latency_tau_s);
    r.count *= keep_errors;
    r.errors *= keep_errors;
    r.latency_weight *= keep_latency;
    r.latency_sum *= keep_latency;
  }
  if (!r.any || now > r.at) r.at = now;
  r.any = true;
  r.count += 1;
  if (!o.success) r.errors += 1;
  // A failure counts as latency only when it was slower than usual: one that fails fast
  // must not look fast (its error counts against it instead), one that times out is slow.
  double mean = r.latency_weight > 0 ? r.latency_sum / r.latency_weight : 0;
  if (o.success || ms > mean) {
    r.latency_weight += 1;
    r.latency_sum += ms;
    if (r.latency_weight > thresholds_.recent_latency_max_samples) {
      double scale = thresholds_.recent_latency_max_samples / r.latency_weight;
      r.latency_weight *= scale;
      r.latency_sum *= scale;
    }
  }
}

std::chrono::milliseconds RuntimeMetrics::ejection_time(uint32_t strikes) const {
  auto t = thresholds_.eject_base;
  for (uint32_t i = 0; i < strikes && t < thresholds_.eject_max; ++i) t *= 2;
  return std::min(t, thresholds_.eject_max);
}

void RuntimeMetrics::update_breaker(Entry& e, bool success, Clock::time_point now) const {
  Breaker& b = e.breaker;
  if (success) {
    b.consecutive_failures = 0;
    // Only a success once the ejection time is over readmits: an answer to a request sent
    // before the ejection says little about the upstream now.
    if (b.open && (b.probe_claimed || now >= b.probe_at)) {
      b.open = b.probe_claimed = false;
      b.readmitted_at = now;
      // The failures that ejected it describe the outage, not the upstream that is back:
      // it starts again as one fresh success.
      e.recent.count = 1;
      e.recent.errors = 0;
    }
    return;
  }
  ++b.consecutive_failures;
  if (b.open) {  // the probe (or a straggler) failed: wait another ejection time
    b.probe_claimed = false;
    b.probe_at = now + ejection_time(b.strikes);
    return;
  }
  const Recent& r = e.recent;
  bool eject = b.consecutive_failures >= thresholds_.eject_consecutive_failures ||
               (r.count >= thresholds_.eject_min_samples && r.errors > thresholds_.down_error_rate * r.count);
  if (!eject) return;
  bool again = b.readmitted_at != Clock::time_point{} && now - b.readmitted_at < thresholds_.eject_memory;
  b.strikes = again ? b.strikes + 1 : 0;
  b.open = true;
  b.probe_claimed = false;
  b.probe_at = now + ejection_time(b.strikes);
}

void RuntimeMetrics::expire(const Entry& e, int64_t now_second) {
  if (e.expired_at == now_second) return;  // nothing can have expired within this second
  e.expired_at = now_second;
  e.derived_second = kNoSecond;  // seconds may leave the window
  for (size_t i = 0; i < e.ring.size(); ++i) {
    Second& s = e.ring[i];
    if (s.second < 0 || now_second - s.second < kWindowSeconds) continue;
    e.window_requests -= std::min<uint64_t>(e.window_requests, s.requests);
    e.window_errors -= std::min<uint64_t>(e.window_errors, s.errors);
    e.window_latency.subtract(e.ring_latency[i]);
    e.ring_latency[i].clear();
    s = Second{};
  }
}

RuntimeMetrics::Totals RuntimeMetrics::totals(const Entry& e, int64_t now_second) {
  expire(e, now_second);
  if (e.derived_second != now_second) {
    e.derived = compute_totals(e, now_second);
    e.derived_second = now_second;
  }
  return e.derived;
}

RuntimeMetrics::Totals RuntimeMetrics::compute_totals(const Entry& e, int64_t now_second) {
  Totals t;
  t.requests = e.window_requests;
  t.errors = e.window_errors;
  const LatencyHistogram* latency = &e.window_latency;
  LatencyHistogram past;  // only for a view of the past (tests)
  for (size_t i = 0; i < e.ring.size(); ++i) {
    const Second& s = e.ring[i];
    if (s.second > now_second) {  // seconds after `now` do not count
      if (latency != &past) latency = &(past = e.window_latency);
      t.requests -= std::min(t.requests, static_cast<uint64_t>(s.requests));
      t.errors -= std::min(t.errors, static_cast<uint64_t>(s.errors));
      past.subtract(e.ring_latency[i]);
    } else if (s.second >= 0 && now_second - s.second < kRecentSeconds) {
      t.recent_requests += s.requests;
    }
  }
  latency->quantiles(0.95, 0.99, t.p95_ms, t.p99_ms);
  return t;
}

Health RuntimeMetrics::classify(double error_rate, double p95, uint64_t samples) const {
  if (samples == 0) return Health::Unknown;
  if (samples >= thresholds_.min_samples && error_rate > thresholds_.down_error_rate) return Health::Down;
  if ((samples >= thresholds_.min_samples && error_rate > thresholds_.degraded_error_rate) ||
      p95 > thresholds_.degraded_p95_ms)
    return Health::Degraded;
  return Health::Healthy;
}

MetricsView RuntimeMetrics::view(const std::string& logical, const std::string& provider) const {
  return view_at(logical, provider, Clock::now());
}

MetricsView RuntimeMetrics::view_at(const std::string& logical, const std::string& provider,
                                    Clock::time_point now) const {
  const Entry* e = find(logical, provider);
  if (!e) return {};
  std::lock_guard lock(e->mutex);
  return view_of(e, now, second_of(now));
}

void RuntimeMetrics::views_at(const std::string& logical, std::span<const PhysicalModel> upstreams,
                              Clock::time_point now, MetricsView* out) const {
  const int64_t second = second_of(now);
  std::shared_lock lock(map_mutex_);
  const Model* model = model_of(logical);
  if (!model) {
    std::fill_n(out, upstreams.size(), MetricsView{});
    return;
  }
  std::lock_guard model_lock(model->mutex);
  for (size_t i = 0; i < upstreams.size(); ++i)
    out[i] = view_of(entry_in(model, upstreams[i].provider_id), now, second);
}

MetricsView RuntimeMetrics::view_of(const Entry* e, Clock::time_point now, int64_t now_second) const {
  MetricsView v;
  if (!e) return v;
  Totals t = totals(*e, now_second);
  const RemoteShare& r = e->remote;
  v.total_requests = t.requests + r.requests;
  uint64_t errors = t.errors + r.errors;
  v.error_rate = v.total_requests ? static_cast<double>(errors) / static_cast<double>(v.total_requests) : 0;
  v.latency_p95_ms = weighted(t.p95_ms, t.requests, r.latency_p95_ms, r.requests);
  v.latency_p99_ms = weighted(t.p99_ms, t.requests, r.latency_p99_ms, r.requests);
  v.latency_ewma_ms = weighted(e->ewma_ms, e->has_ewma ? std::max<uint64_t>(t.requests, 1) : 0,
                               r.latency_ewma_ms, r.requests);
  v.success_qps = static_cast<double>(v.total_requests - errors) / kWindowSeconds;
  v.current_qps = static_cast<double>(t.recent_requests) / kRecentSeconds + r.recent_qps;
  v.in_flight = e->in_flight + r.in_flight;
  recent_view(*e, now, v);
  return v;
}

// The recent figures, and the status they (not the minute-long window) give: an upstream
// that recovered is not held Down or Degraded by a minute of history.
void RuntimeMetrics::recent_view(const Entry& e, Clock::time_point now, MetricsView& v) const {
  const Recent& r = e.recent;
  if (r.any) {
    double age = now > r.at ? std::chrono::duration<double>(now - r.at).count() : 0;
    // Under steady traffic the last sample is a fraction of a millisecond old, and the
    // decay (< 0.05 %) is not worth an exp() per candidate per decision.
    v.recent_samples = age > 1e-3 ? r.count * std::exp(-age / thresholds_.recent_error_tau_s) : r.count;
    v.recent_error_rate = r.count > 0 ? std::clamp(r.errors / r.count, 0.0, 1.0) : 0;
    v.recent_latency_ms = r.latency_weight > 0 ? r.latency_sum / r.latency_weight : 0;
  }
  const Breaker& b = e.breaker;
  if (b.open) {
    v.status = Health::Down;
    v.ejected = true;
    v.probe_due = now >= b.probe_at;
    return;
  }
  if (!r.any) {  // no attempt of its own: what the other instances see, or nothing
    v.status = classify(v.error_rate, v.latency_p95_ms, v.total_requests);
    return;
  }
  bool erring = v.recent_samples >= static_cast<double>(thresholds_.min_samples) &&
                v.recent_error_rate > thresholds_.degraded_error_rate;
  double latency = v.recent_latency_ms > 0 ? v.recent_latency_ms : v.latency_p95_ms;
  v.status = erring || latency > thresholds_.degraded_p95_ms ? Health::Degraded : Health::Healthy;
}

std::vector<RuntimeMetrics::LocalShare> RuntimeMetrics::local_shares() const {
  std::vector<LocalShare> out;
  int64_t now = second_of(Clock::now());
  std::shared_lock map_lock(map_mutex_);
  for (const auto& [logical, model] : entries_) {
    std::lock_guard lock(model.mutex);
    for (const auto& [provider, e] : model.providers) out.push_back({logical, provider, local_share(*e, now)});
  }
  return out;
}

RemoteShare RuntimeMetrics::local_share(const Entry& e, int64_t now_second) {
  Totals t = totals(e, now_second);
  RemoteShare s;
  s.requests = t.requests;
  s.errors = t.errors;
  s.latency_p95_ms = t.p95_ms;
  s.latency_p99_ms = t.p99_ms;
  s.latency_ewma_ms = e.ewma_ms;
  s.recent_qps = static_cast<double>(t.recent_requests) / kRecentSeconds;
  s.in_flight = e.in_flight;
  return s;
}

void RuntimeMetrics::set_remote(const std::string& logical, const std::string& provider,
                                RemoteShare others) {
  Entry& e = entry(logical, provider);
  std::lock_guard lock(e.mutex);
  e.remote = others;
}

}  // namespace apiproxy
