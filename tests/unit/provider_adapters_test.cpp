// Unit tests for the bundled provider-adapter plugins (openai, azure, local).
//
// The test is its own minimal host, written against the C ABI (apiproxy/abi.h) only: it
// dlopens each built plugin from APIPROXY_TEST_PLUGIN_DIR, checks the descriptor, creates
// adapters from configurations it builds, and drives build_request / parse_models through
// recording writers. No core header is used, so these tests pin the plugins' contract as
// any host sees it.
#include <apiproxy/abi.h>

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#ifndef APIPROXY_TEST_PLUGIN_DIR
#error "APIPROXY_TEST_PLUGIN_DIR must name the directory holding the built plugins"
#endif

namespace {

std::string_view view(apx_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }
apx_str str(std::string_view s) { return apx_str{s.data(), s.size()}; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// ------------------------------------------------------------------ test host ----

struct LogLine {
  apx_log_level level;
  std::string text;
};

// The apx_host handed to adapters: records every log line.
class RecordingHost {
 public:
  RecordingHost() {
    host_.struct_size = sizeof(apx_host);
    host_.ctx = this;
    host_.log = &RecordingHost::on_log;
  }
  RecordingHost(const RecordingHost&) = delete;
  RecordingHost& operator=(const RecordingHost&) = delete;

  const apx_host* get() const { return &host_; }
  std::vector<LogLine> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  bool any_line_contains(std::string_view needle) const {
    for (const auto& l : lines())
      if (l.text.find(needle) != std::string::npos) return true;
    return false;
  }
  std::string dump() const {
    std::string out;
    for (const auto& l : lines()) out += "  [" + std::to_string(l.level) + "] " + l.text + "\n";
    return out;
  }

 private:
  static void on_log(void* ctx, apx_log_level level, apx_str message) {
    auto* self = static_cast<RecordingHost*>(ctx);
    std::lock_guard<std::mutex> lock(self->mu_);
    self->lines_.push_back({level, std::string(view(message))});
  }

  apx_host host_{};
  mutable std::mutex mu_;
  std::vector<LogLine> lines_;
};

// A loaded plugin library; stays loaded for the whole test program.
class PluginLibrary {
 public:
  explicit PluginLibrary(const std::string& path) {
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
      const char* e = dlerror();
      error_ = e ? e : "dlopen failed";
      return;
    }
    dlerror();
    void* sym = dlsym(handle_, APX_ENTRY_SYMBOL);
    if (!sym) {
      error_ = "no " APX_ENTRY_SYMBOL " in " + path;
      return;
    }
    auto entry = reinterpret_cast<apx_plugin_entry_fn>(sym);
    descriptor_ = entry();
  }
  ~PluginLibrary() {
    if (handle_) dlclose(handle_);
  }
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::string& error() const { return error_; }
  const apx_plugin_descriptor* descriptor() const { return descriptor_; }
  const apx_provider_vtable* vtable() const {
    return descriptor_ ? static_cast<const apx_provider_vtable*>(descriptor_->vtable) : nullptr;
  }

 private:
  void* handle_ = nullptr;
  const apx_plugin_descriptor* descriptor_ = nullptr;
  std::string error_;
};

std::string plugin_file(std::string_view adapter) {
  return std::string(APIPROXY_TEST_PLUGIN_DIR) + "/provider_" + std::string(adapter) + ".so";
}

const PluginLibrary& library(const std::string& adapter) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<PluginLibrary>> loaded;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = loaded[adapter];
  if (!slot) slot = std::make_unique<PluginLibrary>(plugin_file(adapter));
  return *slot;
}

// One provider configuration (LLM_PROVIDER_{id}_*), owned by the test.
struct ProviderSpec {
  std::string id = "p1";
  std::string name = "Provider";
  std::string base_url;
  std::string api_key;
  std::string models_path;  // empty = adapter default
  std::string region;
  std::vector<std::pair<std::string, std::string>> settings;
};

// What an adapter wrote for one call. Starts with the contract's defaults.
struct Request {
  std::string method;
  std::string url;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int url_calls = 0;

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (iequals(k, name)) return v;
    return std::nullopt;
  }
  size_t header_count(std::string_view name) const {
    size_t n = 0;
    for (const auto& [k, v] : headers) n += iequals(k, name);
    return n;
  }
};

struct ModelOut {
  std::string model_id, family, display_name, capabilities, pricing_json, metadata_json;
  uint64_t context_length = 0;
};

class Adapter {
 public:
  Adapter(const std::string& adapter, const ProviderSpec& spec) : spec_(spec) {
    const PluginLibrary& lib = library(adapter);
    vt_ = lib.vtable();
    if (!vt_) {
      status_ = APX_ERR_INTERNAL;
      return;
    }
    std::vector<apx_kv> kv;
    for (const auto& [k, v] : spec_.settings) kv.push_back({str(k), str(v)});
    apx_provider_config c{};
    c.struct_size = sizeof(apx_provider_config);
    c.id = str(spec_.id);
    c.name = str(spec_.name);
    c.base_url = str(spec_.base_url);
    c.api_key = str(spec_.api_key);
    c.models_path = str(spec_.models_path);
    c.region = str(spec_.region);
    c.settings = kv.data();
    c.settings_len = kv.size();
    status_ = vt_->create(host_.get(), &c, &self_);
  }
  ~Adapter() {
    if (self_) vt_->destroy(self_);
  }
  Adapter(const Adapter&) = delete;
  Adapter& operator=(const Adapter&) = delete;

  apx_status create_status() const { return status_; }
  bool ok() const { return status_ == APX_OK && self_ != nullptr; }
  const RecordingHost& host() const { return host_; }

  // `api_key`: the per-call key of ABI 1.2 (empty: none); `call_size`: the struct size the
  // host declares (an older host's is smaller).
  apx_status build(uint32_t op, std::string_view model, std::string_view body, bool stream,
                   Request* out, std::string_view api_key = {},
                   uint32_t call_size = sizeof(apx_upstream_call)) const {
    apx_upstream_call call{};
    call.struct_size = call_size;
    call.api_key = str(api_key);
    call.operation = op;
    call.model_id = str(model);
    call.body = str(body);
    call.stream = stream ? 1 : 0;
    *out = Request{};
    out->method = body.empty() ? "GET" : "POST";
    out->body = std::string(body);
    apx_request_writer w{};
    w.struct_size = sizeof(apx_request_writer);
    w.ctx = out;
    w.set_method = [](void* ctx, apx_str m) { static_cast<Request*>(ctx)->method = view(m); };
    w.set_url = [](void* ctx, apx_str u) {
      auto* r = static_cast<Request*>(ctx);
      r->url = view(u);
      ++r->url_calls;
    };
    w.add_header = [](void* ctx, apx_str n, apx_str v) {
      static_cast<Request*>(ctx)->headers.emplace_back(view(n), view(v));
    };
    w.set_body = [](void* ctx, apx_str b) { static_cast<Request*>(ctx)->body = view(b); };
    return vt_->build_request(self_, &call, &w);
  }

  // Builds and expects success.
  Request request(uint32_t op, std::string_view model = {}, std::string_view body = {},
                  bool stream = false) const {
    Request r;
    apx_status s = build(op, model, body, stream, &r);
    EXPECT_EQ(s, APX_OK) << "operation " << op << "\n" << host_.dump();
    return r;
  }

  apx_status parse(std::string_view body, std::vector<ModelOut>* out) const {
    out->clear();
    apx_model_writer w{};
    w.struct_size = sizeof(apx_model_writer);
    w.ctx = out;
    w.add_model = [](void* ctx, const apx_model* m) {
      ModelOut o;
      o.model_id = view(m->model_id);
      o.family = view(m->family);
      o.display_name = view(m->display_name);
      o.capabilities = view(m->capabilities);
      o.pricing_json = view(m->pricing_json);
      o.metadata_json = view(m->metadata_json);
      o.context_length = m->context_length;
      static_cast<std::vector<ModelOut>*>(ctx)->push_back(std::move(o));
    };
    return vt_->parse_models(self_, str(body), &w);
  }

  std::vector<ModelOut> models(std::string_view body) const {
    std::vector<ModelOut> out;
    apx_status s = parse(body, &out);
    EXPECT_EQ(s, APX_OK) << host_.dump();
    return out;
  }

  apx_outcome classify(int status, std::string_view body) const {
    return vt_->classify_status ? vt_->classify_status(self_, status, str(body))
                                : APX_OUTCOME_HOST_RULE;
  }

 private:
  ProviderSpec spec_;
  RecordingHost host_;
  const apx_provider_vtable* vt_ = nullptr;
  void* self_ = nullptr;
  apx_status status_ = APX_ERR_INTERNAL;
};

const ModelOut* find_model(const std::vector<ModelOut>& models, std::string_view id) {
  for (const auto& m : models)
    if (m.model_id == id) return &m;
  return nullptr;
}

// Models keyed by id, failing the test on a missing one.
const ModelOut& model(const std::vector<ModelOut>& models, std::string_view id) {
  static const ModelOut none;
  const ModelOut* m = find_model(models, id);
  EXPECT_NE(m, nullptr) << "no model " << id;
  return m ? *m : none;
}

ProviderSpec openai_spec() {
  ProviderSpec s;
  s.id = "openai";
  s.name = "OpenAI";
  s.base_url = "https://api.openai.com";
  s.api_key = "sk-test-openai-123";
  s.models_path = "";
  s.region = "global";
  return s;
}

ProviderSpec azure_spec() {
  ProviderSpec s;
  s.id = "azure";
  s.name = "Azure OpenAI";
  s.base_url = "https://my-resource.openai.azure.com";
  s.api_key = "azure-key-456";
  s.region = "us-east";
  return s;
}

ProviderSpec local_spec(std::string key = "not-required") {
  ProviderSpec s;
  s.id = "local";
  s.name = "Local Model";
  s.base_url = "http://localhost:8080";
  s.api_key = std::move(key);
  s.region = "local";
  return s;
}

constexpr std::string_view kChatBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})";
constexpr std::string_view kStreamBody =
    R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]})";
constexpr std::string_view kCompletionBody = R"({"model":"gpt-3.5-turbo-instruct","prompt":"Say"})";
constexpr std::string_view kEmbeddingBody = R"({"model":"text-embedding-3-small","input":"x"})";

// ------------------------------------------------------------------ descriptors ----

class DescriptorTest : public ::testing::TestWithParam<const char*> {};

TEST_P(DescriptorTest, EntryReturnsAValidProviderDescriptor) {
  const std::string name = GetParam();
  const PluginLibrary& lib = library(name);
  ASSERT_TRUE(lib.error().empty()) << lib.error();
  const apx_plugin_descriptor* d = lib.descriptor();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->struct_size, sizeof(apx_plugin_descriptor));
  EXPECT_EQ(d->abi_major, static_cast<uint32_t>(APX_ABI_MAJOR));
  EXPECT_EQ(d->abi_minor, static_cast<uint32_t>(APX_ABI_MINOR));
  EXPECT_EQ(d->kind, static_cast<uint32_t>(APX_KIND_PROVIDER));
  EXPECT_EQ(view(d->name), name);
  EXPECT_EQ(view(d->version), "1.0.0");
  EXPECT_FALSE(view(d->description).empty());

  const apx_provider_vtable* vt = lib.vtable();
  ASSERT_NE(vt, nullptr);
  EXPECT_GE(vt->struct_size, sizeof(apx_provider_vtable));
  EXPECT_NE(vt->create, nullptr);
  EXPECT_NE(vt->build_request, nullptr);
  EXPECT_NE(vt->parse_models, nullptr);
  EXPECT_NE(vt->destroy, nullptr);
}

TEST_P(DescriptorTest, EntryIsStable) {
  const PluginLibrary& lib = library(GetParam());
  ASSERT_NE(lib.descriptor(), nullptr);
  // The descriptor lives as long as the library: calling the entry again gives the same.
  void* h = dlopen(plugin_file(GetParam()).c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  ASSERT_NE(h, nullptr);
  auto entry = reinterpret_cast<apx_plugin_entry_fn>(dlsym(h, APX_ENTRY_SYMBOL));
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry(), lib.descriptor());
  dlclose(h);
}

TEST_P(DescriptorTest, ClassifyStatusDefersToTheHostRule) {
  ProviderSpec spec = GetParam() == std::string("azure")   ? azure_spec()
                      : GetParam() == std::string("local") ? local_spec()
                                                           : openai_spec();
  Adapter a(GetParam(), spec);
  ASSERT_TRUE(a.ok()) << a.host().dump();
  for (int status : {200, 400, 401, 404, 429, 500, 502, 503, 504})
    EXPECT_EQ(a.classify(status, R"({"error":{"message":"x"}})"), APX_OUTCOME_HOST_RULE)
        << status;
}

TEST_P(DescriptorTest, UnknownOperationIsUnsupported) {
  ProviderSpec spec = GetParam() == std::string("azure")   ? azure_spec()
                      : GetParam() == std::string("local") ? local_spec()
                                                           : openai_spec();
  Adapter a(GetParam(), spec);
  ASSERT_TRUE(a.ok());
  Request r;
  EXPECT_EQ(a.build(99, "m", kChatBody, false, &r), APX_ERR_UNSUPPORTED);
  EXPECT_EQ(a.build(0, "m", kChatBody, false, &r), APX_ERR_UNSUPPORTED);
}

TEST_P(DescriptorTest, EmptyBaseUrlIsRefused) {
  ProviderSpec spec = GetParam() == std::string("azure")   ? azure_spec()
                      : GetParam() == std::string("local") ? local_spec()
                                                           : openai_spec();
  spec.base_url = "";
  Adapter a(GetParam(), spec);
  EXPECT_EQ(a.create_status(), APX_ERR_INVALID);
  EXPECT_TRUE(a.host().any_line_contains("BASE_URL")) << a.host().dump();
}

TEST_P(DescriptorTest, NullArgumentsAreRejectedNotCrashed) {
  const apx_provider_vtable* vt = library(GetParam()).vtable();
  ASSERT_NE(vt, nullptr);
  void* self = nullptr;
  EXPECT_EQ(vt->create(nullptr, nullptr, &self), APX_ERR_INVALID);
  EXPECT_EQ(self, nullptr);
  EXPECT_EQ(vt->build_request(nullptr, nullptr, nullptr), APX_ERR_INVALID);
  EXPECT_EQ(vt->parse_models(nullptr, apx_str{nullptr, 0}, nullptr), APX_ERR_INVALID);
}

INSTANTIATE_TEST_SUITE_P(Providers, DescriptorTest, ::testing::Values("openai", "azure", "local"),
                         [](const auto& info) { return std::string(info.param); });

// ----------------------------------------------------------------------- openai ----

TEST(OpenAIAdapter, ListModelsAndHealthAreGetModelsWithBearer) {
  Adapter a("openai", openai_spec());
  ASSERT_TRUE(a.ok()) << a.host().dump();
  for (uint32_t op : {APX_OP_LIST_MODELS, APX_OP_HEALTH}) {
    Request r = a.request(op);
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.url, "https://api.openai.com/v1/models");
    EXPECT_EQ(r.url_calls, 1);
    EXPECT_EQ(r.header("Authorization"), "Bearer sk-test-openai-123");
    EXPECT_EQ(r.header_count("Authorization"), 1u);
    EXPECT_FALSE(r.header("Content-Type"));
    EXPECT_FALSE(r.header("Accept"));
    EXPECT_FALSE(r.header("OpenAI-Organization"));
    EXPECT_TRUE(r.body.empty());
  }
}

TEST(OpenAIAdapter, ModelsPathIsBaseUrlPlusModelsPath) {
  struct Case {
    std::string base, path, want;
  };
  for (const Case& c : std::vector<Case>{
           {"https://api.openai.com", "/v1/models", "https://api.openai.com/v1/models"},
           {"https://api.openai.com/", "/v1/models", "https://api.openai.com/v1/models"},
           {"https://api.openai.com", "v1/models", "https://api.openai.com/v1/models"},
           {"https://gw.example.com/v1", "/models", "https://gw.example.com/v1/models"},
           // A configured path is taken literally (BASE_URL + MODELS_PATH)...
           {"https://gw.example.com/v1", "/v1/models", "https://gw.example.com/v1/v1/models"},
           // ...while the adapter default is joined without doubling /v1.
           {"https://gw.example.com/v1", "", "https://gw.example.com/v1/models"},
           {"https://gw.example.com/v1/", "", "https://gw.example.com/v1/models"},
           {"https://gw.example.com/custom", "/api/list?x=1",
            "https://gw.example.com/custom/api/list?x=1"},
       }) {
    ProviderSpec spec = openai_spec();
    spec.base_url = c.base;
    spec.models_path = c.path;
    Adapter a("openai", spec);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.request(APX_OP_LIST_MODELS).url, c.want) << c.base << " + " << c.path;
    EXPECT_EQ(a.request(APX_OP_HEALTH).url, c.want) << c.base << " + " << c.path;
  }
}

TEST(OpenAIAdapter, ChatIsPostWithJsonAndBodyUnchanged) {
  Adapter a("openai", openai_spec());
  ASSERT_TRUE(a.ok());
  Request r = a.request(APX_OP_CHAT_COMPLETIONS, "gpt-4o-mini", kChatBody, false);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(r.header("Authorization"), "Bearer sk-test-openai-123");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_FALSE(r.header("Accept"));
  EXPECT_EQ(r.body, kChatBody);
  EXPECT_EQ(r.url_calls, 1);
}

TEST(OpenAIAdapter, StreamingChatAcceptsEventStream) {
  Adapter a("openai", openai_spec());
  ASSERT_TRUE(a.ok());
  Request r = a.request(APX_OP_CHAT_COMPLETIONS, "gpt-4o-mini", kStreamBody, true);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(r.header("Accept"), "text/event-stream");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("Authorization"), "Bearer sk-test-openai-123");
  EXPECT_EQ(r.body, kStreamBody);
}

TEST(OpenAIAdapter, CompletionsAndEmbeddings) {
  Adapter a("openai", openai_spec());
  ASSERT_TRUE(a.ok());
  Request c = a.request(APX_OP_COMPLETIONS, "gpt-3.5-turbo-instruct", kCompletionBody, false);
  EXPECT_EQ(c.method, "POST");
  EXPECT_EQ(c.url, "https://api.openai.com/v1/completions");
  EXPECT_EQ(c.header("Content-Type"), "application/json");
  EXPECT_EQ(c.body, kCompletionBody);
  Request cs = a.request(APX_OP_COMPLETIONS, "gpt-3.5-turbo-instruct", kCompletionBody, true);
  EXPECT_EQ(cs.header("Accept"), "text/event-stream");

  Request e = a.request(APX_OP_EMBEDDINGS, "text-embedding-3-small", kEmbeddingBody, false);
  EXPECT_EQ(e.method, "POST");
  EXPECT_EQ(e.url, "https://api.openai.com/v1/embeddings");
  EXPECT_EQ(e.header("Authorization"), "Bearer sk-test-openai-123");
  EXPECT_EQ(e.header("Content-Type"), "application/json");
  EXPECT_EQ(e.body, kEmbeddingBody);
  // Embeddings never stream.
  EXPECT_FALSE(a.request(APX_OP_EMBEDDINGS, "e", kEmbeddingBody, true).header("Accept"));
}

TEST(OpenAIAdapter, V1IsNotDoubled) {
  struct Case {
    std::string base, chat;
  };
  for (const Case& c : std::vector<Case>{
           {"https://api.openai.com/v1", "https://api.openai.com/v1/chat/completions"},
           {"https://api.openai.com/v1/", "https://api.openai.com/v1/chat/completions"},
           {"https://api.openai.com/", "https://api.openai.com/v1/chat/completions"},
           {"https://proxy.example.com/openai/v1", "https://proxy.example.com/openai/v1/chat/completions"},
           {"https://proxy.example.com/openai", "https://proxy.example.com/openai/v1/chat/completions"},
           // Only a whole /v1 segment counts.
           {"https://proxy.example.com/api/xv1", "https://proxy.example.com/api/xv1/v1/chat/completions"},
           {"https://proxy.example.com/v10", "https://proxy.example.com/v10/v1/chat/completions"},
       }) {
    ProviderSpec spec = openai_spec();
    spec.base_url = c.base;
    Adapter a("openai", spec);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.request(APX_OP_CHAT_COMPLETIONS, "m", kChatBody).url, c.chat) << c.base;
  }
  ProviderSpec spec = openai_spec();
  spec.base_url = "https://api.openai.com/v1";
  Adapter a("openai", spec);
  EXPECT_EQ(a.request(APX_OP_COMPLETIONS, "m", kCompletionBody).url,
            "https://api.openai.com/v1/completions");
  EXPECT_EQ(a.request(APX_OP_EMBEDDINGS, "m", kEmbeddingBody).url,
            "https://api.openai.com/v1/embeddings");
  EXPECT_EQ(a.request(APX_OP_LIST_MODELS).url, "https://api.openai.com/v1/models");
}

TEST(OpenAIAdapter, OrganizationAndProjectHeaders) {
  ProviderSpec spec = openai_spec();
  spec.settings = {{"ORGANIZATION", "org-abc"}, {"PROJECT", "proj_xyz"}, {"WEIGHT", "3"}};
  Adapter a("openai", spec);
  ASSERT_TRUE(a.ok());
  for (uint32_t op : {APX_OP_LIST_MODELS, APX_OP_CHAT_COMPLETIONS, APX_OP_EMBEDDINGS}) {
    Request r = a.request(op, "m", op == APX_OP_LIST_MODELS ? "" : kChatBody);
    EXPECT_EQ(r.header("OpenAI-Organization"), "org-abc") << op;
    EXPECT_EQ(r.header("OpenAI-Project"), "proj_xyz") << op;
    EXPECT_EQ(r.header("Authorization"), "Bearer sk-test-openai-123") << op;
  }
}

TEST(OpenAIAdapter, PostWithoutBodyIsInvalid) {
  Adapter a("openai", openai_spec());
  ASSERT_TRUE(a.ok());
  Request r;
  EXPECT_EQ(a.build(APX_OP_CHAT_COMPLETIONS, "gpt-4o", "", false, &r), APX_ERR_INVALID);
  EXPECT_EQ(a.build(APX_OP_EMBEDDINGS, "e", "", false, &r), APX_ERR_INVALID);
}

TEST(OpenAIAdapter, HeaderBreakingConfigurationIsRefused) {
  ProviderSpec spec = openai_spec();
  spec.api_key = "sk-secret\r\nX-Injected: yes";
  Adapter a("openai", spec);
  EXPECT_EQ(a.create_status(), APX_ERR_INVALID);
  EXPECT_TRUE(a.host().any_line_contains("API_KEY")) << a.host().dump();
  EXPECT_FALSE(a.host().any_line_contains("sk-secret")) << a.host().dump();

  ProviderSpec spec2 = openai_spec();
  spec2.settings = {{"ORGANIZATION", "org\nX: y"}};
  Adapter b("openai", spec2);
  EXPECT_EQ(b.create_status(), APX_ERR_INVALID);
}

// ------------------------------------------------------------------------ azure ----

TEST(AzureAdapter, ListModelsAndHealthUseApiKeyAndDefaultApiVersion) {
  Adapter a("azure", azure_spec());
  ASSERT_TRUE(a.ok()) << a.host().dump();
  for (uint32_t op : {APX_OP_LIST_MODELS, APX_OP_HEALTH}) {
    Request r = a.request(op);
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.url, "https://my-resource.openai.azure.com/openai/models?api-version=2024-10-21");
    EXPECT_EQ(r.header("api-key"), "azure-key-456");
    EXPECT_FALSE(r.header("Authorization"));
    EXPECT_TRUE(r.body.empty());
  }
}

TEST(AzureAdapter, ConfiguredModelsPathGetsApiVersion) {
  struct Case {
    std::string path, want;
  };
  for (const Case& c : std::vector<Case>{
           {"/openai/models", "https://my-resource.openai.azure.com/openai/models?api-version=2024-10-21"},
           {"/openai/deployments", "https://my-resource.openai.azure.com/openai/deployments?api-version=2024-10-21"},
           {"/openai/models?foo=bar", "https://my-resource.openai.azure.com/openai/models?foo=bar&api-version=2024-10-21"},
           // An api-version the user already put in the path wins.
           {"/openai/models?api-version=2023-05-15", "https://my-resource.openai.azure.com/openai/models?api-version=2023-05-15"},
       }) {
    ProviderSpec spec = azure_spec();
    spec.models_path = c.path;
    Adapter a("azure", spec);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.request(APX_OP_LIST_MODELS).url, c.want) << c.path;
  }
}

TEST(AzureAdapter, ChatGoesToTheDeployment) {
  Adapter a("azure", azure_spec());
  ASSERT_TRUE(a.ok());
  Request r = a.request(APX_OP_CHAT_COMPLETIONS, "gpt-4o-prod", kChatBody, false);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url,
            "https://my-resource.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions"
            "?api-version=2024-10-21");
  EXPECT_EQ(r.header("api-key"), "azure-key-456");
  EXPECT_EQ(r.header_count("api-key"), 1u);
  EXPECT_FALSE(r.header("Authorization"));
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_FALSE(r.header("Accept"));
  EXPECT_EQ(r.body, kChatBody);

  Request s = a.request(APX_OP_CHAT_COMPLETIONS, "gpt-4o-prod", kStreamBody, true);
  EXPECT_EQ(s.url, r.url);
  EXPECT_EQ(s.header("Accept"), "text/event-stream");
  EXPECT_FALSE(s.header("Authorization"));
  EXPECT_EQ(s.body, kStreamBody);
}

TEST(AzureAdapter, CompletionsAndEmbeddings) {
  Adapter a("azure", azure_spec());
  ASSERT_TRUE(a.ok());
  Request c = a.request(APX_OP_COMPLETIONS, "instruct-dep", kCompletionBody);
  EXPECT_EQ(c.method, "POST");
  EXPECT_EQ(c.url,
            "https://my-resource.openai.azure.com/openai/deployments/instruct-dep/completions"
            "?api-version=2024-10-21");
  EXPECT_EQ(c.header("api-key"), "azure-key-456");
  EXPECT_FALSE(c.header("Authorization"));
  EXPECT_EQ(c.body, kCompletionBody);

  Request e = a.request(APX_OP_EMBEDDINGS, "embed-dep", kEmbeddingBody);
  EXPECT_EQ(e.url,
            "https://my-resource.openai.azure.com/openai/deployments/embed-dep/embeddings"
            "?api-version=2024-10-21");
  EXPECT_EQ(e.header("Content-Type"), "application/json");
  EXPECT_FALSE(e.header("Authorization"));
}

TEST(AzureAdapter, ApiVersionOverride) {
  ProviderSpec spec = azure_spec();
  spec.settings = {{"API_VERSION", "2024-06-01"}};
  Adapter a("azure", spec);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.request(APX_OP_CHAT_COMPLETIONS, "dep", kChatBody).url,
            "https://my-resource.openai.azure.com/openai/deployments/dep/chat/completions"
            "?api-version=2024-06-01");
  EXPECT_EQ(a.request(APX_OP_LIST_MODELS).url,
            "https://my-resource.openai.azure.com/openai/models?api-version=2024-06-01");
  EXPECT_EQ(a.request(APX_OP_HEALTH).url,
            "https://my-resource.openai.azure.com/openai/models?api-version=2024-06-01");

  ProviderSpec preview = azure_spec();
  preview.settings = {{"API_VERSION", "2025-01-01-preview"}};
  Adapter b("azure", preview);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.request(APX_OP_EMBEDDINGS, "e", kEmbeddingBody).url,
            "https://my-resource.openai.azure.com/openai/deployments/e/embeddings"
            "?api-version=2025-01-01-preview");

  ProviderSpec blank = azure_spec();
  blank.settings = {{"API_VERSION", ""}};
  Adapter c("azure", blank);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.request(APX_OP_LIST_MODELS).url,
            "https://my-resource.openai.azure.com/openai/models?api-version=2024-10-21");
}

TEST(AzureAdapter, DeploymentNameIsEncodedAndRequired) {
  Adapter a("azure", azure_spec());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.request(APX_OP_CHAT_COMPLETIONS, "my dep/1?x", kChatBody).url,
            "https://my-resource.openai.azure.com/openai/deployments/my%20dep%2F1%3Fx/chat/"
            "completions?api-version=2024-10-21");
  EXPECT_EQ(a.request(APX_OP_CHAT_COMPLETIONS, "gpt-35-turbo_v1.2~x", kChatBody).url,
            "https://my-resource.openai.azure.com/openai/deployments/gpt-35-turbo_v1.2~x/chat/"
            "completions?api-version=2024-10-21");
  Request r;
  EXPECT_EQ(a.build(APX_OP_CHAT_COMPLETIONS, "", kChatBody, false, &r), APX_ERR_INVALID);
  EXPECT_EQ(a.build(APX_OP_EMBEDDINGS, "", kEmbeddingBody, false, &r), APX_ERR_INVALID);
  EXPECT_TRUE(a.host().any_line_contains("deployment")) << a.host().dump();
}

TEST(AzureAdapter, BaseUrlEndingInOpenaiIsNotDoubled) {
  ProviderSpec spec = azure_spec();
  spec.base_url = "https://my-resource.openai.azure.com/openai/";
  Adapter a("azure", spec);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.request(APX_OP_CHAT_COMPLETIONS, "dep", kChatBody).url,
            "https://my-resource.openai.azure.com/openai/deployments/dep/chat/completions"
            "?api-version=2024-10-21");
  EXPECT_EQ(a.request(APX_OP_LIST_MODELS).url,
            "https://my-resource.openai.azure.com/openai/models?api-version=2024-10-21");
}

TEST(AzureAdapter, NeverSendsAuthorization) {
  ProviderSpec spec = azure_spec();
  spec.settings = {{"ORGANIZATION", "org"}, {"API_VERSION", "2024-10-21"}};
  Adapter a("azure", spec);
  ASSERT_TRUE(a.ok());
  for (uint32_t op : {APX_OP_LIST_MODELS, APX_OP_HEALTH, APX_OP_CHAT_COMPLETIONS,
                      APX_OP_COMPLETIONS, APX_OP_EMBEDDINGS})
    for (bool stream : {false, true}) {
      Request r = a.request(op, "dep", op == APX_OP_LIST_MODELS || op == APX_OP_HEALTH ? "" : kChatBody, stream);
      EXPECT_FALSE(r.header("Authorization")) << op;
      EXPECT_EQ(r.header("api-key"), "azure-key-456") << op;
      EXPECT_NE(r.url.find("api-version="), std::string::npos) << r.url;
    }
}

// ------------------------------------------------------------------------ local ----

TEST(LocalAdapter, NoAuthorizationWhenKeyIsNotRequiredOrEmpty) {
  for (std::string key : {"not-required", "NOT-REQUIRED", "Not-Required", " not-required ", ""}) {
    Adapter a("local", local_spec(key));
    ASSERT_TRUE(a.ok()) << "key '" << key << "'\n" << a.host().dump();
    for (uint32_t op : {APX_OP_LIST_MODELS, APX_OP_HEALTH, APX_OP_CHAT_COMPLETIONS,
                        APX_OP_COMPLETIONS, APX_OP_EMBEDDINGS}) {
      bool get = op == APX_OP_LIST_MODELS || op == APX_OP_HEALTH;
      Request r = a.request(op, "m", get ? "" : kChatBody);
      EXPECT_FALSE(r.header("Authorization")) << "key '" << key << "' op " << op;
      EXPECT_FALSE(r.header("api-key"));
    }
  }
}

TEST(LocalAdapter, BearerWhenAKeyIsSet) {
  Adapter a("local", local_spec("vllm-token-789"));
  ASSERT_TRUE(a.ok());
  for (uint32_t op : {APX_OP_LIST_MODELS, APX_OP_HEALTH, APX_OP_CHAT_COMPLETIONS,
                      APX_OP_COMPLETIONS, APX_OP_EMBEDDINGS}) {
    bool get = op == APX_OP_LIST_MODELS || op == APX_OP_HEALTH;
    Request r = a.request(op, "m", get ? "" : kChatBody);
    EXPECT_EQ(r.header("Authorization"), "Bearer vllm-token-789") << op;
  }
}

TEST(KeyPerCall, EachBundledAdapterSendsTheKeyTheHostPicked) {
  struct Case {
    const char* plugin;
    ProviderSpec spec;
    const char* header;
    const char* prefix;
  };
  for (const Case& c : {Case{"openai", openai_spec(), "Authorization", "Bearer "},
                        Case{"local", local_spec("vllm-token-789"), "Authorization", "Bearer "},
                        Case{"azure", azure_spec(), "api-key", ""}}) {
    Adapter a(c.plugin, c.spec);
    ASSERT_TRUE(a.ok()) << c.plugin << "\n" << a.host().dump();
    Request configured, picked, older_host;
    ASSERT_EQ(a.build(APX_OP_CHAT_COMPLETIONS, "dep", kChatBody, false, &configured), APX_OK);
    ASSERT_EQ(a.build(APX_OP_CHAT_COMPLETIONS, "dep", kChatBody, false, &picked, "sk-pool-second-key"), APX_OK);
    // A 1.1 host's call has no api_key field: whatever lies past its size is not read.
    ASSERT_EQ(a.build(APX_OP_CHAT_COMPLETIONS, "dep", kChatBody, false, &older_host, "sk-must-not-be-read",
                      offsetof(apx_upstream_call, api_key)),
              APX_OK);
    EXPECT_EQ(picked.header(c.header), std::string(c.prefix) + "sk-pool-second-key") << c.plugin;
    EXPECT_EQ(picked.header_count(c.header), 1u) << c.plugin;
    EXPECT_EQ(older_host.header(c.header), configured.header(c.header)) << c.plugin;
    EXPECT_TRUE(configured.header(c.header)) << c.plugin;
  }
}

TEST(KeyPerCall, LocalAdapterSendsNothingForANotRequiredKey) {
  Adapter a("local", local_spec("vllm-token-789"));
  ASSERT_TRUE(a.ok());
  Request r;
  ASSERT_EQ(a.build(APX_OP_CHAT_COMPLETIONS, "m", kChatBody, false, &r, "not-required"), APX_OK);
  EXPECT_FALSE(r.header("Authorization"));
}

TEST(LocalAdapter, UrlsMethodsAndBodies) {
  Adapter a("local", local_spec());
  ASSERT_TRUE(a.ok());
  Request m = a.request(APX_OP_LIST_MODELS);
  EXPECT_EQ(m.method, "GET");
  EXPECT_EQ(m.url, "http://localhost:8080/v1/models");
  EXPECT_EQ(a.request(APX_OP_HEALTH).url, "http://localhost:8080/v1/models");

  Request c = a.request(APX_OP_CHAT_COMPLETIONS, "llama", kChatBody, false);
  EXPECT_EQ(c.method, "POST");
  EXPECT_EQ(c.url, "http://localhost:8080/v1/chat/completions");
  EXPECT_EQ(c.header("Content-Type"), "application/json");
  EXPECT_FALSE(c.header("Accept"));
  EXPECT_EQ(c.body, kChatBody);

  Request s = a.request(APX_OP_CHAT_COMPLETIONS, "llama", kStreamBody, true);
  EXPECT_EQ(s.header("Accept"), "text/event-stream");
  EXPECT_EQ(s.body, kStreamBody);

  EXPECT_EQ(a.request(APX_OP_COMPLETIONS, "llama", kCompletionBody).url,
            "http://localhost:8080/v1/completions");
  EXPECT_EQ(a.request(APX_OP_EMBEDDINGS, "nomic", kEmbeddingBody).url,
            "http://localhost:8080/v1/embeddings");

  // Ollama's OpenAI-compatible base already ends in /v1.
  ProviderSpec ollama = local_spec();
  ollama.base_url = "http://localhost:11434/v1";
  Adapter o("local", ollama);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.request(APX_OP_CHAT_COMPLETIONS, "llama3.1:8b", kChatBody).url,
            "http://localhost:11434/v1/chat/completions");
  EXPECT_EQ(o.request(APX_OP_LIST_MODELS).url, "http://localhost:11434/v1/models");

  // As in the configuration guide: MODELS_PATH=/v1/models.
  ProviderSpec guide = local_spec();
  guide.models_path = "/v1/models";
  Adapter g("local", guide);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g.request(APX_OP_LIST_MODELS).url, "http://localhost:8080/v1/models");
}

// ------------------------------------------------------------------ parse_models ----

constexpr std::string_view kOpenAIModels = R"({
  "object": "list",
  "data": [
    {"id": "gpt-4o-mini-2024-07-18", "object": "model", "created": 1721172717, "owned_by": "system"},
    {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
    {"id": "gpt-4-turbo-2024-04-09", "object": "model", "created": 1712601677, "owned_by": "system"},
    {"id": "gpt-3.5-turbo-0125", "object": "model", "created": 1706048358, "owned_by": "system"},
    {"id": "gpt-3.5-turbo-instruct", "object": "model", "created": 1692901427, "owned_by": "system"},
    {"id": "text-embedding-3-small", "object": "model", "created": 1705948997, "owned_by": "system"},
    {"id": "text-embedding-ada-002", "object": "model", "created": 1671217299, "owned_by": "openai-internal"},
    {"id": "davinci-002", "object": "model", "created": 1692634301, "owned_by": "system"},
    {"id": "babbage-002", "object": "model", "created": 1692634615, "owned_by": "system"},
    {"id": "gpt-4-vision-preview", "object": "model", "created": 1698894917, "owned_by": "system"},
    {"id": "whisper-1", "object": "model", "created": 1677532384, "owned_by": "openai-internal"},
    {"id": "tts-1-hd", "object": "model", "created": 1699046015, "owned_by": "system"},
    {"id": "dall-e-3", "object": "model", "created": 1698785189, "owned_by": "system"},
    {"id": "ft:gpt-4o-mini-2024-07-18:acme::9abcDEF", "object": "model", "created": 1723000000, "owned_by": "acme"},
    {"id": "o1-mini", "object": "model", "created": 1725649008, "owned_by": "system"}
  ]
})";

TEST(ParseModels, OpenAIList) {
  Adapter a("openai", openai_spec());
  ASSERT_TRUE(a.ok());
  auto models = a.models(kOpenAIModels);
  ASSERT_EQ(models.size(), 15u) << a.host().dump();
  EXPECT_EQ(models[0].model_id, "gpt-4o-mini-2024-07-18");  // upstream order kept

  const ModelOut& mini = model(models, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(mini.family, "gpt-4o-mini");
  EXPECT_EQ(mini.capabilities, "chat,vision,function_calling");
  EXPECT_EQ(mini.context_length, 0u);
  EXPECT_TRUE(mini.display_name.empty());
  EXPECT_TRUE(mini.pricing_json.empty());
  EXPECT_EQ(mini.metadata_json,
            R"({"id":"gpt-4o-mini-2024-07-18","object":"model","created":1721172717,"owned_by":"system"})");

  EXPECT_EQ(model(models, "gpt-4o").family, "gpt-4o");
  EXPECT_EQ(model(models, "gpt-4-turbo-2024-04-09").family, "gpt-4-turbo");
  EXPECT_EQ(model(models, "gpt-4-turbo-2024-04-09").capabilities, "chat,vision,function_calling");
  EXPECT_EQ(model(models, "gpt-3.5-turbo-0125").family, "gpt-3.5-turbo");
  EXPECT_EQ(model(models, "gpt-3.5-turbo-0125").capabilities, "chat,function_calling");
  EXPECT_EQ(model(models, "gpt-3.5-turbo-instruct").capabilities, "completion");
  EXPECT_EQ(model(models, "text-embedding-3-small").capabilities, "embedding");
  EXPECT_EQ(model(models, "text-embedding-3-small").family, "text-embedding-3-small");
  EXPECT_EQ(model(models, "text-embedding-ada-002").capabilities, "embedding");
  EXPECT_EQ(model(models, "davinci-002").capabilities, "completion");
  EXPECT_EQ(model(models, "babbage-002").capabilities, "completion");
  EXPECT_EQ(model(models, "gpt-4-vision-preview").capabilities, "chat,vision,function_calling");
  EXPECT_EQ(model(models, "gpt-4-vision-preview").family, "gpt-4-vision");
  EXPECT_EQ(model(models, "whisper-1").capabilities, "audio");
  EXPECT_EQ(model(models, "tts-1-hd").capabilities, "audio");
  EXPECT_EQ(model(models, "dall-e-3").capabilities, "");
  EXPECT_EQ(model(models, "ft:gpt-4o-mini-2024-07-18:acme::9abcDEF").family, "gpt-4o-mini");
  EXPECT_EQ(model(models, "o1-mini").capabilities, "chat,function_calling");
  for (const auto& m : models) {
    EXPECT_NE(m.metadata_json.find("\"owned_by\""), std::string::npos) << m.model_id;
    EXPECT_NE(m.metadata_json.find("\"created\""), std::string::npos) << m.model_id;
  }
}

TEST(ParseModels, ContextLengthNameAndPricingWhenTheUpstreamSaysSo) {
  Adapter a("openai", openai_spec());
  ASSERT_TRUE(a.ok());
  auto models = a.models(R"({"data":[
    {"id":"a","context_length":128000,"name":"Model A","pricing":{"prompt":"0.000001","completion":"0.000002"}},
    {"id":"b","context_window":200000},
    {"id":"c","max_model_len":32768},
    {"id":"d","context_length":-5},
    {"id":"e","context_length":"4096"},
    {"id":"f","context_length":8192.0,"capabilities":["chat","tools","vision"]},
    {"id":"g-embedding-like","capabilities":["embeddings"]},
    {"id":"h","capabilities":["unknown-thing"]}
  ]})");
  ASSERT_EQ(models.size(), 8u);
  EXPECT_EQ(model(models, "a").context_length, 128000u);
  EXPECT_EQ(model(models, "a").display_name, "Model A");
  EXPECT_EQ(model(models, "a").pricing_json, R"({"prompt":"0.000001","completion":"0.000002"})");
  EXPECT_EQ(model(models, "b").context_length, 200000u);
  EXPECT_EQ(model(models, "c").context_length, 32768u);
  EXPECT_EQ(model(models, "d").context_length, 0u);
  EXPECT_EQ(model(models, "e").context_length, 0u);
  EXPECT_EQ(model(models, "f").context_length, 8192u);
  EXPECT_EQ(model(models, "f").capabilities, "chat,vision,function_calling");
  EXPECT_EQ(model(models, "g-embedding-like").capabilities, "embedding");
  EXPECT_EQ(model(models, "h").capabilities, "chat,function_calling");  // falls back to the id
}

TEST(ParseModels, EntriesWithoutIdAreSkipped) {
  Adapter a("openai", openai_spec());
  ASSERT_TRUE(a.ok());
  auto models = a.models(R"({"object":"list","data":[
    {"object":"model","owned_by":"system"},
    {"id":42},
    {"id":null},
    {"id":""},
    "gpt-4o",
    7,
    null,
    [],
    {"id":"gpt-4o"},
    {"id":"gpt-4o","owned_by":"duplicate"},
    {"id":"gpt-4o-mini"}
  ]})");
  ASSERT_EQ(models.size(), 2u) << a.host().dump();
  EXPECT_EQ(models[0].model_id, "gpt-4o");
  EXPECT_EQ(models[0].metadata_json, R"({"id":"gpt-4o"})");  // first of the duplicates
  EXPECT_EQ(models[1].model_id, "gpt-4o-mini");
  EXPECT_TRUE(a.host().any_line_contains("without a string id")) << a.host().dump();

  EXPECT_TRUE(a.models(R"({"object":"list","data":[]})").empty());
}

TEST(ParseModels, GarbageIsInvalidAndNeverCrashes) {
  std::string deep(200000, '[');
  std::string deep_obj;
  for (int i = 0; i < 100000; ++i) deep_obj += "{\"data\":";
  std::vector<std::string> garbage = {
      "",
      "   \n",
      "not json",
      "<html><body>502 Bad Gateway</body></html>",
      "[]",
      R"([{"id":"gpt-4o"}])",
      "{}",
      "null",
      "42",
      R"("data")",
      R"({"data":null})",
      R"({"data":{}})",
      R"({"data":"gpt-4o"})",
      R"({"models":[{"name":"llama","model":"llama"}]})",
      R"({"data":[{"id":"gpt-4o"})",       // truncated
      R"({"data":[{"id":"gpt-4o"}]} trailing)",
      R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}})",
      std::string("{\"data\":[{\"id\":\"bad\xff\xfe\"}]}"),  // invalid UTF-8
      std::string("{\"data\":[{\"id\":\"a\0b\"}]}", 23),    // raw NUL in a string
      deep,
      deep_obj,
      // Valid JSON, but nested deeper than any model list: refused before parsing.
      R"({"data":[{"id":"x","meta":)" + std::string(5000, '[') + std::string(5000, ']') + "}]}",
  };
  for (const char* name : {"openai", "azure", "local"}) {
    ProviderSpec spec = name == std::string("azure")   ? azure_spec()
                        : name == std::string("local") ? local_spec()
                                                       : openai_spec();
    Adapter a(name, spec);
    ASSERT_TRUE(a.ok());
    for (const auto& body : garbage) {
      std::vector<ModelOut> out;
      EXPECT_EQ(a.parse(body, &out), APX_ERR_INVALID)
          << name << ": " << body.substr(0, 80);
      EXPECT_TRUE(out.empty()) << name << ": " << body.substr(0, 80);
    }
    // The message explains; it does not quote the body.
    EXPECT_TRUE(a.host().any_line_contains("\"data\" array")) << a.host().dump();
    EXPECT_TRUE(a.host().any_line_contains("not valid JSON")) << a.host().dump();
    EXPECT_FALSE(a.host().any_line_contains("Bad Gateway")) << a.host().dump();
    // Still usable afterwards.
    EXPECT_EQ(a.models(R"({"data":[{"id":"x"}]})").size(), 1u);
  }
}

constexpr std::string_view kAzureModels = R"({
  "data": [
    {"status":"succeeded","capabilities":{"fine_tune":false,"inference":true,"completion":false,"chat_completion":true,"embeddings":false},
     "lifecycle_status":"generally-available","deprecation":{"inference":1750636800},
     "id":"gpt-4o-2024-05-13","created_at":1715558400,"object":"model"},
    {"status":"succeeded","capabilities":{"fine_tune":true,"inference":true,"completion":false,"chat_completion":true,"embeddings":false},
     "lifecycle_status":"generally-available","deprecation":{"fine_tune":1727740800,"inference":1743465600},
     "id":"gpt-35-turbo-0613","created_at":1686614400,"object":"model"},
    {"status":"succeeded","capabilities":{"fine_tune":false,"inference":true,"completion":true,"chat_completion":false,"embeddings":false},
     "lifecycle_status":"generally-available","deprecation":{"inference":1727740800},
     "id":"gpt-35-turbo-instruct-0914","created_at":1694649600,"object":"model"},
    {"status":"succeeded","capabilities":{"fine_tune":false,"inference":true,"completion":false,"chat_completion":false,"embeddings":true},
     "lifecycle_status":"generally-available","deprecation":{"inference":1743465600},
     "id":"text-embedding-3-large","created_at":1706140800,"object":"model"},
    {"status":"succeeded","capabilities":{"fine_tune":false,"inference":true,"completion":false,"chat_completion":false,"embeddings":false},
     "lifecycle_status":"preview","deprecation":{"inference":1740873600},
     "id":"dall-e-3","created_at":1698796800,"object":"model"},
    {"status":"succeeded","lifecycle_status":"preview","id":"gpt-4-turbo-2024-04-09","created_at":1712620800,"object":"model"},
    {"status":"succeeded","capabilities":{},"id":"gpt-4-32k-0613","object":"model"}
  ],
  "object": "list"
})";

TEST(ParseModels, AzureList) {
  Adapter a("azure", azure_spec());
  ASSERT_TRUE(a.ok());
  auto models = a.models(kAzureModels);
  ASSERT_EQ(models.size(), 7u) << a.host().dump();

  const ModelOut& g4o = model(models, "gpt-4o-2024-05-13");
  EXPECT_EQ(g4o.family, "gpt-4o");
  // chat from the booleans; vision/function_calling as the id implies (Azure omits them).
  EXPECT_EQ(g4o.capabilities, "chat,vision,function_calling");
  EXPECT_NE(g4o.metadata_json.find("\"lifecycle_status\":\"generally-available\""), std::string::npos);
  EXPECT_NE(g4o.metadata_json.find("\"deprecation\":{\"inference\":1750636800}"), std::string::npos);

  EXPECT_EQ(model(models, "gpt-35-turbo-0613").family, "gpt-35-turbo");
  EXPECT_EQ(model(models, "gpt-35-turbo-0613").capabilities, "chat,function_calling");
  EXPECT_EQ(model(models, "gpt-35-turbo-instruct-0914").capabilities, "completion");
  EXPECT_EQ(model(models, "gpt-35-turbo-instruct-0914").family, "gpt-35-turbo-instruct");
  EXPECT_EQ(model(models, "text-embedding-3-large").capabilities, "embedding");
  EXPECT_EQ(model(models, "dall-e-3").capabilities, "");
  // No capabilities object, or one without the known booleans: inferred from the id.
  EXPECT_EQ(model(models, "gpt-4-turbo-2024-04-09").capabilities, "chat,vision,function_calling");
  EXPECT_EQ(model(models, "gpt-4-32k-0613").capabilities, "chat,function_calling");
  EXPECT_EQ(model(models, "gpt-4-32k-0613").family, "gpt-4-32k");
}

TEST(ParseModels, AzureDeploymentListingUsesTheBaseModelForFamily) {
  Adapter a("azure", azure_spec());
  ASSERT_TRUE(a.ok());
  auto models = a.models(R"({"data":[
    {"scale_settings":{"scale_type":"standard"},"model":"gpt-4o-2024-08-06","owner":"organization",
     "id":"prod-chat","status":"succeeded","created_at":1723000000,"updated_at":1723000000,"object":"deployment"},
    {"model":"text-embedding-ada-002","id":"embeddings","status":"succeeded","object":"deployment"}
  ],"object":"list"})");
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(model(models, "prod-chat").family, "gpt-4o");
  EXPECT_EQ(model(models, "prod-chat").capabilities, "chat,vision,function_calling");
  EXPECT_EQ(model(models, "embeddings").family, "text-embedding-ada");
  EXPECT_EQ(model(models, "embeddings").capabilities, "embedding");
}

// llama.cpp server: an Ollama-style `models` array next to the OpenAI `data` array.
constexpr std::string_view kLlamaCppModels = R"({
  "models": [
    {"name":"/models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf","model":"/models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",
     "modified_at":"","size":"","digest":"","type":"model","description":"","tags":[""],
     "capabilities":["completion"],"parameters":"","details":{"parent_model":"","format":"gguf","family":"","families":[""],
     "parameter_size":"","quantization_level":""}},
    {"name":"only-in-models","model":"only-in-models"}
  ],
  "object": "list",
  "data": [
    {"id":"/models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf","object":"model","created":1735142223,"owned_by":"llamacpp",
     "meta":{"vocab_type":2,"n_vocab":128256,"n_ctx_train":131072,"n_embd":4096,"n_params":8030261248,"size":4912898304}}
  ]
})";

TEST(ParseModels, LlamaCppReadsOnlyData) {
  Adapter a("local", local_spec());
  ASSERT_TRUE(a.ok());
  auto models = a.models(kLlamaCppModels);
  ASSERT_EQ(models.size(), 1u) << a.host().dump();
  const ModelOut& m = models[0];
  EXPECT_EQ(m.model_id, "/models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf");
  EXPECT_EQ(m.family, "Meta-Llama-3.1-8B-Instruct");
  EXPECT_EQ(m.context_length, 131072u);
  EXPECT_EQ(m.capabilities, "chat,completion");
  EXPECT_NE(m.metadata_json.find("\"n_ctx_train\":131072"), std::string::npos);
  EXPECT_EQ(find_model(models, "only-in-models"), nullptr);
}

TEST(ParseModels, VllmMaxModelLen) {
  Adapter a("local", local_spec("token"));
  ASSERT_TRUE(a.ok());
  auto models = a.models(R"({"object":"list","data":[
    {"id":"meta-llama/Meta-Llama-3.1-8B-Instruct","object":"model","created":1727000000,"owned_by":"vllm",
     "root":"meta-llama/Meta-Llama-3.1-8B-Instruct","parent":null,"max_model_len":32768,
     "permission":[{"id":"modelperm-abc","object":"model_permission","created":1727000000,"allow_create_engine":false,
       "allow_sampling":true,"allow_logprobs":true,"allow_search_indices":false,"allow_view":true,
       "allow_fine_tuning":false,"organization":"*","group":null,"is_blocking":false}]},
    {"id":"TheBloke/Mistral-7B-Instruct-v0.2-AWQ","object":"model","owned_by":"vllm","max_model_len":4096},
    {"id":"BAAI/bge-large-en-v1.5","object":"model","owned_by":"vllm","max_model_len":512}
  ]})");
  ASSERT_EQ(models.size(), 3u);
  const ModelOut& llama = model(models, "meta-llama/Meta-Llama-3.1-8B-Instruct");
  EXPECT_EQ(llama.context_length, 32768u);
  EXPECT_EQ(llama.family, "Meta-Llama-3.1-8B-Instruct");
  EXPECT_EQ(llama.capabilities, "chat,completion");
  EXPECT_NE(llama.metadata_json.find("\"permission\":[{"), std::string::npos);
  EXPECT_EQ(model(models, "TheBloke/Mistral-7B-Instruct-v0.2-AWQ").family, "Mistral-7B-Instruct");
  EXPECT_EQ(model(models, "TheBloke/Mistral-7B-Instruct-v0.2-AWQ").context_length, 4096u);
  EXPECT_EQ(model(models, "BAAI/bge-large-en-v1.5").capabilities, "embedding");
}

TEST(ParseModels, Ollama) {
  ProviderSpec spec = local_spec();
  spec.base_url = "http://localhost:11434";
  Adapter a("local", spec);
  ASSERT_TRUE(a.ok());
  auto models = a.models(R"({"object":"list","data":[
    {"id":"llama3.1:8b","object":"model","created":1722000000,"owned_by":"library"},
    {"id":"qwen2.5:7b-instruct-q4_K_M","object":"model","created":1722000001,"owned_by":"library"},
    {"id":"nomic-embed-text:latest","object":"model","created":1722000002,"owned_by":"library"},
    {"id":"llava:13b","object":"model","created":1722000003,"owned_by":"library"},
    {"id":"myuser/custom-model:v2","object":"model","created":1722000004,"owned_by":"myuser"}
  ]})");
  ASSERT_EQ(models.size(), 5u);
  EXPECT_EQ(model(models, "llama3.1:8b").family, "llama3.1");
  EXPECT_EQ(model(models, "llama3.1:8b").capabilities, "chat,completion");
  EXPECT_EQ(model(models, "llama3.1:8b").context_length, 0u);
  EXPECT_EQ(model(models, "qwen2.5:7b-instruct-q4_K_M").family, "qwen2.5");
  EXPECT_EQ(model(models, "nomic-embed-text:latest").family, "nomic-embed-text");
  EXPECT_EQ(model(models, "nomic-embed-text:latest").capabilities, "embedding");
  EXPECT_EQ(model(models, "llava:13b").capabilities, "chat,completion,vision");
  EXPECT_EQ(model(models, "myuser/custom-model:v2").family, "custom-model");
}

TEST(ParseModels, FamilyDerivation) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
      {"gpt-4o-2024-08-06", "gpt-4o"},
      {"gpt-4o", "gpt-4o"},
      {"gpt-4", "gpt-4"},
      {"gpt-4-0613", "gpt-4"},
      {"gpt-4-32k-0613", "gpt-4-32k"},
      {"gpt-4-1106-preview", "gpt-4"},
      {"gpt-4-turbo-preview", "gpt-4-turbo"},
      {"gpt-3.5-turbo", "gpt-3.5-turbo"},
      {"gpt-3.5-turbo-16k", "gpt-3.5-turbo-16k"},
      {"gpt-3.5-turbo-instruct-0914", "gpt-3.5-turbo-instruct"},
      {"gpt-35-turbo-0125", "gpt-35-turbo"},
      {"chatgpt-4o-latest", "chatgpt-4o"},
      {"o1-preview-2024-09-12", "o1"},
      {"o1-mini", "o1-mini"},
      {"gpt-4o-realtime-preview-2024-10-01", "gpt-4o-realtime"},
      {"text-embedding-3-large", "text-embedding-3-large"},
      {"text-embedding-ada-002", "text-embedding-ada"},
      {"claude-3-5-sonnet-20240620", "claude-3-5-sonnet"},
      {"mistral-large-2407", "mistral-large"},
      {"mistral-7b-instruct-v0.2", "mistral-7b-instruct"},
      {"deepseek-v3", "deepseek-v3"},
      {"whisper-1", "whisper-1"},
      {"ft:gpt-3.5-turbo-0125:my-org:custom:abc123", "gpt-3.5-turbo"},
      {"meta-llama/Llama-3.2-3B-Instruct", "Llama-3.2-3B-Instruct"},
      {"/models/llama-2-7b-chat.Q4_K_M.gguf", "llama-2-7b-chat"},
      {"models/7B/ggml-model-f16.gguf", "ggml-model"},
      {"phi3:mini", "phi3"},
      {"2024-01-01", "2024-01-01"},
      {"latest", "latest"},
  };
  std::string body = R"({"data":[)";
  for (size_t i = 0; i < cases.size(); ++i)
    body += (i ? "," : "") + std::string(R"({"id":")") + cases[i].first + "\"}";
  body += "]}";
  for (const char* name : {"openai", "azure", "local"}) {
    ProviderSpec spec = name == std::string("azure")   ? azure_spec()
                        : name == std::string("local") ? local_spec()
                                                       : openai_spec();
    Adapter a(name, spec);
    ASSERT_TRUE(a.ok());
    auto models = a.models(body);
    ASSERT_EQ(models.size(), cases.size()) << name;
    for (size_t i = 0; i < cases.size(); ++i) {
      EXPECT_EQ(models[i].model_id, cases[i].first);
      EXPECT_EQ(models[i].family, cases[i].second) << name << ": " << cases[i].first;
    }
  }
}

// ------------------------------------------------------------------- secrets ----

TEST(Secrets, ApiKeyNeverAppearsInLogsOrUrls) {
  const std::string secret = "sk-SECRET-do-not-log-4242";
  for (const char* name : {"openai", "azure", "local"}) {
    ProviderSpec spec = name == std::string("azure")   ? azure_spec()
                        : name == std::string("local") ? local_spec()
                                                       : openai_spec();
    spec.api_key = secret;
    spec.base_url = "https://user:hunter2@upstream.example.com/v1?token=qs-secret";
    spec.settings = {{"ORGANIZATION", "org-1"}, {"API_VERSION", "2024-10-21"}};
    Adapter a(name, spec);
    ASSERT_TRUE(a.ok()) << a.host().dump();
    for (uint32_t op : std::initializer_list<uint32_t>{APX_OP_LIST_MODELS, APX_OP_HEALTH,
                                                       APX_OP_CHAT_COMPLETIONS, APX_OP_COMPLETIONS,
                                                       APX_OP_EMBEDDINGS, 77u}) {
      for (std::string_view body : {std::string_view(), kChatBody}) {
        for (std::string_view mid : {std::string_view(), std::string_view("dep")}) {
          Request r;
          apx_status s = a.build(op, mid, body, true, &r);
          if (s != APX_OK) continue;
          EXPECT_EQ(r.url.find(secret), std::string::npos) << r.url;
          // The key travels only in its auth header.
          for (const auto& [k, v] : r.headers) {
            if (v.find(secret) != std::string::npos) {
              EXPECT_TRUE(iequals(k, "Authorization") || iequals(k, "api-key")) << k;
            }
          }
        }
      }
    }
    std::vector<ModelOut> out;
    a.parse("garbage", &out);
    a.parse("{}", &out);
    a.parse(R"({"data":[{"owned_by":"x"}]})", &out);
    a.parse(R"({"error":{"message":"Incorrect API key provided: )" + secret + R"("}})", &out);
    ASSERT_FALSE(a.host().lines().empty());
    EXPECT_FALSE(a.host().any_line_contains(secret)) << a.host().dump();
    EXPECT_FALSE(a.host().any_line_contains("SECRET")) << a.host().dump();
    EXPECT_FALSE(a.host().any_line_contains("hunter2")) << a.host().dump();
    EXPECT_FALSE(a.host().any_line_contains("qs-secret")) << a.host().dump();
  }
  // A configuration refused because of the key does not quote it either.
  for (const char* name : {"openai", "azure", "local"}) {
    ProviderSpec spec = name == std::string("azure")   ? azure_spec()
                        : name == std::string("local") ? local_spec()
                                                       : openai_spec();
    spec.api_key = secret + "\r\n";
    Adapter a(name, spec);
    EXPECT_EQ(a.create_status(), APX_ERR_INVALID) << name;
    EXPECT_FALSE(a.host().any_line_contains(secret)) << a.host().dump();
  }
}

// --------------------------------------------------------------- concurrency ----

TEST(Concurrency, BuildRequestAndParseModelsFromManyThreads) {
  for (const char* name : {"openai", "azure", "local"}) {
    ProviderSpec spec = name == std::string("azure")   ? azure_spec()
                        : name == std::string("local") ? local_spec("k")
                                                       : openai_spec();
    Adapter a(name, spec);
    ASSERT_TRUE(a.ok());
    const Request want = a.request(APX_OP_CHAT_COMPLETIONS, "dep", kChatBody, true);
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 200; ++i) {
          Request r;
          if (a.build(APX_OP_CHAT_COMPLETIONS, "dep", kChatBody, true, &r) != APX_OK ||
              r.url != want.url || r.headers != want.headers)
            ++mismatches;
          std::vector<ModelOut> out;
          if (a.parse(kOpenAIModels, &out) != APX_OK || out.size() != 15) ++mismatches;
        }
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(mismatches.load(), 0) << name;
  }
}

}  // namespace
