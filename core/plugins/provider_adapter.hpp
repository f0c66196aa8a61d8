// A provider-adapter object: one per configured provider, made by a provider plugin.
// It shapes upstream requests and reads model lists; the core does the I/O.
#pragma once

#include <memory>
#include <vector>

#include "core/common/result.hpp"
#include "core/config/providers.hpp"
#include "core/model/types.hpp"
#include "core/plugins/plugin_library.hpp"
#include "core/upstream/http_types.hpp"

namespace apiproxy {

enum class Outcome { Success, Retryable, Fatal };

struct UpstreamCall {
  apx_operation operation = APX_OP_LIST_MODELS;
  std::string_view model_id;
  std::string_view body;
  bool stream = false;
  size_t key = 0;  // which key of the provider's pool (ProviderConfig::keys) the call uses
};

class ProviderAdapter {
 public:
  static Result<std::shared_ptr<const ProviderAdapter>> create(
      std::shared_ptr<const PluginLibrary> lib, const ProviderConfig& provider);
  ~ProviderAdapter();
  ProviderAdapter(const ProviderAdapter&) = delete;
  ProviderAdapter& operator=(const ProviderAdapter&) = delete;

  const std::string& plugin_name() const { return lib_->info().name; }
  const std::string& provider_id() const { return provider_id_; }

  Result<UpstreamRequest> build_request(const UpstreamCall& call) const;
  // The same for a call with a body: the plugin sees `body`, which becomes the request's
  // body unless the plugin sets another (moved, not copied). `call.body` is ignored.
  Result<UpstreamRequest> build_request(const UpstreamCall& call, std::string body) const;
  // Normalised models; fields the plugin leaves empty are filled in by the host.
  Result<std::vector<Model>> parse_models(std::string_view body) const;
  // The plugin's verdict, or the provider's RETRYABLE_STATUS_CODES rule.
  Outcome classify(int status, std::string_view body) const;

 private:
  ProviderAdapter(std::shared_ptr<const PluginLibrary> lib, const ProviderConfig& provider);
  Result<Unit> create_object(const ProviderConfig& provider, size_t key);

  // The plugin object that makes a call with key `key`: the one object, or — for a plugin
  // older than ABI 1.2, which cannot take a key per call — the one created with that key.
  void* object_for(size_t key) const { return objects_.size() == 1 ? objects_[0] : objects_[key]; }
  bool takes_key_per_call() const;

  std::shared_ptr<const PluginLibrary> lib_;  // declared first: released last
  const apx_provider_vtable* vt_;
  std::vector<void*> objects_;
  std::vector<std::string> keys_;  // secrets: handed to the plugin per call, never logged
  std::string provider_id_;
  StatusCodeSet retryable_;
  PluginLogContext log_context_;  // scrubs this provider's API key from plugin logs
  apx_host host_;
};

}  // namespace apiproxy
