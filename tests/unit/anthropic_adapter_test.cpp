// Unit tests for the bundled `anthropic` provider-adapter plugin.
//
// Like provider_adapters_test.cpp, the test is its own minimal host written against the C
// ABI only: it dlopens the REAL built plugin from APIPROXY_TEST_PLUGIN_DIR and drives
// create / build_request / parse_models / classify_status and the ABI 1.3 transform hooks
// (transform_answer, stream_open / feed / finish / close) through recording writers. Outputs
// are parsed and compared as JSON values, member by member.
#include <apiproxy/abi.h>

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <ctime>
#include <optional>
#include <random>
#include <string>
#include <string_view>
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
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// ------------------------------------------------------------------ JSON checks ----

std::string to_text(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// The first difference between two JSON values (object member order ignored), or "".
std::string json_difference(const rapidjson::Value& actual, const rapidjson::Value& expected, const std::string& at) {
  if (actual.GetType() != expected.GetType())
    return at + ": " + to_text(actual) + " where " + to_text(expected) + " was expected";
  if (expected.IsObject()) {
    if (actual.MemberCount() != expected.MemberCount())
      return at + ": " + std::to_string(actual.MemberCount()) + " members, expected " +
             std::to_string(expected.MemberCount()) + " (" + to_text(actual) + ")";
    for (const auto& m : expected.GetObject()) {
      auto it = actual.FindMember(m.name);
      if (it == actual.MemberEnd()) return at + ": no member " + m.name.GetString();
      std::string d = json_difference(it->value, m.value, at + "." + m.name.GetString());
      if (!d.empty()) return d;
    }
    return "";
  }
  if (expected.IsArray()) {
    if (actual.Size() != expected.Size())
      return at + ": " + std::to_string(actual.Size()) + " elements, expected " + std::to_string(expected.Size()) +
             " (" + to_text(actual) + ")";
    for (rapidjson::SizeType i = 0; i < expected.Size(); ++i) {
      std::string d = json_difference(actual[i], expected[i], at + "[" + std::to_string(i) + "]");
      if (!d.empty()) return d;
    }
    return "";
  }
  if (to_text(actual) != to_text(expected)) return at + ": " + to_text(actual) + " != " + to_text(expected);
  return "";
}

// Parses text the plugin wrote: it must be valid JSON with valid UTF-8.
rapidjson::Document parse(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << "not JSON: " << text;
  return doc;
}

void expect_json(std::string_view actual, std::string_view expected) {
  rapidjson::Document a = parse(actual), e = parse(expected);
  ASSERT_FALSE(e.HasParseError()) << "the test's expectation is not JSON: " << expected;
  if (a.HasParseError()) return;
  EXPECT_EQ(json_difference(a, e, "$"), "") << "actual: " << actual;
}

// ------------------------------------------------------------------ test host ----

const apx_plugin_descriptor* descriptor() {
  static const apx_plugin_descriptor* d = [] () -> const apx_plugin_descriptor* {
    std::string path = std::string(APIPROXY_TEST_PLUGIN_DIR) + "/provider_anthropic.so";
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);  // stays loaded for the whole program
    if (!handle) {
      ADD_FAILURE() << "dlopen " << path << ": " << dlerror();
      return nullptr;
    }
    auto entry = reinterpret_cast<apx_plugin_entry_fn>(dlsym(handle, APX_ENTRY_SYMBOL));
    if (!entry) {
      ADD_FAILURE() << "no " APX_ENTRY_SYMBOL " in " << path;
      return nullptr;
    }
    return entry();
  }();
  return d;
}

const apx_provider_vtable* vtable() {
  const apx_plugin_descriptor* d = descriptor();
  return d ? static_cast<const apx_provider_vtable*>(d->vtable) : nullptr;
}

struct Spec {
  std::string base_url = "https://api.anthropic.com";
  std::string api_key = "sk-ant-configured";
  std::string models_path = "/v1/models";
  std::vector<std::pair<std::string, std::string>> settings;
};

struct Request {
  std::string method, url, body;
  std::vector<std::pair<std::string, std::string>> headers;

  std::optional<std::string> header(std::string_view name) const {
    std::optional<std::string> found;
    for (const auto& [k, v] : headers)
      if (iequals(k, name)) {
        EXPECT_FALSE(found) << "header " << name << " twice";
        found = v;
      }
    return found;
  }
};

struct ModelOut {
  std::string id, family, display_name, capabilities, metadata_json;
};

// What a transform wrote through the apx_transform_writer.
struct Transformed {
  apx_status status = APX_OK;
  std::string output;
  std::vector<std::string> failures;
};

apx_transform_writer transform_writer(Transformed* sink) {
  apx_transform_writer w{};
  w.struct_size = sizeof(apx_transform_writer);
  w.ctx = sink;
  w.write = [](void* ctx, apx_str bytes) { static_cast<Transformed*>(ctx)->output.append(view(bytes)); };
  w.fail = [](void* ctx, apx_str message) { static_cast<Transformed*>(ctx)->failures.emplace_back(view(message)); };
  return w;
}

// One upstream call, as the host describes it to the plugin.
struct Call {
  uint32_t operation = APX_OP_CHAT_COMPLETIONS;
  std::string model = "claude-sonnet-4-5";
  std::string body;
  bool stream = false;
  std::string api_key = "sk-ant-call";

  apx_upstream_call c_struct() const {
    apx_upstream_call c{};
    c.struct_size = sizeof(apx_upstream_call);
    c.operation = operation;
    c.model_id = str(model);
    c.body = str(body);
    c.stream = stream ? 1 : 0;
    c.api_key = str(api_key);
    return c;
  }
};

class Adapter {
 public:
  explicit Adapter(const Spec& spec = Spec()) {
    vt_ = vtable();
    if (!vt_) return;
    std::vector<apx_kv> kv;
    for (const auto& [k, v] : spec.settings) kv.push_back({str(k), str(v)});
    apx_provider_config c{};
    c.struct_size = sizeof(apx_provider_config);
    c.id = str("claude");
    c.name = str("Claude");
    c.base_url = str(spec.base_url);
    c.api_key = str(spec.api_key);
    c.models_path = str(spec.models_path);
    c.settings = kv.data();
    c.settings_len = kv.size();
    status_ = vt_->create(nullptr, &c, &self_);
  }
  ~Adapter() {
    if (self_) vt_->destroy(self_);
  }
  Adapter(const Adapter&) = delete;
  Adapter& operator=(const Adapter&) = delete;

  apx_status create_status() const { return status_; }
  bool ok() const { return vt_ && status_ == APX_OK && self_; }

  apx_status build(const Call& call, Request* out) const {
    apx_upstream_call c = call.c_struct();
    *out = Request{};
    out->method = call.body.empty() ? "GET" : "POST";
    out->body = call.body;
    apx_request_writer w{};
    w.struct_size = sizeof(apx_request_writer);
    w.ctx = out;
    w.set_method = [](void* ctx, apx_str m) { static_cast<Request*>(ctx)->method = view(m); };
    w.set_url = [](void* ctx, apx_str u) { static_cast<Request*>(ctx)->url = view(u); };
    w.add_header = [](void* ctx, apx_str n, apx_str v) {
      static_cast<Request*>(ctx)->headers.emplace_back(view(n), view(v));
    };
    w.set_body = [](void* ctx, apx_str b) { static_cast<Request*>(ctx)->body = view(b); };
    return vt_->build_request(self_, &c, &w);
  }

  Request request(const Call& call) const {
    Request r;
    EXPECT_EQ(build(call, &r), APX_OK) << "operation " << call.operation;
    return r;
  }

  // The Messages body a chat body becomes.
  std::string chat(std::string_view chat_body, bool stream = false) const {
    Call call;
    call.body = std::string(chat_body);
    call.stream = stream;
    return request(call).body;
  }

  apx_status chat_status(std::string_view chat_body) const {
    Call call;
    call.body = std::string(chat_body);
    Request r;
    return build(call, &r);
  }

  apx_status parse_models(std::string_view body, std::vector<ModelOut>* out) const {
    apx_model_writer w{};
    w.struct_size = sizeof(apx_model_writer);
    w.ctx = out;
    w.add_model = [](void* ctx, const apx_model* m) {
      static_cast<std::vector<ModelOut>*>(ctx)->push_back(
          {std::string(view(m->model_id)), std::string(view(m->family)), std::string(view(m->display_name)),
           std::string(view(m->capabilities)), std::string(view(m->metadata_json))});
    };
    return vt_->parse_models(self_, str(body), &w);
  }

  apx_outcome classify(int status, std::string_view body = "{}") const {
    return vt_->classify_status(self_, status, str(body));
  }

  Transformed transform(const Call& call, int status, std::string_view body) const {
    Transformed t;
    apx_upstream_call c = call.c_struct();
    apx_transform_writer w = transform_writer(&t);
    t.status = vt_->transform_answer(self_, &c, status, str(body), &w);
    return t;
  }

  // One stream of `call`, driven step by step; closed when it goes.
  class StreamSession {
   public:
    StreamSession(const Adapter& adapter, Call call) : adapter_(adapter), call_(std::move(call)) {
      writer_ = transform_writer(&result);
      apx_upstream_call c = call_.c_struct();
      result.status = adapter_.vt_->stream_open(adapter_.self_, &c, &state_);
      if (result.status == APX_OK) {
        EXPECT_NE(state_, nullptr);
      }
    }
    ~StreamSession() {
      if (state_) adapter_.vt_->stream_close(adapter_.self_, state_);
    }
    StreamSession(const StreamSession&) = delete;
    StreamSession& operator=(const StreamSession&) = delete;

    bool open() const { return state_ != nullptr; }
    apx_status feed(std::string_view bytes) {
      return result.status = adapter_.vt_->stream_feed(adapter_.self_, state_, str(bytes), &writer_);
    }
    apx_status finish() { return result.status = adapter_.vt_->stream_finish(adapter_.self_, state_, &writer_); }

    Transformed result;

   private:
    const Adapter& adapter_;
    Call call_;
    apx_transform_writer writer_{};
    void* state_ = nullptr;
  };

  // Opens a stream for `call`, feeds `pieces` one after the other, then finishes (unless a
  // feed failed). `status` is the first failure, else the finish status.
  Transformed stream(const Call& call, const std::vector<std::string_view>& pieces) const {
    StreamSession session(*this, call);
    if (!session.open()) return session.result;
    for (std::string_view piece : pieces)
      if (session.feed(piece) != APX_OK) return session.result;
    session.finish();
    return session.result;
  }

 private:
  const apx_provider_vtable* vt_ = nullptr;
  void* self_ = nullptr;
  apx_status status_ = APX_ERR_INTERNAL;
};

constexpr std::string_view kStreamedChatBody =
    R"({"model":"claude","messages":[{"role":"user","content":"Hi"}],"stream":true})";

Call streamed_chat(std::string_view body = kStreamedChatBody) {
  Call call;
  call.body = std::string(body);
  call.stream = true;
  return call;
}

std::vector<std::string_view> one_piece(std::string_view s) { return {s}; }

std::vector<std::string_view> byte_by_byte(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < s.size(); ++i) out.push_back(s.substr(i, 1));
  return out;
}

std::vector<std::string_view> random_pieces(std::string_view s, std::mt19937& rng) {
  std::vector<std::string_view> out;
  std::uniform_int_distribution<size_t> len(0, 40);
  while (!s.empty()) {
    size_t n = std::min(s.size(), len(rng));
    out.push_back(s.substr(0, n));
    s.remove_prefix(n);
  }
  return out;
}

// The payloads of a chat stream's events ("data: X\n\n" each), in order.
std::vector<std::string> event_payloads(std::string_view stream) {
  std::vector<std::string> out;
  while (!stream.empty()) {
    size_t end = stream.find("\n\n");
    EXPECT_NE(end, std::string_view::npos) << "an event without its blank line: " << stream;
    if (end == std::string_view::npos) break;
    std::string_view event = stream.substr(0, end);
    EXPECT_EQ(event.substr(0, 6), "data: ") << event;
    out.emplace_back(event.substr(std::min<size_t>(6, event.size())));
    stream.remove_prefix(end + 2);
  }
  return out;
}

// Checks a chunk's `created` is the current time, then sets it to 0 so chunks compare.
std::string without_created(const std::string& chunk) {
  if (chunk == "[DONE]") return chunk;
  rapidjson::Document doc = parse(chunk);
  if (doc.HasParseError() || !doc.IsObject()) return chunk;
  auto it = doc.FindMember("created");
  if (it != doc.MemberEnd()) {
    EXPECT_TRUE(it->value.IsInt64()) << chunk;
    if (it->value.IsInt64()) {
      EXPECT_NEAR(double(it->value.GetInt64()), double(std::time(nullptr)), 60.0) << chunk;
    }
    it->value.SetInt(0);
  }
  return to_text(doc);
}

void expect_chunks(std::string_view stream, const std::vector<std::string>& expected) {
  std::vector<std::string> got = event_payloads(stream);
  ASSERT_EQ(got.size(), expected.size()) << stream;
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    if (expected[i] == "[DONE]")
      EXPECT_EQ(got[i], "[DONE]");
    else
      expect_json(without_created(got[i]), expected[i]);
  }
}

// ------------------------------------------------------------------ samples ----
// Written for this project: a chat turn answered by text, and one answered by a tool call.

constexpr std::string_view kTextStream =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01Gw7TextStream\",\"type\":\"message\","
    "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,"
    "\"stop_sequence\":null,\"usage\":{\"input_tokens\":31,\"cache_creation_input_tokens\":0,"
    "\"cache_read_input_tokens\":8,\"output_tokens\":1}}}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n"
    "\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Bonjour\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\", \\\"monde\\\" \xE2\x9C\x93\\n\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
    "\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
    "\"usage\":{\"output_tokens\":12}}\n"
    "\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n"
    "\n";

const std::vector<std::string> kTextChunks = {
    R"({"id":"chatcmpl-msg_01Gw7TextStream","object":"chat.completion.chunk","created":0,
        "model":"claude-sonnet-4-5-20250929",
        "choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})",
    R"({"id":"chatcmpl-msg_01Gw7TextStream","object":"chat.completion.chunk","created":0,
        "model":"claude-sonnet-4-5-20250929",
        "choices":[{"index":0,"delta":{"content":"Bonjour"},"finish_reason":null}]})",
    "{\"id\":\"chatcmpl-msg_01Gw7TextStream\",\"object\":\"chat.completion.chunk\",\"created\":0,"
    "\"model\":\"claude-sonnet-4-5-20250929\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\", \\\"monde\\\" \xE2\x9C\x93\\n\"},\"finish_reason\":null}]}",
    R"({"id":"chatcmpl-msg_01Gw7TextStream","object":"chat.completion.chunk","created":0,
        "model":"claude-sonnet-4-5-20250929",
        "choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
};

const std::string kTextUsageChunk =
    R"({"id":"chatcmpl-msg_01Gw7TextStream","object":"chat.completion.chunk","created":0,
        "model":"claude-sonnet-4-5-20250929","choices":[],
        "usage":{"prompt_tokens":39,"completion_tokens":12,"total_tokens":51}})";

constexpr std::string_view kToolStream =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01Gw7ToolStream\",\"type\":\"message\","
    "\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\",\"content\":[],\"stop_reason\":null,"
    "\"usage\":{\"input_tokens\":402,\"output_tokens\":2}}}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Checking.\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\","
    "\"id\":\"toolu_01FetchTide\",\"name\":\"tide_table\",\"input\":{}}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"{\\\"port\\\": \\\"Br\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"est\\\"}\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":1}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\","
    "\"id\":\"toolu_01FetchMoon\",\"name\":\"moon_phase\",\"input\":{}}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"{}\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":2}\n"
    "\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},"
    "\"usage\":{\"output_tokens\":77}}\n"
    "\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n"
    "\n";

std::string tool_chunk(std::string_view delta, std::string_view finish_reason = "null") {
  return R"({"id":"chatcmpl-msg_01Gw7ToolStream","object":"chat.completion.chunk","created":0,)"
         R"("model":"claude-haiku-4-5","choices":[{"index":0,"delta":)" +
         std::string(delta) + R"(,"finish_reason":)" + std::string(finish_reason) + "}]}";
}

const std::vector<std::string> kToolChunks = {
    tool_chunk(R"({"role":"assistant","content":""})"),
    tool_chunk(R"({"content":"Checking."})"),
    tool_chunk(R"({"tool_calls":[{"index":0,"id":"toolu_01FetchTide","type":"function",
                   "function":{"name":"tide_table","arguments":""}}]})"),
    tool_chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"port\": \"Br"}}]})"),
    tool_chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"est\"}"}}]})"),
    tool_chunk(R"({"tool_calls":[{"index":1,"id":"toolu_01FetchMoon","type":"function",
                   "function":{"name":"moon_phase","arguments":""}}]})"),
    tool_chunk(R"({"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]})"),
    tool_chunk("{}", R"("tool_calls")"),
    "[DONE]",
};

std::vector<std::string> with_done(std::vector<std::string> chunks) {
  chunks.push_back("[DONE]");
  return chunks;
}

// ================================================================== descriptor ====

TEST(AnthropicAdapter, DescriptorIsAnAbi13ProviderWithEveryTransformHook) {
  const apx_plugin_descriptor* d = descriptor();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->kind, uint32_t(APX_KIND_PROVIDER));
  EXPECT_EQ(view(d->name), "anthropic");
  EXPECT_EQ(view(d->version), "1.0.0");
  EXPECT_EQ(d->abi_major, 1u);
  EXPECT_EQ(d->abi_minor, 3u);
  const apx_provider_vtable* vt = vtable();
  ASSERT_NE(vt, nullptr);
  EXPECT_GE(vt->struct_size, offsetof(apx_provider_vtable, stream_close) + sizeof(vt->stream_close));
  EXPECT_TRUE(vt->create && vt->build_request && vt->parse_models && vt->classify_status && vt->destroy);
  EXPECT_TRUE(vt->transform_answer && vt->stream_open && vt->stream_feed && vt->stream_finish && vt->stream_close);
}

TEST(AnthropicAdapter, RefusesInvalidSettings) {
  auto status_with = [](std::vector<std::pair<std::string, std::string>> settings, std::string base = "https://x") {
    Spec spec;
    spec.base_url = std::move(base);
    spec.settings = std::move(settings);
    return Adapter(spec).create_status();
  };
  EXPECT_EQ(status_with({}), APX_OK);
  EXPECT_EQ(status_with({{"DEFAULT_MAX_TOKENS", "8192"}, {"ANTHROPIC_VERSION", "2023-06-01"}}), APX_OK);
  EXPECT_EQ(status_with({{"DEFAULT_MAX_TOKENS", "lots"}}), APX_ERR_INVALID);
  EXPECT_EQ(status_with({{"DEFAULT_MAX_TOKENS", "0"}}), APX_ERR_INVALID);
  EXPECT_EQ(status_with({{"DEFAULT_MAX_TOKENS", "-5"}}), APX_ERR_INVALID);
  EXPECT_EQ(status_with({{"DEFAULT_MAX_TOKENS", "99999999999999999999999"}}), APX_ERR_INVALID);
  EXPECT_EQ(status_with({{"MESSAGES_PATH", "v1/messages"}}), APX_ERR_INVALID);
  EXPECT_EQ(status_with({{"MESSAGES_PATH", "/v1/mess ages"}}), APX_ERR_INVALID);
  EXPECT_EQ(status_with({{"ANTHROPIC_VERSION", "2023-06-01\r\nx-evil: 1"}}), APX_ERR_INVALID);
  EXPECT_EQ(status_with({}, ""), APX_ERR_INVALID);
  Spec bad_key;
  bad_key.api_key = "sk-ant\r\nx-evil: 1";
  EXPECT_EQ(Adapter(bad_key).create_status(), APX_ERR_INVALID);
}

// ================================================================== requests ====

TEST(AnthropicAdapter, ListModelsAndHealthGetTheModelsPathWithTheCallsKey) {
  Adapter adapter;
  ASSERT_TRUE(adapter.ok());
  for (uint32_t op : {uint32_t(APX_OP_LIST_MODELS), uint32_t(APX_OP_HEALTH)}) {
    Call call;
    call.operation = op;
    call.model.clear();
    Request r = adapter.request(call);
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.url, "https://api.anthropic.com/v1/models");
    EXPECT_EQ(r.header("x-api-key"), "sk-ant-call");
    EXPECT_EQ(r.header("anthropic-version"), "2023-06-01");
    EXPECT_EQ(r.header("authorization"), std::nullopt);
    EXPECT_EQ(r.body, "");
  }
  // Without a per-call key (an older host): the configured one.
  Call call;
  call.operation = APX_OP_LIST_MODELS;
  call.api_key.clear();
  EXPECT_EQ(adapter.request(call).header("x-api-key"), "sk-ant-configured");
}

TEST(AnthropicAdapter, ModelsPathIsUsedAsGiven) {
  Spec spec;
  spec.models_path = "/models";
  Call call;
  call.operation = APX_OP_LIST_MODELS;
  EXPECT_EQ(Adapter(spec).request(call).url, "https://api.anthropic.com/models");
  spec.models_path = "";
  EXPECT_EQ(Adapter(spec).request(call).url, "https://api.anthropic.com/v1/models");
}

TEST(AnthropicAdapter, MessagesPassThroughUnchanged) {
  Spec spec;
  spec.settings = {{"ANTHROPIC_VERSION", "2024-10-22"}};
  Adapter adapter(spec);
  Call call;
  call.operation = APX_OP_MESSAGES;
  call.body = R"({"model":"claude-sonnet-4-5","max_tokens":64,  "messages":[{"role":"user","content":"Salut"}]})";
  Request r = adapter.request(call);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(r.body, call.body);
  EXPECT_EQ(r.header("x-api-key"), "sk-ant-call");
  EXPECT_EQ(r.header("anthropic-version"), "2024-10-22");
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("accept"), std::nullopt);
  call.stream = true;
  EXPECT_EQ(adapter.request(call).header("accept"), "text/event-stream");
  // Nothing to translate back for a native call.
  Transformed t = adapter.transform(call, 200, R"({"type":"message"})");
  EXPECT_EQ(t.status, APX_ERR_UNSUPPORTED);
  EXPECT_EQ(t.output, "");
  EXPECT_EQ(adapter.stream(call, one_piece(kTextStream)).status, APX_ERR_UNSUPPORTED);
}

TEST(AnthropicAdapter, MessagesPathSettingAndBaseUrlEndingInV1) {
  Spec v1;
  v1.base_url = "https://gateway.example/anthropic/v1";
  Call call;
  call.operation = APX_OP_MESSAGES;
  call.body = "{}";
  EXPECT_EQ(Adapter(v1).request(call).url, "https://gateway.example/anthropic/v1/messages");
  Spec custom;
  custom.settings = {{"MESSAGES_PATH", "/claude/messages"}};
  EXPECT_EQ(Adapter(custom).request(call).url, "https://api.anthropic.com/claude/messages");
}

TEST(AnthropicAdapter, OtherOperationsAreUnsupported) {
  Adapter adapter;
  for (uint32_t op : {uint32_t(APX_OP_COMPLETIONS), uint32_t(APX_OP_EMBEDDINGS), uint32_t(APX_OP_RESPONSES), 99u}) {
    Call call;
    call.operation = op;
    call.body = R"({"model":"m","input":"x"})";
    Request r;
    EXPECT_EQ(adapter.build(call, &r), APX_ERR_UNSUPPORTED) << op;
  }
}

// ======================================================= chat -> messages ====

TEST(AnthropicAdapter, ChatBecomesAMessagesPostWithHeaders) {
  Adapter adapter;
  Call call;
  call.body = R"({"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hi"}]})";
  Request r = adapter.request(call);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(r.header("x-api-key"), "sk-ant-call");
  EXPECT_EQ(r.header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(r.header("content-type"), "application/json");
  expect_json(r.body, R"({"model":"claude-sonnet-4-5","max_tokens":4096,
                          "messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]})");
}

TEST(AnthropicAdapter, ChatSystemSamplingStopAndUser) {
  Adapter adapter;
  std::string body = adapter.chat(R"({
    "model": "claude-sonnet-4-5",
    "messages": [
      {"role": "system", "content": "You are a ship's navigator."},
      {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
      {"role": "user", "content": "Quelle heure est la marée ?"}
    ],
    "temperature": 1.6, "top_p": 0.9, "stop": "\n\nFIN", "user": "crew-42",
    "presence_penalty": 0.5, "response_format": {"type": "text"}, "seed": 7, "n": 1
  })");
  expect_json(body, R"({
    "model": "claude-sonnet-4-5", "max_tokens": 4096,
    "system": "You are a ship's navigator.\n\nAnswer in French.",
    "messages": [{"role": "user", "content": [{"type": "text", "text": "Quelle heure est la marée ?"}]}],
    "temperature": 1.0, "top_p": 0.9, "stop_sequences": ["\n\nFIN"], "metadata": {"user_id": "crew-42"}
  })");
}

TEST(AnthropicAdapter, ChatMaxTokensStopArrayAndDefaultSetting) {
  Spec spec;
  spec.settings = {{"DEFAULT_MAX_TOKENS", "1000"}};
  Adapter adapter(spec);
  expect_json(adapter.chat(R"({"messages":[{"role":"user","content":"a"}],"stop":["END","","STOP"],
                               "temperature":0.25})"),
              R"({"model":"claude-sonnet-4-5","max_tokens":1000,"temperature":0.25,"stop_sequences":["END","STOP"],
                  "messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]})");
  expect_json(adapter.chat(R"({"messages":[{"role":"user","content":"a"}],"max_tokens":300})"),
              R"({"model":"claude-sonnet-4-5","max_tokens":300,
                  "messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]})");
  // max_completion_tokens supersedes max_tokens; negative temperatures clamp to 0.
  expect_json(adapter.chat(R"({"messages":[{"role":"user","content":"a"}],"max_tokens":300,
                               "max_completion_tokens":512,"temperature":-1})"),
              R"({"model":"claude-sonnet-4-5","max_tokens":512,"temperature":0.0,
                  "messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]})");
  EXPECT_EQ(adapter.chat_status(R"({"messages":[{"role":"user","content":"a"}],"max_tokens":0})"), APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(R"({"messages":[{"role":"user","content":"a"}],"max_tokens":"9"})"), APX_ERR_INVALID);
}

TEST(AnthropicAdapter, ChatStreamIsCopiedAndFollowsTheHost) {
  Adapter adapter;
  const std::string expected = R"({"model":"claude-sonnet-4-5","max_tokens":4096,"stream":true,
                                   "messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]})";
  expect_json(adapter.chat(R"({"messages":[{"role":"user","content":"a"}],"stream":true,
                               "stream_options":{"include_usage":true}})", true),
              expected);
  // Accept: text/event-stream without a `stream` field: the host streams, so must Anthropic.
  expect_json(adapter.chat(R"({"messages":[{"role":"user","content":"a"}]})", true), expected);
  Call call = streamed_chat();
  EXPECT_EQ(adapter.request(call).header("accept"), "text/event-stream");
}

TEST(AnthropicAdapter, ChatMergesConsecutiveTurnsOfOneRole) {
  Adapter adapter;
  std::string body = adapter.chat(R"({"messages":[
    {"role":"user","content":"First."},
    {"role":"user","content":[{"type":"text","text":"Second."},{"type":"text","text":"Third."}]},
    {"role":"assistant","content":"Noted."},
    {"role":"assistant","content":""},
    {"role":"assistant","content":"Anything else?"},
    {"role":"system","content":"Be brief."},
    {"role":"user","content":"No."}
  ]})");
  expect_json(body, R"({"model":"claude-sonnet-4-5","max_tokens":4096,"system":"Be brief.","messages":[
    {"role":"user","content":[{"type":"text","text":"First."},{"type":"text","text":"Second."},
                              {"type":"text","text":"Third."}]},
    {"role":"assistant","content":[{"type":"text","text":"Noted."},{"type":"text","text":"Anything else?"}]},
    {"role":"user","content":[{"type":"text","text":"No."}]}
  ]})");
}

TEST(AnthropicAdapter, ChatToolsAndToolChoice) {
  Adapter adapter;
  const std::string tools = R"("tools":[
    {"type":"function","function":{"name":"tide_table","description":"High and low tides of a port",
      "parameters":{"type":"object","properties":{"port":{"type":"string"}},"required":["port"]},"strict":true}},
    {"type":"function","function":{"name":"moon_phase"}}])";
  const std::string expected_tools = R"("tools":[
    {"name":"tide_table","description":"High and low tides of a port",
     "input_schema":{"type":"object","properties":{"port":{"type":"string"}},"required":["port"]}},
    {"name":"moon_phase","input_schema":{"type":"object","properties":{}}}])";
  auto translated = [&](const std::string& extra) {
    return adapter.chat(R"({"messages":[{"role":"user","content":"Tides?"}],)" + tools + extra + "}");
  };
  auto expected = [&](const std::string& extra) {
    return R"({"model":"claude-sonnet-4-5","max_tokens":4096,
               "messages":[{"role":"user","content":[{"type":"text","text":"Tides?"}]}],)" +
           expected_tools + extra + "}";
  };
  expect_json(translated(""), expected(""));
  expect_json(translated(R"(,"tool_choice":"auto")"), expected(R"(,"tool_choice":{"type":"auto"})"));
  expect_json(translated(R"(,"tool_choice":"required")"), expected(R"(,"tool_choice":{"type":"any"})"));
  expect_json(translated(R"(,"tool_choice":"none")"), expected(R"(,"tool_choice":{"type":"none"})"));
  expect_json(translated(R"(,"tool_choice":{"type":"function","function":{"name":"moon_phase"}})"),
              expected(R"(,"tool_choice":{"type":"tool","name":"moon_phase"})"));
  expect_json(translated(R"(,"parallel_tool_calls":false)"),
              expected(R"(,"tool_choice":{"type":"auto","disable_parallel_tool_use":true})"));
  expect_json(translated(R"(,"tool_choice":"required","parallel_tool_calls":false)"),
              expected(R"(,"tool_choice":{"type":"any","disable_parallel_tool_use":true})"));
  expect_json(translated(R"(,"parallel_tool_calls":true)"), expected(""));
  EXPECT_EQ(adapter.chat_status(R"({"messages":[{"role":"user","content":"x"}],)" + tools +
                                R"(,"tool_choice":"sometimes"})"),
            APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(R"({"messages":[{"role":"user","content":"x"}],
                                    "tools":[{"type":"code_interpreter"}]})"),
            APX_ERR_INVALID);
  // No tools: no tool_choice either (Anthropic refuses one alone).
  expect_json(adapter.chat(R"({"messages":[{"role":"user","content":"x"}],"tools":[],"tool_choice":"auto"})"),
              R"({"model":"claude-sonnet-4-5","max_tokens":4096,
                  "messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]})");
}

TEST(AnthropicAdapter, ChatToolRoundTrip) {
  Adapter adapter;
  std::string body = adapter.chat(R"({"messages":[
    {"role":"user","content":"Tide and moon at Brest?"},
    {"role":"assistant","content":null,"tool_calls":[
      {"id":"call_tide_1","type":"function","function":{"name":"tide_table","arguments":"{\"port\":\"Brest\"}"}},
      {"id":"call_moon_2","type":"function","function":{"name":"moon_phase","arguments":""}}]},
    {"role":"tool","tool_call_id":"call_tide_1","content":"High 06:12, low 12:30"},
    {"role":"tool","tool_call_id":"call_moon_2","content":[{"type":"text","text":"Waxing "},
                                                          {"type":"text","text":"gibbous"}]},
    {"role":"user","content":"Thanks, summarise."}
  ]})");
  expect_json(body, R"({"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[
    {"role":"user","content":[{"type":"text","text":"Tide and moon at Brest?"}]},
    {"role":"assistant","content":[
      {"type":"tool_use","id":"call_tide_1","name":"tide_table","input":{"port":"Brest"}},
      {"type":"tool_use","id":"call_moon_2","name":"moon_phase","input":{}}]},
    {"role":"user","content":[
      {"type":"tool_result","tool_use_id":"call_tide_1","content":"High 06:12, low 12:30"},
      {"type":"tool_result","tool_use_id":"call_moon_2","content":"Waxing gibbous"},
      {"type":"text","text":"Thanks, summarise."}]}
  ]})");

  auto with_arguments = [](std::string_view arguments_json) {
    return R"({"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[
      {"id":"c1","type":"function","function":{"name":"f","arguments":)" + std::string(arguments_json) + "}}]}]}";
  };
  Adapter strict;
  EXPECT_EQ(strict.chat_status(with_arguments(R"("{\"port\": ")")), APX_ERR_INVALID);  // cut short
  EXPECT_EQ(strict.chat_status(with_arguments(R"("[1,2]")")), APX_ERR_INVALID);       // not an object
  EXPECT_EQ(strict.chat_status(with_arguments("42")), APX_ERR_INVALID);
  EXPECT_EQ(strict.chat_status(R"({"messages":[{"role":"tool","content":"no id"}]})"), APX_ERR_INVALID);
}

TEST(AnthropicAdapter, ChatImages) {
  Adapter adapter;
  std::string body = adapter.chat(R"({"messages":[{"role":"user","content":[
    {"type":"text","text":"Which chart is newer?"},
    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==","detail":"high"}},
    {"type":"image_url","image_url":{"url":"https://charts.example/brest-2024.jpg"}}
  ]}]})");
  expect_json(body, R"({"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[{"role":"user","content":[
    {"type":"text","text":"Which chart is newer?"},
    {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgoAAAANSUhEUg=="}},
    {"type":"image","source":{"type":"url","url":"https://charts.example/brest-2024.jpg"}}
  ]}]})");
  auto image = [](std::string_view url) {
    return R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":")" +
           std::string(url) + R"("}}]}]})";
  };
  EXPECT_EQ(adapter.chat_status(image("ftp://charts.example/a.png")), APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(image("data:image/png,rawbytes")), APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(image("data:;base64,AAAA")), APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(R"({"messages":[{"role":"user","content":[{"type":"input_audio"}]}]})"),
            APX_ERR_INVALID);
}

TEST(AnthropicAdapter, ChatRequestsItCannotTranslate) {
  Adapter adapter;
  EXPECT_EQ(adapter.chat_status(R"({"messages":[{"role":"user","content":"a"}],"n":2})"), APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(R"({"messages":[{"role":"user","content":"a"}],"n":1})"), APX_OK);
  EXPECT_EQ(adapter.chat_status("not json"), APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status("[]"), APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(R"({"messages":[]})"), APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(R"({"messages":[{"role":"system","content":"only a system prompt"}]})"),
            APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(R"({"messages":[{"role":"wizard","content":"a"}]})"), APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(R"({"messages":[{"role":"user","content":42}]})"), APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(R"({"messages":[{"role":"user","content":"a"}],"temperature":"hot"})"),
            APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(R"({"messages":[{"role":"user","content":"a"}],"stop":[1]})"), APX_ERR_INVALID);
  EXPECT_EQ(adapter.chat_status(std::string(200, '[') + std::string(200, ']')), APX_ERR_INVALID);
  Call empty;
  Request r;
  EXPECT_EQ(adapter.build(empty, &r), APX_ERR_INVALID);
}

TEST(AnthropicAdapter, ChatTextIsEscapedNotPasted) {
  Adapter adapter;
  std::string body = adapter.chat(R"({"messages":[{"role":"user","content":"quote \" backslash \\ \u0001 end"}],
                                      "user":"a\"b"})");
  rapidjson::Document doc = parse(body);
  ASSERT_TRUE(doc.IsObject());
  EXPECT_EQ(std::string(doc["messages"][0]["content"][0]["text"].GetString()), "quote \" backslash \\ \x01 end");
  EXPECT_EQ(std::string(doc["metadata"]["user_id"].GetString()), "a\"b");
}

// ================================================================ parse_models ====

TEST(AnthropicAdapter, ParseModels) {
  Adapter adapter;
  const std::string long_id(300, 'c');
  std::string body = R"({"data":[
    {"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5",
     "created_at":"2025-09-29T00:00:00Z"},
    {"type":"model","id":"claude-haiku-4-5","display_name":"Claude Haiku 4.5","created_at":"2025-10-15T00:00:00Z"},
    {"type":"model","display_name":"no id"},
    {"type":"model","id":17},
    {"type":"model","id":"claude\u0007bell"},
    {"type":"model","id":")" + long_id + R"("},
    "not an entry"
  ],"has_more":false,"first_id":"claude-sonnet-4-5-20250929","last_id":"claude-haiku-4-5"})";
  std::vector<ModelOut> models;
  ASSERT_EQ(adapter.parse_models(body, &models), APX_OK);
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(models[0].id, "claude-sonnet-4-5-20250929");
  EXPECT_EQ(models[0].display_name, "Claude Sonnet 4.5");
  EXPECT_EQ(models[0].family, "claude-sonnet-4-5");
  EXPECT_EQ(models[0].capabilities, "chat,vision,function_calling");
  expect_json(models[0].metadata_json,
              R"({"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5",
                  "created_at":"2025-09-29T00:00:00Z"})");
  EXPECT_EQ(models[1].id, "claude-haiku-4-5");
  EXPECT_EQ(models[1].display_name, "Claude Haiku 4.5");

  models.clear();
  EXPECT_EQ(adapter.parse_models("<html>502</html>", &models), APX_ERR_INVALID);
  EXPECT_EQ(adapter.parse_models(R"({"models":[]})", &models), APX_ERR_INVALID);
  EXPECT_EQ(adapter.parse_models("", &models), APX_ERR_INVALID);
  EXPECT_TRUE(models.empty());
}

TEST(AnthropicAdapter, ClassifyStatus) {
  Adapter adapter;
  EXPECT_EQ(adapter.classify(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
            APX_OUTCOME_RETRYABLE);
  EXPECT_EQ(adapter.classify(429), APX_OUTCOME_HOST_RULE);
  EXPECT_EQ(adapter.classify(500), APX_OUTCOME_HOST_RULE);
  EXPECT_EQ(adapter.classify(400), APX_OUTCOME_HOST_RULE);
}

// ============================================================ transform_answer ====

Call chat_call() {
  Call call;
  call.body = R"({"model":"claude","messages":[{"role":"user","content":"Hi"}]})";
  return call;
}

std::string answer_with(std::string_view content, std::string_view stop_reason, std::string_view usage) {
  return R"({"id":"msg_01AnswerXyz","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",)"
         R"("content":)" + std::string(content) + R"(,"stop_reason":)" + std::string(stop_reason) +
         R"(,"stop_sequence":null,"usage":)" + std::string(usage) + "}";
}

TEST(AnthropicAdapter, TransformTextAnswer) {
  Adapter adapter;
  Transformed t = adapter.transform(
      chat_call(), 200,
      answer_with(R"([{"type":"thinking","thinking":"hm","signature":"x"},{"type":"text","text":"Bonjour, "},
                      {"type":"text","text":"monde."}])",
                  R"("end_turn")", R"({"input_tokens":21,"output_tokens":9})"));
  ASSERT_EQ(t.status, APX_OK) << (t.failures.empty() ? "" : t.failures[0]);
  expect_json(without_created(t.output), R"({
    "id":"chatcmpl-msg_01AnswerXyz","object":"chat.completion","created":0,"model":"claude-sonnet-4-5-20250929",
    "choices":[{"index":0,"message":{"role":"assistant","content":"Bonjour, monde."},"finish_reason":"stop"}],
    "usage":{"prompt_tokens":21,"completion_tokens":9,"total_tokens":30}})");
}

TEST(AnthropicAdapter, TransformToolUseAnswer) {
  Adapter adapter;
  Transformed t = adapter.transform(
      chat_call(), 200,
      answer_with(R"([{"type":"text","text":"Let me check."},
                      {"type":"tool_use","id":"toolu_01Tide","name":"tide_table","input":{"port":"Brest","days":2}},
                      {"type":"tool_use","id":"toolu_02Moon","name":"moon_phase","input":{}}])",
                  R"("tool_use")", R"({"input_tokens":400,"output_tokens":60})"));
  ASSERT_EQ(t.status, APX_OK);
  rapidjson::Document doc = parse(t.output);
  ASSERT_TRUE(doc.IsObject());
  const rapidjson::Value& message = doc["choices"][0]["message"];
  EXPECT_EQ(std::string(message["content"].GetString()), "Let me check.");
  // Arguments are JSON text: compared as parsed values.
  expect_json(message["tool_calls"][0]["function"]["arguments"].GetString(), R"({"port":"Brest","days":2})");
  expect_json(message["tool_calls"][1]["function"]["arguments"].GetString(), "{}");
  expect_json(without_created(t.output), R"({
    "id":"chatcmpl-msg_01AnswerXyz","object":"chat.completion","created":0,"model":"claude-sonnet-4-5-20250929",
    "choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":"Let me check.",
      "tool_calls":[
        {"id":"toolu_01Tide","type":"function","function":{"name":"tide_table","arguments":)" +
                                        to_text(message["tool_calls"][0]["function"]["arguments"]) + R"(}},
        {"id":"toolu_02Moon","type":"function","function":{"name":"moon_phase","arguments":"{}"}}]}}],
    "usage":{"prompt_tokens":400,"completion_tokens":60,"total_tokens":460}})");
  // Only tool calls: content is null.
  Transformed only_tools = adapter.transform(
      chat_call(), 200,
      answer_with(R"([{"type":"tool_use","id":"t","name":"f","input":{}}])", R"("tool_use")", "{}"));
  rapidjson::Document only = parse(only_tools.output);
  ASSERT_TRUE(only.IsObject());
  EXPECT_TRUE(only["choices"][0]["message"]["content"].IsNull());
}

TEST(AnthropicAdapter, TransformMapsEveryStopReason) {
  Adapter adapter;
  const std::pair<std::string, std::string> cases[] = {
      {R"("end_turn")", "stop"},         {R"("stop_sequence")", "stop"},  {R"("max_tokens")", "length"},
      {R"("tool_use")", "tool_calls"},   {R"("refusal")", "content_filter"}, {"null", "stop"},
  };
  for (const auto& [reason, finish] : cases) {
    Transformed t = adapter.transform(chat_call(), 200,
                                      answer_with(R"([{"type":"text","text":"x"}])", reason, R"({"input_tokens":1})"));
    ASSERT_EQ(t.status, APX_OK) << reason;
    rapidjson::Document doc = parse(t.output);
    ASSERT_TRUE(doc.IsObject());
    EXPECT_EQ(std::string(doc["choices"][0]["finish_reason"].GetString()), finish) << reason;
  }
}

TEST(AnthropicAdapter, TransformCountsCachedInputAsPrompt) {
  Adapter adapter;
  Transformed t = adapter.transform(
      chat_call(), 200,
      answer_with(R"([{"type":"text","text":"x"}])", R"("end_turn")",
                  R"({"input_tokens":5,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,
                      "output_tokens":7,"service_tier":"standard"})"));
  ASSERT_EQ(t.status, APX_OK);
  rapidjson::Document doc = parse(t.output);
  ASSERT_TRUE(doc.IsObject());
  expect_json(to_text(doc["usage"]), R"({"prompt_tokens":2105,"completion_tokens":7,"total_tokens":2112,
                                         "prompt_tokens_details":{"cached_tokens":2000}})");
}

TEST(AnthropicAdapter, TransformErrorBodies) {
  Adapter adapter;
  Transformed t = adapter.transform(
      chat_call(), 429,
      R"({"type":"error","error":{"type":"rate_limit_error",
          "message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_011"})");
  ASSERT_EQ(t.status, APX_OK);
  expect_json(t.output, R"({"error":{"message":"Number of request tokens has exceeded your per-minute rate limit",
                                     "type":"rate_limit_error","param":null,"code":null}})");

  Transformed html = adapter.transform(chat_call(), 502, "<html><body>Bad \"gateway\"</body></html>");
  ASSERT_EQ(html.status, APX_OK);
  expect_json(html.output, R"({"error":{"message":"the upstream answered HTTP 502 with an error this gateway )"
                           R"(could not read: <html><body>Bad \"gateway\"</body></html>",
                                        "type":"upstream_error","param":null,"code":null}})");

  // A long body with control bytes and broken UTF-8: quoted at most 200 bytes, as valid JSON.
  std::string garbage = "\xff\xfe\x01\x02 nope ";
  garbage += std::string(5000, 'z');
  Transformed junk = adapter.transform(chat_call(), 500, garbage);
  ASSERT_EQ(junk.status, APX_OK);
  rapidjson::Document doc = parse(junk.output);
  ASSERT_TRUE(doc.IsObject());
  std::string message = doc["error"]["message"].GetString();
  const std::string prefix = "the upstream answered HTTP 500 with an error this gateway could not read: ";
  ASSERT_EQ(message.substr(0, prefix.size()), prefix);
  EXPECT_EQ(message.substr(prefix.size()), "???? nope " + std::string(190, 'z') + "...");
  EXPECT_EQ(std::string(doc["error"]["type"].GetString()), "upstream_error");

  // JSON, but not Anthropic's error shape.
  Transformed other = adapter.transform(chat_call(), 503, R"({"message":"upstream connect error"})");
  rapidjson::Document o = parse(other.output);
  ASSERT_TRUE(o.IsObject());
  EXPECT_EQ(std::string(o["error"]["type"].GetString()), "upstream_error");
}

TEST(AnthropicAdapter, TransformRefusesA2xxThatIsNotAMessagesAnswer) {
  Adapter adapter;
  for (std::string_view body : {std::string_view("<html>ok</html>"), std::string_view(R"({"id":"x"})"),
                                std::string_view(R"({"type":"error","error":{"type":"api_error","message":"m"}})"),
                                std::string_view(R"([1,2,3])"), std::string_view("")}) {
    Transformed t = adapter.transform(chat_call(), 200, body);
    EXPECT_EQ(t.status, APX_ERR_INVALID) << body;
    ASSERT_EQ(t.failures.size(), 1u) << body;
    EXPECT_NE(t.failures[0].find("not an Anthropic Messages answer"), std::string::npos) << t.failures[0];
  }
}

// ===================================================================== streams ====

TEST(AnthropicAdapter, StreamOpensOnlyForStreamedChat) {
  Adapter adapter;
  EXPECT_EQ(adapter.stream(chat_call(), {}).status, APX_ERR_UNSUPPORTED);  // not streamed
  Call messages = streamed_chat();
  messages.operation = APX_OP_MESSAGES;
  EXPECT_EQ(adapter.stream(messages, {}).status, APX_ERR_UNSUPPORTED);
}

TEST(AnthropicAdapter, TextStreamInOnePieceAndByteByByte) {
  Adapter adapter;
  Transformed whole = adapter.stream(streamed_chat(), one_piece(kTextStream));
  ASSERT_EQ(whole.status, APX_OK) << (whole.failures.empty() ? "" : whole.failures[0]);
  expect_chunks(whole.output, with_done(kTextChunks));
  Transformed bytes = adapter.stream(streamed_chat(), byte_by_byte(kTextStream));
  ASSERT_EQ(bytes.status, APX_OK);
  std::vector<std::string> a = event_payloads(whole.output), b = event_payloads(bytes.output);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(without_created(a[i]), without_created(b[i]));
}

TEST(AnthropicAdapter, StreamWritesEachEventAsSoonAsItIsWhole) {
  Adapter adapter;
  Adapter::StreamSession session(adapter, streamed_chat());
  ASSERT_TRUE(session.open());
  size_t blank_line = kTextStream.find("\n\n") + 1;
  ASSERT_EQ(session.feed(kTextStream.substr(0, blank_line)), APX_OK);
  EXPECT_EQ(session.result.output, "");  // message_start's blank line has not come yet
  ASSERT_EQ(session.feed(kTextStream.substr(blank_line, 1)), APX_OK);
  EXPECT_EQ(event_payloads(session.result.output).size(), 1u);
  size_t second_delta = kTextStream.rfind("event: content_block_delta");
  ASSERT_EQ(session.feed(kTextStream.substr(blank_line + 1, second_delta - blank_line - 1)), APX_OK);
  EXPECT_EQ(event_payloads(session.result.output).size(), 2u);  // ... "Bonjour", before the stream ends
}

TEST(AnthropicAdapter, StreamWithCrLfAndRandomSplitsGivesTheSameChunks) {
  Adapter adapter;
  std::string crlf;
  for (char c : kTextStream) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  expect_chunks(adapter.stream(streamed_chat(), one_piece(crlf)).output, with_done(kTextChunks));
  std::mt19937 rng(1234);
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::string_view source = round % 2 ? std::string_view(crlf) : kTextStream;
    Transformed t = adapter.stream(streamed_chat(), random_pieces(source, rng));
    ASSERT_EQ(t.status, APX_OK);
    expect_chunks(t.output, with_done(kTextChunks));
  }
}

// The stream as the SSE spec reads it: comments, id/retry fields, an event's data over two
// lines (joined with a line feed), CR-only line ends, and no `event:` line (the data's type counts).
TEST(AnthropicAdapter, StreamFollowsTheSseSpec) {
  Adapter adapter;
  const std::string stream =
      ": keep-alive comment\r"
      "id: 1\rretry: 3000\r"
      "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_Sse\",\"model\":\"claude-x\",\r"
      "data: \"usage\":{\"input_tokens\":3}}}\r\r"
      "event: content_block_delta\r"
      "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}\r\r"
      "data:{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":2}}\r\r"
      "event: message_stop\rdata: {\"type\":\"message_stop\"}\r\r";
  auto chunk = [](std::string_view delta, std::string_view finish) {
    return R"({"id":"chatcmpl-msg_Sse","object":"chat.completion.chunk","created":0,"model":"claude-x",)"
           R"("choices":[{"index":0,"delta":)" + std::string(delta) + R"(,"finish_reason":)" + std::string(finish) +
           "}]}";
  };
  const std::vector<std::string> expected = {chunk(R"({"role":"assistant","content":""})", "null"),
                                             chunk(R"({"content":"ok"})", "null"), chunk("{}", R"("length")"),
                                             R"({"id":"chatcmpl-msg_Sse","object":"chat.completion.chunk","created":0,
                                                 "model":"claude-x","choices":[],
                                                 "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})",
                                             "[DONE]"};
  Call call = streamed_chat(R"({"messages":[],"stream_options":{"include_usage":true}})");
  expect_chunks(adapter.stream(call, one_piece(stream)).output, expected);
  expect_chunks(adapter.stream(call, byte_by_byte(stream)).output, expected);
}

TEST(AnthropicAdapter, StreamIncludesUsageOnlyWhenAsked) {
  Adapter adapter;
  Call asked = streamed_chat(
      R"({"model":"c","messages":[{"role":"user","content":"Hi"}],"stream":true,)"
      R"("stream_options":{"include_usage":true}})");
  std::vector<std::string> expected = kTextChunks;
  expected.push_back(kTextUsageChunk);
  expect_chunks(adapter.stream(asked, byte_by_byte(kTextStream)).output, with_done(expected));
  Call declined = streamed_chat(
      R"({"model":"c","messages":[{"role":"user","content":"Hi"}],"stream":true,)"
      R"("stream_options":{"include_usage":false}})");
  expect_chunks(adapter.stream(declined, one_piece(kTextStream)).output, with_done(kTextChunks));
}

TEST(AnthropicAdapter, ToolUseStream) {
  Adapter adapter;
  Transformed whole = adapter.stream(streamed_chat(), one_piece(kToolStream));
  ASSERT_EQ(whole.status, APX_OK) << (whole.failures.empty() ? "" : whole.failures[0]);
  expect_chunks(whole.output, kToolChunks);
  expect_chunks(adapter.stream(streamed_chat(), byte_by_byte(kToolStream)).output, kToolChunks);
  Call usage = streamed_chat(R"({"messages":[],"stream_options":{"include_usage":true}})");
  std::vector<std::string> payloads = event_payloads(adapter.stream(usage, one_piece(kToolStream)).output);
  ASSERT_EQ(payloads.size(), kToolChunks.size() + 1);
  rapidjson::Document u = parse(payloads[payloads.size() - 2]);
  ASSERT_TRUE(u.IsObject());
  expect_json(to_text(u["usage"]), R"({"prompt_tokens":402,"completion_tokens":77,"total_tokens":479})");
}

TEST(AnthropicAdapter, StreamErrorEventEndsTheStream) {
  Adapter adapter;
  std::string stream = std::string(kTextStream.substr(0, kTextStream.find("event: content_block_delta"))) +
                       "event: error\n"
                       "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                       "\"message\":\"Overloaded\"}}\n"
                       "\n" +
                       std::string(kTextStream.substr(kTextStream.find("event: content_block_delta")));
  for (const auto& pieces : {one_piece(stream), byte_by_byte(stream)}) {
    Transformed t = adapter.stream(streamed_chat(), pieces);
    EXPECT_EQ(t.status, APX_OK);
    EXPECT_TRUE(t.failures.empty());
    std::vector<std::string> payloads = event_payloads(t.output);
    ASSERT_EQ(payloads.size(), 2u) << t.output;  // the role chunk, then the error; nothing after
    expect_json(payloads[1], R"({"error":{"message":"Overloaded","type":"overloaded_error"}})");
  }
}

TEST(AnthropicAdapter, StreamEndingBeforeMessageStopFails) {
  Adapter adapter;
  std::string_view cut = kTextStream.substr(0, kTextStream.find("event: message_stop"));
  Transformed t = adapter.stream(streamed_chat(), one_piece(cut));
  EXPECT_EQ(t.status, APX_ERR_INVALID);
  ASSERT_EQ(t.failures.size(), 1u);
  EXPECT_EQ(t.failures[0], "the upstream's stream ended before message_stop");
  // Everything before the end was still written.
  EXPECT_EQ(event_payloads(t.output).size(), 3u);
  // A last event without its blank line still counts.
  std::string_view no_blank = kTextStream.substr(0, kTextStream.size() - 1);
  Transformed lenient = adapter.stream(streamed_chat(), one_piece(no_blank));
  EXPECT_EQ(lenient.status, APX_OK);
  expect_chunks(lenient.output, with_done(kTextChunks));
}

TEST(AnthropicAdapter, StreamRefusesOversizedEventsAndGarbage) {
  Adapter adapter;
  std::string huge = "data: \"" + std::string(1024 * 1024 + 10, 'a');
  Transformed t = adapter.stream(streamed_chat(), one_piece(huge));
  EXPECT_EQ(t.status, APX_ERR_INVALID);
  ASSERT_EQ(t.failures.size(), 1u);
  EXPECT_NE(t.failures[0].find("larger than"), std::string::npos) << t.failures[0];
  // Also when it arrives in small pieces (no single feed is large).
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < huge.size(); i += 4096) pieces.push_back(std::string_view(huge).substr(i, 4096));
  EXPECT_EQ(adapter.stream(streamed_chat(), pieces).status, APX_ERR_INVALID);

  Transformed not_json = adapter.stream(streamed_chat(), one_piece("event: message_start\ndata: {nope\n\n"));
  EXPECT_EQ(not_json.status, APX_ERR_INVALID);
  EXPECT_EQ(not_json.failures.size(), 1u);
  Transformed early = adapter.stream(
      streamed_chat(),
      one_piece("data: {\"type\":\"content_block_delta\",\"index\":0,"
                "\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n"));
  EXPECT_EQ(early.status, APX_ERR_INVALID);
}

TEST(AnthropicAdapter, TruncatedAndRandomStreamsNeverCrash) {
  Adapter adapter;
  // Every prefix of both samples: finishes with OK (complete) or a failure with a message.
  for (std::string_view sample : {kTextStream, kToolStream}) {
    for (size_t n = 0; n <= sample.size(); n += 7) {
      Transformed t = adapter.stream(streamed_chat(), one_piece(sample.substr(0, n)));
      if (t.status != APX_OK) {
        EXPECT_EQ(t.status, APX_ERR_INVALID) << n;
        EXPECT_EQ(t.failures.size(), 1u) << n;
      }
      for (const std::string& payload : event_payloads(t.output))
        if (payload != "[DONE]") {
          EXPECT_FALSE(parse(payload).HasParseError()) << payload;
        }
    }
  }
  // Random bytes, and the samples with random bytes flipped.
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 200; ++round) {
    std::string input;
    if (round % 2) {
      input.assign(round % 4 == 1 ? kTextStream : kToolStream);
      for (int k = 0; k < 5; ++k) input[rng() % input.size()] = char(byte(rng));
    } else {
      input.resize(rng() % 3000);
      for (char& c : input) c = char(byte(rng));
    }
    Transformed t = adapter.stream(streamed_chat(), random_pieces(input, rng));
    EXPECT_TRUE(t.status == APX_OK || t.status == APX_ERR_INVALID) << t.status;
    for (const std::string& payload : event_payloads(t.output))
      if (payload != "[DONE]") {
        EXPECT_FALSE(parse(payload).HasParseError());
      }
  }
}

}  // namespace
