#include "core/discovery/model_discovery.hpp"

#include <spdlog/spdlog.h>

#include "core/model/json_codec.hpp"
#include "core/store/keys.hpp"
#include "core/upstream/fetch.hpp"

namespace apiproxy {

void LastGoodModels::remember(const std::string& provider_id, std::vector<Model> models) {
  std::lock_guard lock(mutex_);
  lists_[provider_id] = std::move(models);
}

std::optional<std::vector<Model>> LastGoodModels::get(const std::string& provider_id) const {
  std::lock_guard lock(mutex_);
  auto it = lists_.find(provider_id);
  if (it == lists_.end()) return std::nullopt;
  return it->second;
}

bool LastGoodModels::lists(const std::string& provider_id, const std::string& model_id) const {
  std::lock_guard lock(mutex_);
  auto it = lists_.find(provider_id);
  if (it == lists_.end()) return false;
  for (const auto& m : it->second)
    if (m.model_id == model_id) return true;
  return false;
}

namespace {

// Turns an upstream answer into models, or says why it cannot.
Result<std::vector<Model>> read_models(const ProviderRuntime& provider,
                                       Result<UpstreamResponse>& response) {
  if (!response) return Error{response.error()};
  if (response->status < 200 || response->status > 299)
    return Error{"model list request answered HTTP " + std::to_string(response->status)};
  return provider.adapter->parse_models(response->body);
}

}  // namespace

void discover_models(const ProviderRuntime& provider, ConnectionPool& pool, Store& store,
                     LastGoodModels& last_good, DiscoveryOptions options,
                     std::function<void(Result<std::vector<Model>>)> done) {
  const ProviderConfig& cfg = provider.config;
  const bool has_static = !cfg.static_models_source.empty();
  const std::string id = cfg.id;
  auto on_models = [&store, &last_good, id, options, done = std::move(done),
                    fallback = has_static ? &cfg.static_models : nullptr](Result<std::vector<Model>> models) mutable {
    if (!models && fallback && !last_good.get(id)) {
      spdlog::warn("model discovery for provider '{}' failed: {} (using its {} static models)", id, models.error(),
                   fallback->size());
      models = *fallback;
    }
    if (!models) {
      auto previous = last_good.get(id);
      spdlog::warn("model discovery for provider '{}' failed: {}{}", id, models.error(),
                   previous ? " (keeping the last good list)" : "");
      if (!previous) return done(std::move(models));
      store.set(keys::vendor_models(id), to_json(*previous), options.cache_ttl,
                [done = std::move(done), err = models.error()](Result<Unit>) { done(Error{err}); });
      return;
    }
    last_good.remember(id, models.value());
    spdlog::info("provider '{}': {} models discovered", id, models->size());
    std::string json = to_json(models.value());
    store.set(keys::vendor_models(id), std::move(json), options.cache_ttl,
              [done = std::move(done), models = std::move(models)](Result<Unit> written) mutable {
                if (!written) return done(Error{"models fetched but not cached: " + written.error()});
                done(std::move(models));
              });
  };
  // A static list without MODELS_PATH is the list: nothing to ask.
  if (has_static && cfg.models_path.empty()) return on_models(cfg.static_models);
  auto request = provider.adapter->build_request(UpstreamCall{APX_OP_LIST_MODELS, {}, {}, false});
  if (!request) return on_models(Error{request.error()});
  const ProviderRuntime* p = &provider;
  fetch(pool, std::move(request.value()), options.timeout,
        [p, on_models = std::move(on_models)](Result<UpstreamResponse> response) mutable {
          on_models(read_models(*p, response));
        });
}

}  // namespace apiproxy
