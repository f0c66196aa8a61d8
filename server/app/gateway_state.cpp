#include "server/app/gateway_state.hpp"

#include <unistd.h>

#include <cstdio>

#include <spdlog/spdlog.h>

#include "core/upstream/tls_context.hpp"

namespace apiproxy {

void log_configuration_report(const Environment& env, const ProviderSet& set) {
  for (const auto& p : env.problems())
    spdlog::warn("{}{}: {}", env.source().empty() ? "env file" : env.source(),
                 p.line ? ":" + std::to_string(p.line) : "", p.message);
  for (const auto& note : set.notes) spdlog::warn("{}", note);
}

namespace {

std::string default_instance_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "host");
  return std::string(host) + ":" + std::to_string(getpid());
}

// Key preferences are shared under HMACs of the keys: with the well-known default secret,
// anyone who can read Redis can test a guessed key against them.
void warn_about_default_secret(const GatewayState& state) {
  if (state.settings.secret_key != Settings::kDefaultSecretKey || !state.settings.uses_redis()) return;
  for (const auto& p : state.provider_config.providers)
    if (p.keys.size() > 1)
      return spdlog::warn("SECRET_KEY is not set: API keys are named in Redis (provider:{{id}}:key_scores) by an "
                          "HMAC under the default secret; set SECRET_KEY, the same on every instance");
}

}  // namespace

void log_providers(const PluginGeneration& g) {
  for (const auto& s : g.providers.skipped) spdlog::warn("provider '{}' skipped: {}", s.id, s.reason);
  if (g.providers.usable.empty())
    spdlog::warn("NO USABLE PROVIDERS: the gateway starts, but cannot route any request. "
                 "Set LLM_PROVIDERS and LLM_PROVIDER_{id}_NAME/_BASE_URL/_API_KEY (see .env.example)");
  for (const auto& p : g.providers.usable)
    spdlog::info("provider '{}' ({}) via adapter '{}' at {}", p.config.id, p.config.name,
                 p.config.adapter, p.config.display_base_url());
}

Result<std::unique_ptr<GatewayState>> build_gateway_state(Environment env) {
  auto settings = load_settings(env);
  if (!settings) return Error{settings.error()};
  auto state = std::make_unique<GatewayState>();
  state->settings = settings.value();
  state->env = std::move(env);

  state->provider_config = load_providers(state->env);
  log_configuration_report(state->env, state->provider_config);

  state->plugins.set(build_plugin_generation(PluginRegistry::resolve_dir(state->settings.plugin_dir),
                                             state->env, state->provider_config, state->plugin_policy()));
  log_providers(*state->plugins.get());

  Cooldowns* cooldowns = &state->cooldowns;
  state->router = std::make_unique<Router>(
      state->metrics, state->weights,
      state->settings.default_strategy, [cooldowns](const Candidate& c, const RouteRequest& r) {
        if (cooldowns->cooling(c.upstream->provider_id, c.upstream->model_id))
          return std::string("cooling down after it asked to retry later (Retry-After)");
        return Router::qps_estimate_exceeded(c, r) ? Router::at_qps_limit(c) : std::string();
      });
  if (!state->plugins.get()->plugins->strategy(state->settings.default_strategy))
    spdlog::warn("the default strategy '{}' (APIPROXY_DEFAULT_STRATEGY) is not loaded: requests must "
                 "name a strategy", state->settings.default_strategy);
  DataPlaneLimits limits;
  limits.max_attempts = state->settings.max_attempts;
  limits.timeouts = {std::chrono::milliseconds(0), state->settings.upstream_first_byte_timeout,
                     state->settings.upstream_idle_timeout, state->settings.upstream_total_timeout};
  limits.first_byte_set = state->settings.upstream_first_byte_timeout_set;
  limits.stickiness_ttl = state->settings.stickiness_ttl;
  state->key_pools = std::make_unique<KeyPools>(state->provider_config, state->settings.secret_key);
  warn_about_default_secret(*state);
  state->data_plane_shared = std::make_unique<DataPlaneShared>(DataPlaneShared{
      limits, state->catalog, state->plugins, state->last_good_models, *state->router, state->limiter,
      state->metrics, state->weights, state->cooldowns, *state->key_pools, state->telemetry});
  state->instance_id = !state->settings.instance_id.empty() ? state->settings.instance_id : default_instance_id();

  state->auth = Authenticator(state->settings.auth_token, state->settings.admin_token);
  if (!state->auth.enabled())
    spdlog::warn("APIPROXY_AUTH_TOKEN is not set: every endpoint is open to anyone who can reach it{}",
                 state->env.get("APIPROXY_HOST") ? "" : " (listening on 127.0.0.1 only unless APIPROXY_HOST is set)");

  auto factory = make_store_factory(state->settings);
  if (!factory) return Error{factory.error()};
  state->store_factory = std::move(factory.value());
  if (!state->settings.uses_redis())
    spdlog::warn("REDIS_URL is not set: using the in-process store; nothing is shared with other "
                 "instances or kept across restarts");

  if (!state->settings.tls_verify)
    spdlog::warn("APIPROXY_TLS_VERIFY=false: upstream TLS certificates are NOT verified (testing only)");
  state->tls = make_tls_context(state->settings.tls_verify);
  return state;
}

}  // namespace apiproxy
