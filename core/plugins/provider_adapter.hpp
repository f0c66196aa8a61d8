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

class ProviderAdapter;

// ABI 1.3: one stream's transform by the adapter's plugin (its per-call state). Made by
// ProviderAdapter::open_stream; used by one thread at a time; closes the state when dropped.
class AdapterStream {
 public:
  AdapterStream(const ProviderAdapter& adapter, void* object, void* state) : adapter_(adapter), object_(object), state_(state) {}
  ~AdapterStream();
  AdapterStream(const AdapterStream&) = delete;
  AdapterStream& operator=(const AdapterStream&) = delete;
  // Appends the transformed bytes to `out`; an error says why the plugin failed.
  Status feed(std::string_view bytes, std::string& out);
  Status finish(std::string& out);

 private:
  const ProviderAdapter& adapter_;
  void* object_;
  void* state_;
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
  // `unsupported` (optional) is set when the plugin answered that it has no such operation.
  Result<UpstreamRequest> build_request(const UpstreamCall& call, std::string body, bool* unsupported = nullptr) const;
  // Whether the plugin may be asked for `op`: operations added in ABI 1.3 (Messages,
  // Responses) only go to plugins built against 1.3 or later.
  bool knows_operation(apx_operation op) const;
  // ABI 1.3: whether the plugin turns its upstream's answers into its callers' format.
  bool transforms_answers() const { return transform_answer_ != nullptr; }
  // The caller's form of a whole answer to `call` (the call as built, body included), or
  // nullopt to relay it as it came; an error when the plugin failed to transform it.
  Result<std::optional<std::string>> transform_answer(const UpstreamCall& call, int status,
                                                      std::string_view body) const;
  // A transform for the stream answering `call`, or nullptr to relay it as it comes.
  std::unique_ptr<AdapterStream> open_stream(const UpstreamCall& call) const;
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
  // The ABI 1.3 hooks the plugin's vtable holds (an older vtable is shorter), or null.
  void read_transform_hooks();
  apx_upstream_call to_apx_call(const UpstreamCall& call, std::string_view body) const;
  Error unsupported_error(bool* unsupported) const;
  friend class AdapterStream;

  std::shared_ptr<const PluginLibrary> lib_;  // declared first: released last
  const apx_provider_vtable* vt_;
  std::vector<void*> objects_;
  std::vector<std::string> keys_;  // secrets: handed to the plugin per call, never logged
  std::string provider_id_;
  StatusCodeSet retryable_;
  PluginLogContext log_context_;  // scrubs this provider's API key from plugin logs
  apx_host host_;
  decltype(apx_provider_vtable::transform_answer) transform_answer_ = nullptr;
  bool streams_ = false;  // stream_open, stream_feed, stream_finish and stream_close all set
};

}  // namespace apiproxy
