// apiproxy/provider.hpp — write a provider adapter as a C++ class.
//
//   class MyAdapter : public apx::ProviderAdapter {
//    public:
//     MyAdapter(const apx::Host& host, const apx::ProviderConfig& config);
//     void build_request(const apx::UpstreamCall& call, apx::RequestWriter& out) override;
//     void parse_models(std::string_view body, apx::ModelWriter& out) override;
//   };
//   APIPROXY_EXPORT_PROVIDER(MyAdapter, "my_adapter", "1.0.0", "what it talks to")
//
// An adapter only transforms: the host does all network I/O. One object exists per
// configured provider; its methods may run on several threads at once.
#ifndef APIPROXY_PROVIDER_HPP
#define APIPROXY_PROVIDER_HPP

#include <apiproxy/plugin.hpp>

namespace apx {

// Owned copy of one provider's configuration.
struct ProviderConfig {
  std::string id, name, base_url, api_key, models_path, region;
  Settings settings;  // every LLM_PROVIDER_{id}_{KEY}, keyed by KEY

  explicit ProviderConfig(const apx_provider_config& c)
      : id(view(c.id)),
        name(view(c.name)),
        base_url(view(c.base_url)),
        api_key(view(c.api_key)),
        models_path(view(c.models_path)),
        region(view(c.region)),
        settings(c.settings, c.settings_len) {}
};

struct UpstreamCall {
  // An operation this SDK does not know (sent by a newer host) reads as 0, which matches
  // no case: adapters answer it with Unsupported. (Casting an out-of-range value to this
  // enum, whose values span 0..7, would be undefined behaviour.)
  apx_operation operation;
  std::string_view model_id;
  std::string_view body;
  bool stream;
  // The key to use for this call (ABI 1.2: the host's pick from the provider's key pool);
  // empty from an older host, which calls with one key: ProviderConfig::api_key.
  std::string_view api_key;

  explicit UpstreamCall(const apx_upstream_call& c) noexcept
      : operation(c.operation >= APX_OP_LIST_MODELS && c.operation <= APX_OP_HEALTH
                      ? static_cast<apx_operation>(c.operation)
                      : static_cast<apx_operation>(0)),
        model_id(view(c.model_id)),
        body(view(c.body)),
        stream(c.stream != 0),
        api_key(APX_HAS_FIELD(apx_upstream_call, &c, api_key) ? view(c.api_key) : std::string_view()) {}

  // The key this call uses: the host's pick, else the provider's configured key.
  std::string_view key_or(std::string_view configured) const { return api_key.empty() ? configured : api_key; }
};

class RequestWriter {
 public:
  explicit RequestWriter(const apx_request_writer& w) noexcept : w_(w) {}
  void method(std::string_view m) const { w_.set_method(w_.ctx, str(m)); }
  void url(std::string_view u) const { w_.set_url(w_.ctx, str(u)); }
  void header(std::string_view name, std::string_view value) const {
    w_.add_header(w_.ctx, str(name), str(value));
  }
  void body(std::string_view b) const { w_.set_body(w_.ctx, str(b)); }

 private:
  const apx_request_writer& w_;
};

// One model to report; empty fields mean "unknown / let the host derive it".
struct Model {
  std::string_view model_id, family, display_name, capabilities, pricing_json, metadata_json;
  uint64_t context_length = 0;
};

class ModelWriter {
 public:
  explicit ModelWriter(const apx_model_writer& w) noexcept : w_(w) {}
  void add(const Model& m) const {
    apx_model out{};
    out.struct_size = sizeof(apx_model);
    out.model_id = str(m.model_id);
    out.family = str(m.family);
    out.display_name = str(m.display_name);
    out.context_length = m.context_length;
    out.capabilities = str(m.capabilities);
    out.pricing_json = str(m.pricing_json);
    out.metadata_json = str(m.metadata_json);
    w_.add_model(w_.ctx, &out);
  }

 private:
  const apx_model_writer& w_;
};

class ProviderAdapter {
 public:
  virtual ~ProviderAdapter() = default;
  // Shapes the upstream request. Throw apx::Unsupported for an operation the provider
  // lacks, apx::InvalidInput for a call it cannot serve.
  virtual void build_request(const UpstreamCall& call, RequestWriter& out) = 0;
  // Parses a list-models response. Throw apx::InvalidInput when the body is unusable.
  virtual void parse_models(std::string_view body, ModelWriter& out) = 0;
  // SUCCESS / RETRYABLE / FATAL, or HOST_RULE to apply RETRYABLE_STATUS_CODES.
  virtual apx_outcome classify_status(int /*http_status*/, std::string_view /*body*/) {
    return APX_OUTCOME_HOST_RULE;
  }
};

namespace detail {

template <class T>
struct ProviderGlue {
  using Box = Boxed<T>;

  static apx_status create(const apx_host* host, const apx_provider_config* config,
                           void** self_out) noexcept {
    Host h(host);
    if (!config || !self_out) return APX_ERR_INVALID;
    return guarded(h, [&] {
      ProviderConfig cfg(*config);
      *self_out = new Box{h, T(h, cfg)};
      return APX_OK;
    });
  }
  static apx_status build_request(void* self, const apx_upstream_call* call,
                                  const apx_request_writer* out) noexcept {
    if (!self || !call || !out) return APX_ERR_INVALID;
    auto* box = static_cast<Box*>(self);
    return guarded(box->host, [&] {
      RequestWriter writer(*out);
      box->object.build_request(UpstreamCall(*call), writer);
      return APX_OK;
    });
  }
  static apx_status parse_models(void* self, apx_str body,
                                 const apx_model_writer* out) noexcept {
    if (!self || !out) return APX_ERR_INVALID;
    auto* box = static_cast<Box*>(self);
    return guarded(box->host, [&] {
      ModelWriter writer(*out);
      box->object.parse_models(view(body), writer);
      return APX_OK;
    });
  }
  static apx_outcome classify_status(void* self, int status, apx_str body) noexcept {
    if (!self) return APX_OUTCOME_HOST_RULE;
    try {
      return static_cast<Box*>(self)->object.classify_status(status, view(body));
    } catch (...) {
      return APX_OUTCOME_HOST_RULE;
    }
  }
  static void destroy(void* self) noexcept { delete static_cast<Box*>(self); }

  static const apx_provider_vtable* vtable() noexcept {
    static const apx_provider_vtable vt = {sizeof(apx_provider_vtable), &create,
                                           &build_request, &parse_models,
                                           &classify_status, &destroy};
    return &vt;
  }
};

}  // namespace detail
}  // namespace apx

// Exports `Class` as the provider adapter `name`. Use once per plugin library.
#define APIPROXY_EXPORT_PROVIDER(Class, name, version, description)                    \
  extern "C" APX_EXPORT const apx_plugin_descriptor* apiproxy_plugin_entry(void) {     \
    static const apx_plugin_descriptor d = ::apx::detail::make_descriptor(              \
        APX_KIND_PROVIDER, name, version, description,                                  \
        ::apx::detail::ProviderGlue<Class>::vtable());                                  \
    return &d;                                                                          \
  }

#endif  // APIPROXY_PROVIDER_HPP
