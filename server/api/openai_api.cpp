#include "server/api/openai_api.hpp"

#include <set>

#include "core/common/identifiers.hpp"
#include "core/translate/anthropic_messages.hpp"
#include "server/api/authenticated.hpp"
#include "server/api/json_writer.hpp"
#include "server/api/client_request.hpp"
#include "server/api/errors.hpp"
#include "server/api/exchange_channel.hpp"
#include "server/app/gateway_state.hpp"

namespace apiproxy {

namespace http = boost::beast::http;
using ExchangePtr = std::shared_ptr<Exchange>;

namespace {

void write_model(JsonOut& j, const std::string& id, int64_t created, const std::string& owner) {
  j.w().StartObject();
  j.field("id", id).field("object", "model").field("created", created).field("owned_by", owner);
  j.w().EndObject();
}

// GET /v1/models: the logical models, then every model a provider listed, each id once.
void list_models(GatewayState& s, const ExchangePtr& ex) {
  JsonOut j;
  j.w().StartObject();
  j.field("object", "list");
  j.key("data").w().StartArray();
  std::set<std::string> seen;
  for (const auto& [id, m] : *s.catalog.snapshot())
    if (m.enabled && seen.insert(id).second) write_model(j, id, m.updated_at, "apiproxy");
  auto g = s.plugins.get();
  for (const auto& p : g->providers.usable) {
    auto models = s.last_good_models.get(p.config.id);
    if (!models) continue;
    for (const auto& m : *models)
      if (seen.insert(m.model_id).second) write_model(j, m.model_id, 0, p.config.id);
  }
  j.w().EndArray();
  j.w().EndObject();
  ex->respond(http::status::ok, j.take());
}

// A data-plane request: read the body, then hand it to the worker's data plane.
// The client's headers that go to an upstream speaking the client's own API: Anthropic's
// version and beta flags. Checked like every header value a client sends on.
Headers native_headers(Exchange& ex, apx_operation op) {
  Headers out;
  if (op != APX_OP_MESSAGES) return out;
  for (std::string_view name : {"anthropic-version", "anthropic-beta"}) {
    std::string_view value = ex.request()[name];
    if (!value.empty() && is_valid_header_text(value, 256))
      out.emplace_back(std::string(name), std::string(value));
  }
  return out;
}

ClientRequestContext context_of(Exchange& ex, apx_operation op) {
  ClientRequestContext c(ex.request()["X-Session-Id"]);
  c.accepts_event_stream = ex.request()[http::field::accept].find("text/event-stream") != std::string_view::npos;
  c.native_headers = native_headers(ex, op);
  return c;
}

void serve_from_data_plane(Worker& w, const ExchangePtr& ex, apx_operation op) {
  auto channel = std::make_shared<ExchangeChannel>(ex, w.state.telemetry, op);
  auto read = read_client_request(std::move(ex->request().body()), op, context_of(*ex, op));
  if (auto* problem = std::get_if<RequestProblem>(&read)) {
    return ex->respond(http::status::bad_request,
                       op == APX_OP_MESSAGES
                           ? translate::anthropic_error_body(400, problem->message)
                           : openai_error_body(problem->message, "invalid_request_error", problem->code, problem->param));
  }
  auto& request = std::get<ProxyRequest>(read);
  request.request_id = ex->request_id();
  ex->note("model", request.model);
  w.data_plane->serve(std::move(request), std::move(channel));
}

}  // namespace

void add_openai_routes(Worker& worker) {
  const Authenticator& auth = worker.state.auth;
  Worker* w = &worker;
  auto proxy = [w](apx_operation op) {
    return [w, op](const ExchangePtr& ex) { serve_from_data_plane(*w, ex, op); };
  };
  HttpRouter& r = worker.router;
  r.add(http::verb::post, "/v1/chat/completions", authenticated(auth, proxy(APX_OP_CHAT_COMPLETIONS)));
  r.add(http::verb::post, "/v1/completions", authenticated(auth, proxy(APX_OP_COMPLETIONS)));
  r.add(http::verb::post, "/v1/embeddings", authenticated(auth, proxy(APX_OP_EMBEDDINGS)));
  r.add(http::verb::post, "/v1/messages", authenticated(auth, proxy(APX_OP_MESSAGES)));
  r.add(http::verb::post, "/v1/responses", authenticated(auth, proxy(APX_OP_RESPONSES)));
  auto models = [w](const ExchangePtr& ex) { list_models(w->state, ex); };
  r.add(http::verb::get, "/v1/models", authenticated(auth, models));
  r.add(http::verb::get, "/models", authenticated(auth, models));  // as clients without the /v1 prefix ask
}

}  // namespace apiproxy
