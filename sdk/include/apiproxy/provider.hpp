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
//
// An adapter whose upstream speaks another format than its callers (ABI 1.3) derives from
// apx::TranslatingAdapter instead and also turns answers and streams back:
//
//   class MyAdapter : public apx::TranslatingAdapter {
//     ...
//     bool transform_answer(const apx::UpstreamCall& call, int status, std::string_view body,
//                           apx::TransformWriter& out) override;
//     std::unique_ptr<apx::StreamTransform> open_stream(const apx::UpstreamCall& call) override;
//   };
//
// A plain ProviderAdapter exports no transform hooks, so the host has nothing to call.
#ifndef APIPROXY_PROVIDER_HPP
#define APIPROXY_PROVIDER_HPP

#include <apiproxy/plugin.hpp>

#include <memory>
#include <type_traits>

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
      : operation(c.operation >= APX_OP_LIST_MODELS && c.operation <= APX_OP_RESPONSES
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

// ABI 1.3: where a transform writes its output.
class TransformWriter {
 public:
  explicit TransformWriter(const apx_transform_writer& w) noexcept : w_(w) {}
  void write(std::string_view bytes) const {
    if (!bytes.empty()) w_.write(w_.ctx, str(bytes));
  }

 private:
  const apx_transform_writer& w_;
};

// ABI 1.3: one stream's transform, made per call by TranslatingAdapter::open_stream.
// Throw apx::InvalidInput (with a message for the client) when the upstream's bytes
// cannot be turned into the caller's format.
class StreamTransform {
 public:
  virtual ~StreamTransform() = default;
  // Bytes as they arrive, split anywhere; write whole events as soon as they are known.
  virtual void feed(std::string_view bytes, TransformWriter& out) = 0;
  // The upstream's stream ended normally: write what is still owed.
  virtual void finish(TransformWriter& out) = 0;
};

// ABI 1.3: an adapter that also turns its upstream's answers into its callers' format.
class TranslatingAdapter : public ProviderAdapter {
 public:
  // Writes the caller's form of a whole answer (any status) and returns true, or returns
  // false to relay the answer as it is (e.g. a call it passed through unchanged).
  virtual bool transform_answer(const UpstreamCall& call, int http_status, std::string_view body,
                                TransformWriter& out) = 0;
  // A transform for this call's stream, or nullptr to relay it as it is.
  virtual std::unique_ptr<StreamTransform> open_stream(const UpstreamCall& call) = 0;
};

namespace detail {

// Runs a transform hook: an exception becomes the writer's failure message and a status.
template <class Fn>
apx_status transform_guarded(const Host& host, const apx_transform_writer* out, Fn&& fn) noexcept {
  std::string why;
  apx_status status = guarded(host, [&] {
    try {
      return fn();
    } catch (const std::exception& e) {
      why = e.what();
      throw;
    }
  });
  if (status != APX_OK && status != APX_ERR_UNSUPPORTED && out && out->fail)
    out->fail(out->ctx, str(why.empty() ? std::string_view("transform failed") : std::string_view(why)));
  return status;
}

// The C side of TranslatingAdapter's hooks.
template <class T>
struct TransformGlue {
  using Box = Boxed<T>;

  static apx_status transform_answer(void* self, const apx_upstream_call* call, int status, apx_str body,
                                     const apx_transform_writer* out) noexcept {
    if (!self || !call || !out) return APX_ERR_INVALID;
    auto* box = static_cast<Box*>(self);
    return transform_guarded(box->host, out, [&] {
      TransformWriter writer(*out);
      return box->object.transform_answer(UpstreamCall(*call), status, view(body), writer) ? APX_OK
                                                                                           : APX_ERR_UNSUPPORTED;
    });
  }
  static apx_status stream_open(void* self, const apx_upstream_call* call, void** state_out) noexcept {
    if (!self || !call || !state_out) return APX_ERR_INVALID;
    auto* box = static_cast<Box*>(self);
    return guarded(box->host, [&] {
      std::unique_ptr<StreamTransform> t = box->object.open_stream(UpstreamCall(*call));
      if (!t) return APX_ERR_UNSUPPORTED;
      *state_out = t.release();
      return APX_OK;
    });
  }
  static apx_status stream_feed(void* self, void* state, apx_str bytes, const apx_transform_writer* out) noexcept {
    if (!self || !state || !out) return APX_ERR_INVALID;
    return transform_guarded(static_cast<Box*>(self)->host, out, [&] {
      TransformWriter writer(*out);
      static_cast<StreamTransform*>(state)->feed(view(bytes), writer);
      return APX_OK;
    });
  }
  static apx_status stream_finish(void* self, void* state, const apx_transform_writer* out) noexcept {
    if (!self || !state || !out) return APX_ERR_INVALID;
    return transform_guarded(static_cast<Box*>(self)->host, out, [&] {
      TransformWriter writer(*out);
      static_cast<StreamTransform*>(state)->finish(writer);
      return APX_OK;
    });
  }
  static void stream_close(void*, void* state) noexcept { delete static_cast<StreamTransform*>(state); }
};

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
    static const apx_provider_vtable vt = make_vtable();
    return &vt;
  }

  static apx_provider_vtable make_vtable() noexcept {
    apx_provider_vtable vt{};
    vt.struct_size = sizeof(apx_provider_vtable);
    vt.create = &create;
    vt.build_request = &build_request;
    vt.parse_models = &parse_models;
    vt.classify_status = &classify_status;
    vt.destroy = &destroy;
    // Only an adapter that translates exports the hooks: the host skips NULL ones for free.
    if constexpr (std::is_base_of_v<TranslatingAdapter, T>) {
      vt.transform_answer = &TransformGlue<T>::transform_answer;
      vt.stream_open = &TransformGlue<T>::stream_open;
      vt.stream_feed = &TransformGlue<T>::stream_feed;
      vt.stream_finish = &TransformGlue<T>::stream_finish;
      vt.stream_close = &TransformGlue<T>::stream_close;
    }
    return vt;
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
