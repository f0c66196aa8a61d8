#include "core/plugins/provider_adapter.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>

#include <spdlog/spdlog.h>

#include "core/common/identifiers.hpp"
#include "core/common/utf8.hpp"
#include "core/model/json_codec.hpp"
#include "core/model/static_models.hpp"
#include "core/plugins/strategy_plugin.hpp"

namespace apiproxy {

namespace {

struct RequestSink {
  UpstreamRequest request;
  bool method_set = false;
  bool body_set = false;

  static RequestSink& of(void* ctx) { return *static_cast<RequestSink*>(ctx); }
  static void set_method(void* ctx, apx_str m) {
    of(ctx).request.method = std::string(to_view(m));
    of(ctx).method_set = true;
  }
  static void set_url(void* ctx, apx_str u) { of(ctx).request.url = std::string(to_view(u)); }
  static void add_header(void* ctx, apx_str n, apx_str v) {
    of(ctx).request.headers.emplace_back(std::string(to_view(n)), std::string(to_view(v)));
  }
  static void set_body(void* ctx, apx_str b) {
    of(ctx).request.body = std::string(to_view(b));
    of(ctx).body_set = true;
  }
};

// A model list comes from an upstream: its ids reach headers, logs, metric labels and store
// keys, and each one costs state. Ids that are not valid model names are dropped, and the
// list is cut at a bound.
constexpr size_t kMaxModelsPerProvider = 10000;

struct ModelSink {
  std::vector<Model> models;
  std::string provider_id;
  size_t dropped = 0;

  static void add(void* ctx, const apx_model* m) {
    auto& self = *static_cast<ModelSink*>(ctx);
    if (!m || m->struct_size < sizeof(uint32_t)) return;
    // Read only the fields the plugin's apx_model has (it may be older than ours).
    apx_model in{};
    std::memcpy(&in, m, std::min<size_t>(m->struct_size, sizeof(apx_model)));
    Model out;
    out.model_id = std::string(to_view(in.model_id));
    if (out.model_id.empty()) return;
    if (!is_valid_model_name(out.model_id) || self.models.size() >= kMaxModelsPerProvider) {
      ++self.dropped;
      return;
    }
    out.provider_id = self.provider_id;
    out.family = std::string(to_view(in.family));
    out.display_name = std::string(to_view(in.display_name));
    out.context_length = in.context_length;
    out.pricing_json = std::string(to_view(in.pricing_json));
    out.metadata_json = std::string(to_view(in.metadata_json));
    std::string_view caps = to_view(in.capabilities);
    while (!caps.empty()) {
      auto comma = caps.find(',');
      std::string_view c = caps.substr(0, comma);
      while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
      while (!c.empty() && c.back() == ' ') c.remove_suffix(1);
      if (!c.empty()) out.capabilities.emplace_back(c);
      caps = comma == std::string_view::npos ? std::string_view() : caps.substr(comma + 1);
    }
    self.models.push_back(std::move(out));
  }
};

// Collects what a transform hook writes, and why it failed.
struct TransformSink {
  std::string* out;
  std::string failure;

  static void write(void* ctx, apx_str bytes) { static_cast<TransformSink*>(ctx)->out->append(to_view(bytes)); }
  static void fail(void* ctx, apx_str message) {
    // Bounded: the message reaches a client's error and the log.
    static_cast<TransformSink*>(ctx)->failure = std::string(to_view(message).substr(0, 512));
  }
  apx_transform_writer writer() { return {sizeof(apx_transform_writer), this, &write, &fail}; }
};

// A hook's failure as the host reports it.
Error transform_error(const std::string& plugin, std::string_view hook, bool threw, apx_status st,
                      const std::string& why) {
  std::string text = "adapter " + plugin + " could not transform the upstream's answer";
  if (threw) return Error{text + " (" + std::string(hook) + " threw)"};
  text += " (" + std::string(status_name(st)) + ")";
  if (!why.empty()) text += ": " + to_valid_utf8(why);
  return Error{std::move(text)};
}

}  // namespace

ProviderAdapter::ProviderAdapter(std::shared_ptr<const PluginLibrary> lib,
                                 const ProviderConfig& provider)
    : lib_(std::move(lib)),
      vt_(static_cast<const apx_provider_vtable*>(lib_->descriptor().vtable)),
      provider_id_(provider.id),
      retryable_(provider.retryable) {
  log_context_.plugin_name = lib_->info().name + "[" + provider.id + "]";
  for (const auto& k : provider.keys) keys_.push_back(k.key);
  if (keys_.empty()) keys_.push_back(provider.api_key);
  log_context_.secrets = keys_;
  host_.struct_size = sizeof(apx_host);
  host_.ctx = &log_context_;
  host_.log = &plugin_log;
  read_transform_hooks();
}

void ProviderAdapter::read_transform_hooks() {
  auto holds = [&](size_t offset, size_t size) { return vt_->struct_size >= offset + size; };
  if (holds(offsetof(apx_provider_vtable, transform_answer), sizeof(vt_->transform_answer)))
    transform_answer_ = vt_->transform_answer;
  streams_ = holds(offsetof(apx_provider_vtable, stream_close), sizeof(vt_->stream_close)) && vt_->stream_open &&
             vt_->stream_feed && vt_->stream_finish && vt_->stream_close;
}

bool ProviderAdapter::knows_operation(apx_operation op) const {
  return op <= APX_OP_HEALTH || lib_->descriptor().abi_minor >= 3;
}

bool ProviderAdapter::takes_key_per_call() const {
  return lib_->descriptor().abi_minor >= 2;
}

Result<std::shared_ptr<const ProviderAdapter>> ProviderAdapter::create(
    std::shared_ptr<const PluginLibrary> lib, const ProviderConfig& provider) {
  std::shared_ptr<ProviderAdapter> adapter(new ProviderAdapter(std::move(lib), provider));
  size_t objects = adapter->takes_key_per_call() ? 1 : adapter->keys_.size();
  for (size_t key = 0; key < objects; ++key)
    if (auto made = adapter->create_object(provider, key); !made) return Error{made.error()};
  return std::shared_ptr<const ProviderAdapter>(std::move(adapter));
}

Result<Unit> ProviderAdapter::create_object(const ProviderConfig& provider, size_t key) {
  std::vector<apx_kv> settings;
  for (const auto& [k, v] : provider.settings) settings.push_back({to_apx(k), to_apx(v)});
  apx_provider_config cfg{};
  cfg.struct_size = sizeof(cfg);
  cfg.id = to_apx(provider.id);
  cfg.name = to_apx(provider.name);
  cfg.base_url = to_apx(provider.base_url);
  cfg.api_key = to_apx(keys_[key]);
  cfg.models_path = to_apx(provider.models_path);
  cfg.region = to_apx(provider.region);
  cfg.settings = settings.data();
  cfg.settings_len = settings.size();
  void* object = nullptr;
  auto st = lib_->call<apx_status>("create", [&] { return vt_->create(&host_, &cfg, &object); },
                                   PluginLibrary::Timing::Lifecycle);
  if (st.threw) return Error{"adapter " + plugin_name() + " threw in create"};
  if (st.value != APX_OK || !object)
    return Error{"adapter " + plugin_name() + " refused the configuration (" + status_name(st.value) + ")"};
  objects_.push_back(object);
  return Unit{};
}

ProviderAdapter::~ProviderAdapter() {
  for (void* object : objects_) lib_->destroy(vt_->destroy, object);
}

Result<UpstreamRequest> ProviderAdapter::build_request(const UpstreamCall& call) const {
  return build_request(call, std::string(call.body));
}

Error ProviderAdapter::unsupported_error(bool* unsupported) const {
  if (unsupported) *unsupported = true;
  return Error{"adapter " + plugin_name() + " cannot build this request (" + status_name(APX_ERR_UNSUPPORTED) + ")"};
}

apx_upstream_call ProviderAdapter::to_apx_call(const UpstreamCall& call, std::string_view body) const {
  apx_upstream_call c{};
  c.struct_size = sizeof(c);
  c.operation = call.operation;
  c.model_id = to_apx(call.model_id);
  c.body = to_apx(body);
  c.stream = call.stream ? 1 : 0;
  c.api_key = to_apx(keys_[call.key < keys_.size() ? call.key : 0]);
  return c;
}

Result<UpstreamRequest> ProviderAdapter::build_request(const UpstreamCall& call, std::string body,
                                                       bool* unsupported) const {
  if (unsupported) *unsupported = false;
  if (!knows_operation(call.operation))
    return unsupported_error(unsupported);
  RequestSink sink;
  apx_request_writer writer{sizeof(apx_request_writer), &sink, &RequestSink::set_method,
                            &RequestSink::set_url, &RequestSink::add_header,
                            &RequestSink::set_body};
  apx_upstream_call c = to_apx_call(call, body);
  void* object = object_for(call.key < keys_.size() ? call.key : 0);
  auto st = lib_->call<apx_status>("build_request", [&] { return vt_->build_request(object, &c, &writer); });
  if (!sink.body_set) sink.request.body = std::move(body);
  if (st.threw) return Error{"adapter " + plugin_name() + " threw while building a request"};
  if (st.value == APX_ERR_UNSUPPORTED) return unsupported_error(unsupported);
  if (st.value != APX_OK) {
    // INVALID is an answer about the request; INTERNAL is the plugin failing.
    if (st.value != APX_ERR_INVALID)
      lib_->fault(plugin_fault::kError, std::string("build_request returned ") + status_name(st.value));
    return Error{"adapter " + plugin_name() + " cannot build this request (" + status_name(st.value) + ")"};
  }
  if (!sink.method_set) sink.request.method = sink.request.body.empty() ? "GET" : "POST";
  if (sink.request.url.empty()) {
    lib_->fault(plugin_fault::kError, "build_request returned APX_OK but set no URL");
    return Error{"adapter " + plugin_name() + " set no URL"};
  }
  return std::move(sink.request);
}

Result<std::vector<Model>> ProviderAdapter::parse_models(std::string_view body) const {
  ModelSink sink;
  sink.provider_id = provider_id_;
  apx_model_writer writer{sizeof(apx_model_writer), &sink, &ModelSink::add};
  auto st = lib_->call<apx_status>("parse_models", [&] { return vt_->parse_models(objects_[0], to_apx(body), &writer); });
  if (st.threw) return Error{"adapter " + plugin_name() + " threw while reading the model list"};
  if (st.value != APX_OK)
    return Error{"adapter " + plugin_name() + " could not read the model list (" +
                 status_name(st.value) + ")"};
  for (auto& m : sink.models) fill_model_defaults(m);
  if (sink.dropped)
    spdlog::warn("provider '{}': {} model(s) dropped from the list (ids must be 1 to {} printable ASCII "
                 "characters; at most {} models are kept)",
                 provider_id_, sink.dropped, kMaxModelNameBytes, kMaxModelsPerProvider);
  return std::move(sink.models);
}

Result<std::optional<std::string>> ProviderAdapter::transform_answer(const UpstreamCall& call, int status,
                                                                     std::string_view body) const {
  if (!transform_answer_) return std::optional<std::string>();
  std::string out;
  TransformSink sink{&out, {}};
  apx_transform_writer writer = sink.writer();
  apx_upstream_call c = to_apx_call(call, call.body);
  void* object = object_for(call.key < keys_.size() ? call.key : 0);
  auto st = lib_->call<apx_status>("transform_answer",
                                   [&] { return transform_answer_(object, &c, status, to_apx(body), &writer); });
  if (!st.threw && st.value == APX_ERR_UNSUPPORTED) return std::optional<std::string>();
  if (!st.threw && st.value == APX_OK) return std::optional<std::string>(std::move(out));
  if (!st.threw && st.value != APX_ERR_INVALID) lib_->fault(plugin_fault::kError, "transform_answer failed");
  return transform_error(plugin_name(), "transform_answer", st.threw, st.value, sink.failure);
}

std::unique_ptr<AdapterStream> ProviderAdapter::open_stream(const UpstreamCall& call) const {
  if (!streams_) return nullptr;
  apx_upstream_call c = to_apx_call(call, call.body);
  void* object = object_for(call.key < keys_.size() ? call.key : 0);
  void* state = nullptr;
  auto st = lib_->call<apx_status>("stream_open", [&] { return vt_->stream_open(object, &c, &state); });
  if (st.threw || st.value != APX_OK || !state) {
    if (!st.threw && st.value != APX_OK && st.value != APX_ERR_UNSUPPORTED)
      lib_->fault(plugin_fault::kError, "stream_open failed");
    return nullptr;
  }
  return std::make_unique<AdapterStream>(*this, object, state);
}

AdapterStream::~AdapterStream() {
  const auto* vt = adapter_.vt_;
  adapter_.lib_->call<int>("stream_close", [&] {
    vt->stream_close(object_, state_);
    return 0;
  });
}

Status AdapterStream::feed(std::string_view bytes, std::string& out) {
  TransformSink sink{&out, {}};
  apx_transform_writer writer = sink.writer();
  const auto* vt = adapter_.vt_;
  auto st = adapter_.lib_->call<apx_status>(
      "stream_feed", [&] { return vt->stream_feed(object_, state_, to_apx(bytes), &writer); });
  if (!st.threw && st.value == APX_OK) return ok_status();
  return transform_error(adapter_.plugin_name(), "stream_feed", st.threw, st.value, sink.failure);
}

Status AdapterStream::finish(std::string& out) {
  TransformSink sink{&out, {}};
  apx_transform_writer writer = sink.writer();
  const auto* vt = adapter_.vt_;
  auto st = adapter_.lib_->call<apx_status>("stream_finish",
                                            [&] { return vt->stream_finish(object_, state_, &writer); });
  if (!st.threw && st.value == APX_OK) return ok_status();
  return transform_error(adapter_.plugin_name(), "stream_finish", st.threw, st.value, sink.failure);
}

Outcome ProviderAdapter::classify(int status, std::string_view body) const {
  if (vt_->classify_status) {
    auto verdict = lib_->call<apx_outcome>("classify_status", [&] {
      return vt_->classify_status(objects_[0], status, to_apx(body));
    });
    apx_outcome o = verdict.threw ? APX_OUTCOME_HOST_RULE : verdict.value;
    if (o == APX_OUTCOME_SUCCESS) return Outcome::Success;
    if (o == APX_OUTCOME_RETRYABLE) return Outcome::Retryable;
    if (o == APX_OUTCOME_FATAL) return Outcome::Fatal;
  }
  if (status >= 200 && status < 300) return Outcome::Success;
  return retryable_.contains(status) ? Outcome::Retryable : Outcome::Fatal;
}

}  // namespace apiproxy
