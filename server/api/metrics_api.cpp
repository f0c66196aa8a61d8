#include "server/api/metrics_api.hpp"

#include <set>
#include <string_view>
#include <utility>

#include "core/store/redis_connection.hpp"
#include "core/telemetry/exposition.hpp"
#include "server/api/authenticated.hpp"
#include "server/app/gateway_state.hpp"

namespace apiproxy {

namespace http = boost::beast::http;
using telemetry::TextWriter;

namespace {

// Upstream pairs shown at most: they come from configuration, but a client can make new
// (logical model, provider) pairs with "provider/any-model" names.
constexpr size_t kMaxUpstreamPairs = 2000;

void write_process(TextWriter& out, const GatewayState& s) {
  out.family("apiproxy_build_info", "The running APIProxy version (always 1).", "gauge");
  out.sample("apiproxy_build_info", {{"version", APIPROXY_VERSION}}, 1);
  out.family("apiproxy_process_start_time_seconds", "When this gateway process started, in seconds since the epoch.",
             "gauge");
  out.sample("apiproxy_process_start_time_seconds", {}, s.telemetry.start_time_seconds());
}

void write_plugin_faults(TextWriter& out, const GatewayState& s) {
  out.family("apiproxy_plugin_faults_total",
             "Faults of plugins by plugin and kind (exception, error_status, bad_score, overrun, slow_call); "
             "a fault never fails a request another candidate can serve.",
             "counter");
  for (const auto& f : s.plugin_faults->snapshot())
    out.sample("apiproxy_plugin_faults_total", {{"plugin", f.plugin}, {"kind", f.kind}}, f.count);
}

void write_store(TextWriter& out, std::optional<bool> reachable, std::string_view kind) {
  RedisErrorCounts e = RedisConnection::error_counts();
  out.family("apiproxy_redis_errors_total",
             "Redis commands that failed, by cause: unavailable (no connection), timeout, connection (broke "
             "mid-command), reply (Redis answered an error).",
             "counter");
  out.sample("apiproxy_redis_errors_total", {{"kind", "connection"}}, e.connection);
  out.sample("apiproxy_redis_errors_total", {{"kind", "reply"}}, e.reply);
  out.sample("apiproxy_redis_errors_total", {{"kind", "timeout"}}, e.timeout);
  out.sample("apiproxy_redis_errors_total", {{"kind", "unavailable"}}, e.unavailable);
  if (!reachable) return;
  out.family("apiproxy_store_reachable", "1 when the store (redis or memory) answered a ping during this scrape.",
             "gauge");
  out.sample("apiproxy_store_reachable", {{"store", kind}}, *reachable ? 1 : 0);
}

void write_upstreams(TextWriter& out, const GatewayState& s) {
  // Configured pairs (so an idle upstream is visible too), then pairs that saw traffic.
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& [id, model] : *s.catalog.snapshot())
    for (const auto& up : model.upstreams)
      if (pairs.size() < kMaxUpstreamPairs) pairs.emplace(id, up.provider_id);
  for (auto& share : s.metrics.local_shares())
    if (pairs.size() < kMaxUpstreamPairs) pairs.emplace(std::move(share.logical), std::move(share.provider));

  struct Row {
    const std::pair<std::string, std::string>* pair;
    MetricsView view;
  };
  std::vector<Row> rows;
  rows.reserve(pairs.size());
  for (const auto& p : pairs) rows.push_back({&p, s.metrics.view(p.first, p.second)});

  out.family("apiproxy_upstream_healthy",
             "1 unless routing's metrics (60 s window, all instances) mark the upstream down.", "gauge");
  for (const auto& r : rows)
    out.sample("apiproxy_upstream_healthy", {{"logical_model", r.pair->first}, {"provider", r.pair->second}},
               r.view.status == Health::Down ? 0 : 1);
  out.family("apiproxy_upstream_state",
             "Routing's status of the upstream: 1 for the current state (unknown, healthy, degraded, down).", "gauge");
  for (const auto& r : rows) {
    for (Health h : {Health::Unknown, Health::Healthy, Health::Degraded, Health::Down})
      out.sample("apiproxy_upstream_state",
                 {{"logical_model", r.pair->first}, {"provider", r.pair->second}, {"state", health_name(h)}},
                 r.view.status == h ? 1 : 0);
  }
  out.family("apiproxy_upstream_in_flight", "Requests in flight to the upstream, as routing counts them.", "gauge");
  for (const auto& r : rows)
    out.sample("apiproxy_upstream_in_flight", {{"logical_model", r.pair->first}, {"provider", r.pair->second}},
               static_cast<uint64_t>(r.view.in_flight));
  out.family("apiproxy_upstream_error_ratio", "Share of failed requests to the upstream over routing's 60 s window.",
             "gauge");
  for (const auto& r : rows)
    out.sample("apiproxy_upstream_error_ratio", {{"logical_model", r.pair->first}, {"provider", r.pair->second}},
               r.view.error_rate);
}

void write_probes(TextWriter& out, const GatewayState& s) {
  out.family("apiproxy_provider_probe_healthy",
             "Outcome of the last health probe of the provider (GET /providers/{id}/health): 1 healthy or "
             "degraded, 0 down. Absent until probed.",
             "gauge");
  auto generation = s.plugins.get();
  if (!generation) return;
  for (const auto& p : generation->providers.usable) {
    auto last = s.health.last(p.config.id);
    if (last) out.sample("apiproxy_provider_probe_healthy", {{"provider", p.config.id}}, last->status == "down" ? 0 : 1);
  }
}

}  // namespace

std::string render_metrics(const GatewayState& state, std::optional<bool> store_reachable, std::string_view store_kind) {
  TextWriter out;
  write_process(out, state);
  state.telemetry.write(out);
  write_plugin_faults(out, state);
  write_store(out, store_reachable, store_kind);
  write_upstreams(out, state);
  write_probes(out, state);
  return out.take();
}

void add_metrics_routes(Worker& worker) {
  Worker* w = &worker;
  worker.router.add(http::verb::get, "/metrics",
                    authenticated(worker.state.auth, [w](const std::shared_ptr<Exchange>& ex) {
                      // One ping per scrape (every 15-60 s): cheap, and says whether the
                      // store answers now, not when it last did.
                      w->store->ping([w, ex](Status pinged) {
                        ex->respond(http::status::ok, render_metrics(w->state, pinged.ok(), w->store->kind()),
                                    telemetry::kExpositionContentType);
                      });
                    }));
}

}  // namespace apiproxy
