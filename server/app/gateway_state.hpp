// Everything the gateway knows that is shared by all its threads, built once at start-up
// from the configuration.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "core/auth/auth.hpp"
#include "core/catalog/logical_model_catalog.hpp"
#include "core/config/environment.hpp"
#include "core/config/providers.hpp"
#include "core/config/settings.hpp"
#include "core/dataplane/data_plane.hpp"
#include "core/discovery/health_probe.hpp"
#include "core/discovery/model_discovery.hpp"
#include "core/plugins/plugin_faults.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/providers/key_pool.hpp"
#include "core/providers/plugin_generation.hpp"
#include "core/ratelimit/rate_limiter.hpp"
#include "core/routing/cooldowns.hpp"
#include "core/routing/dynamic_weights.hpp"
#include "core/routing/router.hpp"
#include "core/routing/runtime_metrics.hpp"
#include "core/store/store.hpp"
#include "core/telemetry/telemetry.hpp"

namespace apiproxy {

struct GatewayState {
  Settings settings;
  Environment env;
  ProviderSet provider_config;
  std::shared_ptr<PluginFaults> plugin_faults = std::make_shared<PluginFaults>();
  ActivePlugins plugins;  // swapped by a reload; a request keeps the one it started with
  Authenticator auth{""};
  StoreFactory store_factory;
  std::shared_ptr<boost::asio::ssl::context> tls;

  LogicalModelCatalog catalog;
  HealthBook health;
  LastGoodModels last_good_models;
  RuntimeMetrics metrics;
  DynamicWeights weights;
  Cooldowns cooldowns;
  std::unique_ptr<KeyPools> key_pools;
  RateLimiter limiter;
  std::unique_ptr<Router> router;
  std::unique_ptr<DataPlaneShared> data_plane_shared;  // what every worker's data plane uses
  std::string instance_id;  // this process's name in shared metrics

  // Runs `job` off the request threads (on the background thread when the gateway runs;
  // inline when nothing set it, as in the CLI).
  std::function<void(std::function<void()>)> run_in_background = [](std::function<void()> job) { job(); };
  std::atomic<bool> draining{false};  // a graceful shutdown has begun
  telemetry::Telemetry telemetry;  // request metrics for GET /metrics

  const DataPlaneShared& data_plane() const { return *data_plane_shared; }
  PoolOptions upstream_pool_options() const {
    PoolOptions o;
    o.connect_timeout = settings.upstream_connect_timeout;
    o.max_per_origin = settings.upstream_max_connections;
    return o;
  }
  PluginCallPolicy plugin_policy() const { return {plugin_faults, settings.plugin_slow_call}; }
  DiscoveryOptions discovery_options() const {
    return {settings.upstream_request_timeout, settings.models_cache_ttl};
  }
};

// Reads configuration, loads plugins, prepares providers, logging every problem.
// Errors only for settings the gateway cannot start with.
Result<std::unique_ptr<GatewayState>> build_gateway_state(Environment env);

// Logs each provider: usable (with its adapter) or skipped (with the reason).
void log_providers(const PluginGeneration& g);

// Logs .env problems, skipped providers and other configuration notes as warnings.
void log_configuration_report(const Environment& env, const ProviderSet& set);

}  // namespace apiproxy
