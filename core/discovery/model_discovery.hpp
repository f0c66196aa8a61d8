// Fetching a provider's model list (BASE_URL + MODELS_PATH, shaped by its adapter),
// normalising it and caching it in the store under llm:vendor:{id}:models.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "core/model/types.hpp"
#include "core/providers/provider_runtime.hpp"
#include "core/store/store.hpp"
#include "core/upstream/connection_pool.hpp"

namespace apiproxy {

// The last list each provider answered with, so that a failed refresh keeps serving it.
class LastGoodModels {
 public:
  void remember(const std::string& provider_id, std::vector<Model> models);
  std::optional<std::vector<Model>> get(const std::string& provider_id) const;
  bool lists(const std::string& provider_id, const std::string& model_id) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<Model>> lists_;
};

struct DiscoveryOptions {
  std::chrono::milliseconds timeout{10000};
  std::chrono::seconds cache_ttl{300};
};

// Fetches the list from the provider now and writes it to the store. On failure the
// last good list (if any) is written back with a fresh TTL and the error is returned.
void discover_models(const ProviderRuntime& provider, ConnectionPool& pool, Store& store,
                     LastGoodModels& last_good, DiscoveryOptions options,
                     std::function<void(Result<std::vector<Model>>)> done);

}  // namespace apiproxy
