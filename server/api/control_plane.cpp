#include "server/api/control_plane.hpp"

#include <boost/asio/post.hpp>
#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include "core/common/json_parse.hpp"
#include "core/model/json_codec.hpp"
#include "core/store/keys.hpp"
#include "server/api/authenticated.hpp"
#include "server/api/errors.hpp"
#include "server/api/json_writer.hpp"
#include "server/api/usage_json.hpp"
#include "server/app/gateway_state.hpp"
#include "server/app/plugin_reload.hpp"

namespace apiproxy {

namespace http = boost::beast::http;
namespace asio = boost::asio;
using verb = http::verb;
using ExchangePtr = std::shared_ptr<Exchange>;

namespace {

void respond_json(const ExchangePtr& ex, std::string body, http::status status = http::status::ok) {
  ex->respond(status, std::move(body));
}

void store_unavailable(const ExchangePtr& ex, const std::string& why) {
  spdlog::warn("{} {}: store error: {}", ex->request().method_string(), ex->path(), why);
  ex->respond_error(http::status::service_unavailable, "the store is unavailable: " + why);
}

// Each key by its label, never the key itself.
void write_keys(JsonOut& j, const ProviderConfig& p, const KeyPool* pool) {
  j.field("api_keys_source", "LLM_PROVIDER_" + p.id + "_" + p.keys_source);
  j.key("api_keys").w().StartArray();
  if (pool) {
    for (const auto& k : pool->view(KeyPool::Clock::now())) {
      j.w().StartObject();
      j.field("label", k.label).field("weight", k.weight);
      k.max_qps > 0 ? j.field("max_qps", k.max_qps) : j.null_field("max_qps");
      j.field("preference", k.preference);
      j.field("state", k.backoff_seconds > 0 ? "backing_off" : "available");
      j.field("backoff_remaining_seconds", k.backoff_seconds);
      j.field("requests", k.requests).field("successes", k.successes).field("auth_failures", k.auth_failures);
      j.field("rate_limited", k.rate_limited).field("other_failures", k.other_failures);
      j.w().EndObject();
    }
  }
  j.w().EndArray();
}

void write_provider(JsonOut& j, const ProviderConfig& p, const KeyPool* pool) {
  j.w().StartObject();
  j.field("id", p.id).field("name", p.name).field("base_url", p.display_base_url());
  j.field("api_key", p.redacted_api_key());
  write_keys(j, p, pool);
  p.models_path.empty() ? j.null_field("models_path") : j.field("models_path", p.models_path);
  j.field("weight", p.weight).field("region", p.region);
  j.field("cost_input", p.cost_input).field("cost_output", p.cost_output);
  p.max_qps > 0 ? j.field("max_qps", p.max_qps) : j.null_field("max_qps");
  j.field("adapter", p.adapter).field("retryable_status_codes", p.retryable.to_string());
  j.w().EndObject();
}

class ControlPlane {
 public:
  explicit ControlPlane(Worker& w) : w_(w), s_(w.state) {}

  void health(const ExchangePtr& ex) {
    w_.store->ping([this, ex, g = s_.plugins.get()](Status pinged) {
      JsonOut j;
      j.w().StartObject();
      j.field("status", "ok").field("version", APIPROXY_VERSION);
      j.key("store").w().StartObject();
      j.field("kind", w_.store->kind()).field("reachable", pinged.ok());
      if (!pinged) j.field("error", pinged.error());
      j.w().EndObject();
      j.field("providers", g->providers.usable.size());
      j.key("plugins").w().StartObject();
      j.field("strategies", g->plugins->strategy_names().size());
      j.field("providers", g->plugins->provider_names().size());
      j.field("rejected", g->plugins->rejected().size());
      j.field("generation", g->number);
      j.w().EndObject();
      j.w().EndObject();
      respond_json(ex, j.take());
    });
  }

  // Readiness, for load balancers and orchestrators: 503 while this instance cannot serve
  // (draining, nothing to route to), with every reason. An unreachable store is not one: the
  // data plane keeps serving from its cached catalog, and one Redis blip must not take every
  // instance out of rotation at once. It shows under "degraded" (and in /health, /metrics).
  void ready(const ExchangePtr& ex) {
    w_.store->ping([this, ex, g = s_.plugins.get()](Status pinged) {
      std::vector<std::string> why_not, degraded;
      if (s_.draining) why_not.push_back("shutting down");
      if (g->providers.usable.empty()) why_not.push_back("no usable provider");
      if (g->plugins->strategy_names().empty()) why_not.push_back("no strategy loaded");
      if (!pinged) degraded.push_back("store unreachable: " + pinged.error());
      JsonOut j;
      j.w().StartObject();
      j.field("ready", why_not.empty());
      j.string_list("reasons", why_not).string_list("degraded", degraded);
      j.w().EndObject();
      ex->respond(why_not.empty() ? http::status::ok : http::status::service_unavailable, j.take());
    });
  }

  // POST /plugins/reload: the same as SIGHUP, answered with what changed.
  void reload(const ExchangePtr& ex) {
    asio::io_context& io = w_.io;
    // The exchange (and with it the client's socket) goes back to its worker with the
    // answer: no reference to it may be dropped on the background thread, whose destructors
    // would then touch a socket that only the worker may use (server/app/worker.hpp).
    s_.run_in_background([this, ex, &io]() mutable {
      PluginReload r = reload_plugins(s_);
      asio::post(io, [ex = std::move(ex), r = std::move(r)] {
        JsonOut j;
        j.w().StartObject();
        j.field("generation", r.generation);
        j.string_list("added", r.changes.added).string_list("replaced", r.changes.replaced);
        j.string_list("removed", r.changes.removed).string_list("unchanged", r.changes.unchanged);
        j.string_list("kept_previous", r.changes.kept_previous);
        j.key("rejected").w().StartArray();
        for (const auto& rej : r.rejected) {
          j.w().StartObject();
          j.field("file", rej.file).field("reason", rej.reason);
          j.w().EndObject();
        }
        j.w().EndArray();
        j.w().EndObject();
        respond_json(ex, j.take());
      });
    });
  }

  void list_providers(const ExchangePtr& ex) {
    auto g = s_.plugins.get();
    const ProviderRuntimes& providers = g->providers;
    JsonOut j;
    j.w().StartObject();
    j.key("providers").w().StartArray();
    for (const auto& p : providers.usable) write_provider(j, p.config, s_.key_pools->find(p.config.id));
    j.w().EndArray();
    j.field("total", providers.usable.size());
    j.key("skipped").w().StartArray();
    for (const auto& sk : providers.skipped) {
      j.w().StartObject();
      j.field("id", sk.id).field("reason", sk.reason);
      j.w().EndObject();
    }
    j.w().EndArray();
    j.w().EndObject();
    respond_json(ex, j.take());
  }

  // The provider named in the path (keeping its plugin generation alive), or a 404 already
  // sent.
  std::shared_ptr<const ProviderRuntime> provider_or_404(const ExchangePtr& ex) {
    const std::string& id = ex->param("id");
    auto g = s_.plugins.get();
    if (const auto* p = g->providers.find(id)) return std::shared_ptr<const ProviderRuntime>(g, p);
    std::string msg = "provider '" + id + "' is not configured";
    for (const auto& sk : g->providers.skipped)
      if (sk.id == id) msg = "provider '" + id + "' was skipped: " + sk.reason;
    ex->respond_error(http::status::not_found, msg);
    return nullptr;
  }

  void get_provider(const ExchangePtr& ex) {
    auto p = provider_or_404(ex);
    if (!p) return;
    JsonOut j;
    write_provider(j, p->config, s_.key_pools->find(p->config.id));
    respond_json(ex, j.take());
  }

  void provider_models(const ExchangePtr& ex) {
    auto p = provider_or_404(ex);
    if (!p) return;
    w_.store->get(keys::vendor_models(p->config.id), [this, ex, p](Result<Store::Value> cached) {
      if (!cached) return store_unavailable(ex, cached.error());
      if (*cached) {
        auto models = models_from_json(**cached);
        if (models) return respond_models(ex, p->config.id, *models, "cache");
        spdlog::warn("cached model list of '{}' is unreadable ({}); fetching it again",
                     p->config.id, models.error());
      }
      discover_models(*p, *w_.pool, *w_.store, s_.last_good_models, s_.discovery_options(),
                      [this, ex, p](Result<std::vector<Model>> fetched) {
                        if (!fetched)
                          return ex->respond_error(http::status::bad_gateway,
                                                   "cannot fetch the model list of provider '" +
                                                       p->config.id + "': " + fetched.error());
                        respond_models(ex, p->config.id, *fetched, "upstream");
                      });
    });
  }

  void respond_models(const ExchangePtr& ex, const std::string& provider_id,
                      const std::vector<Model>& models, std::string_view source) {
    JsonOut j;
    j.w().StartObject();
    j.field("provider_id", provider_id);
    j.key("models").w().StartArray();
    for (const auto& m : models) write_json(j.w(), m);
    j.w().EndArray();
    j.field("total", models.size()).field("source", source);
    j.w().EndObject();
    respond_json(ex, j.take());
  }

  void provider_health(const ExchangePtr& ex) {
    auto p = provider_or_404(ex);
    if (!p) return;
    HealthOptions opts;
    opts.timeout = s_.settings.health_timeout;
    probe_health(*p, *w_.pool, s_.health, opts,
                 [ex, p](HealthStatus h) { respond_json(ex, to_json(h)); });
  }

  void provider_metrics(const ExchangePtr& ex) {
    auto p = provider_or_404(ex);
    if (!p) return;
    auto logical = ex->query("logical_model");
    auto respond_values = [this, ex, logical, provider = p->config.id](const std::vector<Store::Value>& values) {
      JsonOut j;
      j.w().StartObject();
      j.key("metrics").w().StartArray();
      for (const auto& v : values) {
        rapidjson::Document d;
        if (v && !parse_json(d, *v) && d.IsObject()) j.raw(*v);
      }
      j.w().EndArray();
      write_usage_summary(j, s_.telemetry.usage.rows(provider), logical);
      j.w().EndObject();
      respond_json(ex, j.take());
    };
    if (logical && !logical->empty()) {
      w_.store->get(keys::metrics(*logical, p->config.id),
                    [ex, respond_values](Result<Store::Value> v) {
                      if (!v) return store_unavailable(ex, v.error());
                      respond_values({*v});
                    });
      return;
    }
    std::string suffix = ":" + p->config.id;
    w_.store->keys_with_prefix("llm:metrics:", [this, ex, suffix, respond_values](
                                                   Result<std::vector<std::string>> found) {
      if (!found) return store_unavailable(ex, found.error());
      std::vector<std::string> mine;
      for (const auto& k : *found)
        if (k.size() > suffix.size() && k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0)
          mine.push_back(k);
      w_.store->get_many(mine, [ex, respond_values](Result<std::vector<Store::Value>> values) {
        if (!values) return store_unavailable(ex, values.error());
        respond_values(*values);
      });
    });
  }

  void list_logical_models(const ExchangePtr& ex) {
    load_logical_models(*w_.store, [ex](Result<LogicalModelCatalog::Snapshot> loaded,
                                              std::vector<std::string> problems) {
      if (!loaded) return store_unavailable(ex, loaded.error());
      JsonOut j;
      j.w().StartObject();
      j.key("models").w().StartArray();
      for (const auto& [id, m] : *loaded) write_json(j.w(), m);
      j.w().EndArray();
      j.field("total", loaded->size());
      if (!problems.empty()) {
        j.key("invalid").w().StartArray();
        for (const auto& p : problems) j.str(p);
        j.w().EndArray();
      }
      j.w().EndObject();
      respond_json(ex, j.take());
    });
  }

  // Loads the logical model named in the path; answers 404 / 503 itself.
  template <class Then>
  void with_logical_model(const ExchangePtr& ex, Then then) {
    const std::string& id = ex->param("id");
    w_.store->get(keys::logical_model(id), [ex, id, then = std::move(then)](Result<Store::Value> v) {
      if (!v) return store_unavailable(ex, v.error());
      if (!*v) return ex->respond_error(http::status::not_found, "logical model '" + id + "' not found");
      auto m = logical_model_from_json(**v);
      if (!m)
        return ex->respond_error(http::status::internal_server_error,
                                 "stored logical model '" + id + "' is invalid: " + m.error());
      then(m.value());
    });
  }

  void get_logical_model(const ExchangePtr& ex) {
    with_logical_model(ex, [ex](const LogicalModel& m) { respond_json(ex, to_json(m)); });
  }

  void logical_model_upstreams(const ExchangePtr& ex) {
    with_logical_model(ex, [ex](const LogicalModel& m) {
      JsonOut j;
      j.w().StartObject();
      j.field("logical_model", m.logical_id);
      j.key("upstreams").w().StartArray();
      for (const auto& u : m.upstreams) write_json(j.w(), u);
      j.w().EndArray();
      j.w().EndObject();
      respond_json(ex, j.take());
    });
  }

  // Checks a model sent to PUT; returns the problem, if any.
  std::optional<std::string> validate(LogicalModel& m, const std::string& path_id) {
    if (m.logical_id.empty()) m.logical_id = path_id;
    if (m.logical_id != path_id)
      return "logical_id '" + m.logical_id + "' does not match the path ('" + path_id + "')";
    auto g = s_.plugins.get();
    for (size_t i = 0; i < m.upstreams.size(); ++i) {
      const auto& u = m.upstreams[i];
      if (!g->providers.find(u.provider_id)) {
        std::string known;
        for (const auto& p : g->providers.usable) known += (known.empty() ? "" : ", ") + p.config.id;
        return "upstreams[" + std::to_string(i) + "].provider_id '" + u.provider_id +
               "' is not a configured provider (configured: " + (known.empty() ? "none" : known) + ")";
      }
    }
    return std::nullopt;
  }

  void put_logical_model(const ExchangePtr& ex) {
    const std::string id = ex->param("id");
    rapidjson::Document d;
    if (auto why = parse_json(d, ex->request().body()))
      return ex->respond_error(http::status::bad_request, "request body is not valid JSON: " + *why);
    if (d.IsObject() && !d.HasMember("logical_id")) d.AddMember("logical_id", rapidjson::Value(id.c_str(), d.GetAllocator()), d.GetAllocator());
    auto parsed = logical_model_from_json(d);
    if (!parsed) return ex->respond_error(http::status::bad_request, parsed.error());
    LogicalModel m = std::move(parsed.value());
    if (auto problem = validate(m, id)) return ex->respond_error(http::status::bad_request, *problem);
    m.updated_at = epoch_seconds();
    for (auto& u : m.upstreams)
      if (u.updated_at == 0) u.updated_at = m.updated_at;
    std::string json = to_json(m);
    w_.store->set(keys::logical_model(id), json, std::chrono::seconds(0),
                  [this, ex, m, json](Result<Unit> written) {
                    if (!written) return store_unavailable(ex, written.error());
                    s_.catalog.put(m);
                    respond_json(ex, json);
                  });
  }

  void delete_logical_model(const ExchangePtr& ex) {
    const std::string id = ex->param("id");
    w_.store->del(keys::logical_model(id), [this, ex, id](Result<bool> deleted) {
      if (!deleted) return store_unavailable(ex, deleted.error());
      if (!*deleted) return ex->respond_error(http::status::not_found, "logical model '" + id + "' not found");
      s_.catalog.erase(id);
      JsonOut j;
      j.w().StartObject();
      j.field("deleted", true).field("logical_id", id);
      j.w().EndObject();
      respond_json(ex, j.take());
    });
  }

  void list_plugins(const ExchangePtr& ex) {
    auto g = s_.plugins.get();
    JsonOut j;
    j.w().StartObject();
    j.field("plugin_dir", g->plugins->dir());
    j.field("generation", g->number);
    j.key("plugins").w().StartArray();
    for (const auto& p : g->plugins->plugins()) {
      j.w().StartObject();
      j.field("name", p.name).field("kind", p.kind).field("version", p.version);
      j.field("description", p.description).field("file", p.file);
      j.field("abi", std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor));
      j.w().EndObject();
    }
    j.w().EndArray();
    j.key("rejected").w().StartArray();
    for (const auto& r : g->plugins->rejected()) {
      j.w().StartObject();
      j.field("file", r.file).field("reason", r.reason);
      j.w().EndObject();
    }
    j.w().EndArray();
    j.w().EndObject();
    respond_json(ex, j.take());
  }

 private:
  Worker& w_;
  GatewayState& s_;
};

}  // namespace

void add_control_plane_routes(Worker& worker) {
  auto cp = std::make_shared<ControlPlane>(worker);
  worker.keep_alive.push_back(cp);
  ControlPlane* c = cp.get();
  HttpRouter& r = worker.router;
  const Authenticator& auth = worker.state.auth;
  enum class Needs { Nothing, Client, Admin };
  auto route = [&](verb method, std::string_view pattern, void (ControlPlane::*fn)(const ExchangePtr&),
                   Needs needs = Needs::Client) {
    Handler h = [c, fn](const ExchangePtr& ex) { (c->*fn)(ex); };
    if (needs == Needs::Client) h = authenticated(auth, std::move(h));
    if (needs == Needs::Admin) h = admin_only(auth, std::move(h));
    r.add(method, pattern, std::move(h));
  };
  route(verb::get, "/health", &ControlPlane::health, Needs::Nothing);
  route(verb::get, "/health/live", &ControlPlane::health, Needs::Nothing);
  route(verb::get, "/health/ready", &ControlPlane::ready, Needs::Nothing);
  route(verb::post, "/plugins/reload", &ControlPlane::reload, Needs::Admin);
  route(verb::get, "/providers", &ControlPlane::list_providers);
  route(verb::get, "/providers/{id}", &ControlPlane::get_provider);
  route(verb::get, "/providers/{id}/models", &ControlPlane::provider_models);
  route(verb::get, "/providers/{id}/health", &ControlPlane::provider_health);
  route(verb::get, "/providers/{id}/metrics", &ControlPlane::provider_metrics);
  route(verb::get, "/logical-models", &ControlPlane::list_logical_models);
  route(verb::get, "/logical-models/{id}", &ControlPlane::get_logical_model);
  route(verb::put, "/logical-models/{id}", &ControlPlane::put_logical_model, Needs::Admin);
  route(verb::delete_, "/logical-models/{id}", &ControlPlane::delete_logical_model, Needs::Admin);
  route(verb::get, "/logical-models/{id}/upstreams", &ControlPlane::logical_model_upstreams);
  route(verb::get, "/plugins", &ControlPlane::list_plugins);
}

}  // namespace apiproxy
