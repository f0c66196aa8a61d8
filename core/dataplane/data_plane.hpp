// The data plane: one proxied request from the name the client asked for to its final
// outcome — model resolution, routing, admission under MAX_QPS, attempts and failover,
// classifying each answer into cooldowns and weight nudges, runtime metrics and telemetry —
// reported to the client through a ClientChannel in domain terms (results.hpp), never HTTP.
#pragma once

#include <chrono>
#include <memory>

#include "core/catalog/logical_model_catalog.hpp"
#include "core/dataplane/client_channel.hpp"
#include "core/dataplane/proxy_request.hpp"
#include "core/discovery/model_discovery.hpp"
#include "core/providers/key_pool.hpp"
#include "core/providers/plugin_generation.hpp"
#include "core/ratelimit/rate_limiter.hpp"
#include "core/routing/cooldowns.hpp"
#include "core/routing/dynamic_weights.hpp"
#include "core/routing/router.hpp"
#include "core/routing/runtime_metrics.hpp"
#include "core/store/store.hpp"
#include "core/telemetry/telemetry.hpp"
#include "core/upstream/connection_pool.hpp"
#include "core/upstream/upstream_exchange.hpp"

namespace apiproxy {

struct DataPlaneLimits {
  size_t max_attempts = 3;
  ExchangeTimeouts timeouts;
  bool first_byte_set = false;  // the operator set it: it holds for non-streamed calls too
  std::chrono::seconds stickiness_ttl{3600};
};

// What every worker's data plane shares: the process-wide state it reads and updates.
struct DataPlaneShared {
  DataPlaneLimits limits;
  const LogicalModelCatalog& catalog;
  const ActivePlugins& plugins;
  const LastGoodModels& discovered;
  const Router& router;
  RateLimiter& limiter;
  RuntimeMetrics& metrics;
  DynamicWeights& weights;
  Cooldowns& cooldowns;
  KeyPools& keys;
  telemetry::Telemetry& telemetry;
};

// The timeouts of one attempt on `provider`: its own where it sets them, else the global
// ones. A non-streamed answer's head comes only when the whole answer is ready, so unless a
// first-byte timeout was set explicitly, such a call waits for it up to the total timeout
// (a long reasoning call is not cut and retried elsewhere, which would bill it twice).
ExchangeTimeouts attempt_timeouts(const DataPlaneLimits& limits, const ProviderConfig& provider, bool stream);

// One per worker thread, with that thread's store connection and upstream pool.
class DataPlane {
 public:
  // Shares the store (it lives as long as this data plane does); the pool belongs to the
  // worker, which outlives its data plane.
  DataPlane(const DataPlaneShared& shared, std::shared_ptr<Store> store, ConnectionPool& pool)
      : shared_(shared), store_(std::move(store)), pool_(pool) {}

  // Serves `request`, reporting to `client` until it is answered. Runs on this worker's
  // thread; returns at once.
  void serve(ProxyRequest request, std::shared_ptr<ClientChannel> client);

  const DataPlaneShared& shared() const { return shared_; }
  const std::shared_ptr<Store>& store() const { return store_; }
  ConnectionPool& pool() const { return pool_; }

 private:
  const DataPlaneShared& shared_;
  std::shared_ptr<Store> store_;
  ConnectionPool& pool_;
};

}  // namespace apiproxy
