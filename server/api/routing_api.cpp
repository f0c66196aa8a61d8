#include "server/api/routing_api.hpp"

#include <random>

#include <spdlog/spdlog.h>

#include "core/common/identifiers.hpp"
#include "core/model/json_codec.hpp"
#include "core/routing/sessions.hpp"
#include "core/store/keys.hpp"
#include "server/api/authenticated.hpp"
#include "server/api/errors.hpp"
#include "server/api/json_body.hpp"
#include "server/api/json_writer.hpp"
#include "server/app/gateway_state.hpp"

namespace apiproxy {

namespace http = boost::beast::http;
using ExchangePtr = std::shared_ptr<Exchange>;

namespace {

struct DecideRequest {
  std::string logical_model;
  std::string conversation_id;
  RouteRequest route;
};

std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

void write_metrics(JsonOut& j, const Candidate& c) {
  const MetricsView& m = c.metrics;
  j.w().StartObject();
  j.field("status", health_name(m.status));
  j.field("latency_ewma_ms", m.latency_ewma_ms).field("latency_p95_ms", m.latency_p95_ms);
  j.field("latency_p99_ms", m.latency_p99_ms).field("error_rate", m.error_rate);
  j.field("total_requests_1m", static_cast<size_t>(m.total_requests));
  j.field("success_qps_1m", m.success_qps).field("current_qps", m.current_qps);
  j.field("in_flight", static_cast<size_t>(m.in_flight));
  j.field("base_weight", c.base_weight).field("dynamic_weight", c.dynamic_weight);
  c.max_qps > 0 ? j.field("max_qps", c.max_qps) : j.null_field("max_qps");
  j.w().EndObject();
}

std::string decision_json(const DecideRequest& req, const RouteDecision& d, double decision_ms,
                          const std::optional<Session>& bound) {
  JsonOut j;
  j.w().StartObject();
  j.field("logical_model", req.logical_model);
  j.key("selected_upstream");
  write_json(j.w(), *d.order.front().upstream);
  j.field("decision_time", decision_ms);
  j.field("reasoning", d.reasoning);
  j.key("alternative_upstreams").w().StartArray();
  for (size_t i = 1; i < d.order.size(); ++i) write_json(j.w(), *d.order[i].upstream);
  j.w().EndArray();
  j.field("strategy_used", d.strategy_used);
  j.key("all_candidates").w().StartArray();
  for (const auto& c : d.all) {
    j.w().StartObject();
    j.key("upstream");
    write_json(j.w(), *c.upstream);
    j.field("score", c.score);
    j.key("metrics");
    write_metrics(j, c);
    j.w().EndObject();
  }
  j.w().EndArray();
  j.field("sticky", d.sticky);
  if (bound) {
    j.key("session");
    write_json(j.w(), *bound);
  }
  j.w().EndObject();
  return j.take();
}

class RoutingApi {
 public:
  explicit RoutingApi(Worker& w) : w_(w), s_(w.state) {}

  void decide(const ExchangePtr& ex) {
    auto req = std::make_shared<DecideRequest>();
    JsonBody body(ex->request().body());
    body.string("logical_model", req->logical_model, /*required=*/true);
    body.string("strategy", req->route.strategy);
    body.string("conversation_id", req->conversation_id);
    body.string("preferred_region", req->route.preferred_region);
    body.string_list("exclude_providers", req->route.exclude_providers);
    body.boolean("stream", req->route.stream);
    body.require(req->logical_model.empty() || is_valid_model_name(req->logical_model),
                 "field 'logical_model' must be 1 to 256 printable ASCII characters");
    body.require(req->conversation_id.empty() || is_valid_session_id(req->conversation_id),
                 "field 'conversation_id' must be 1 to 128 printable ASCII characters without spaces");
    if (body.error()) return ex->respond_error(http::status::bad_request, *body.error());

    find_logical_model(s_.catalog, *w_.store, req->logical_model,
                       [this, ex, req](Result<std::shared_ptr<const LogicalModel>> model) {
                         if (!model) return unavailable(ex, model.error());
                         if (!*model)
                           return ex->respond_error(http::status::not_found,
                                                    "logical model '" + req->logical_model + "' not found");
                         with_session(ex, req, *model);
                       });
  }

  void get_session(const ExchangePtr& ex) {
    const std::string& id = ex->param("conversation_id");
    load_session(*w_.store, id, [ex, id](Result<std::optional<Session>> s) {
      if (!s) return unavailable(ex, s.error());
      if (!*s) return ex->respond_error(http::status::not_found, "no session for conversation '" + id + "'");
      ex->respond(http::status::ok, to_json(**s));
    });
  }

  void delete_session(const ExchangePtr& ex) {
    const std::string id = ex->param("conversation_id");
    w_.store->del(keys::session(id), [ex, id](Result<bool> deleted) {
      if (!deleted) return unavailable(ex, deleted.error());
      if (!*deleted) return ex->respond_error(http::status::not_found, "no session for conversation '" + id + "'");
      JsonOut j;
      j.w().StartObject();
      j.field("deleted", true).field("conversation_id", id);
      j.w().EndObject();
      ex->respond(http::status::ok, j.take());
    });
  }

 private:
  static void unavailable(const ExchangePtr& ex, const std::string& why) {
    spdlog::warn("{} {}: store error: {}", ex->request().method_string(), ex->path(), why);
    ex->respond_error(http::status::service_unavailable, "the store is unavailable: " + why);
  }

  void with_session(const ExchangePtr& ex, std::shared_ptr<DecideRequest> req,
                    std::shared_ptr<const LogicalModel> model) {
    if (req->conversation_id.empty()) return route(ex, req, model, std::nullopt);
    load_session(*w_.store, req->conversation_id,
                 [this, ex, req, model](Result<std::optional<Session>> s) {
                   if (!s) return unavailable(ex, s.error());
                   route(ex, req, model, *s);
                 });
  }

  void route(const ExchangePtr& ex, std::shared_ptr<DecideRequest> req,
             std::shared_ptr<const LogicalModel> model, std::optional<Session> session) {
    auto started = std::chrono::steady_clock::now();
    req->route.session = session;
    auto plugins = s_.plugins.get();
    RouteOutcome outcome = s_.router->decide(*plugins, *model, req->route, thread_rng());
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    if (!outcome.decision)
      return ex->respond_error(route_error_status(outcome.error_kind), outcome.error);
    auto decision = std::make_shared<RouteDecision>(std::move(*outcome.decision));
    if (req->conversation_id.empty())
      return ex->respond(http::status::ok, decision_json(*req, *decision, ms, std::nullopt));
    bind_session(*w_.store, req->conversation_id, model->logical_id, session, decision->order.front(),
                 // The decision's candidates point into `plugins` and `model`: it travels with them.
                 s_.settings.stickiness_ttl, [ex, req, decision, ms, plugins, model](Result<Session> bound) {
                   if (!bound) return unavailable(ex, bound.error());
                   ex->respond(http::status::ok, decision_json(*req, *decision, ms, bound.value()));
                 });
  }

  Worker& w_;
  GatewayState& s_;
};

}  // namespace

void add_routing_routes(Worker& worker) {
  auto api = std::make_shared<RoutingApi>(worker);
  worker.keep_alive.push_back(api);
  RoutingApi* a = api.get();
  const Authenticator& auth = worker.state.auth;
  using verb = http::verb;
  worker.router.add(verb::post, "/routing/decide",
                    authenticated(auth, [a](const ExchangePtr& ex) { a->decide(ex); }));
  worker.router.add(verb::get, "/routing/sessions/{conversation_id}",
                    authenticated(auth, [a](const ExchangePtr& ex) { a->get_session(ex); }));
  worker.router.add(verb::delete_, "/routing/sessions/{conversation_id}",
                    admin_only(auth, [a](const ExchangePtr& ex) { a->delete_session(ex); }));
}

}  // namespace apiproxy
