// Fuzzes the translation between client APIs and upstream formats (issue 13): the core's
// translation of Messages and Responses requests to chat completions and of chat answers and
// streams back (core/translate/client_translation.hpp), and the anthropic adapter plugin's
// translation of chat requests to Messages and of Messages answers and streams to chat,
// loaded by the host's plugin loader and called through the C ABI (ProviderAdapter).
//
// Input: a target byte (its value modulo 9), then what the target reads:
//   0 messages_request, 1 responses_request   the client's body
//   2 messages_answer, 3 responses_answer     a status byte, then the upstream's chat answer
//   4 messages_stream, 5 responses_stream     a stream control byte (below), then the chat SSE bytes
//   6 plugin_request                          bit 0 of a byte: the call streams; then a chat body
//   7 plugin_answer                           a status byte, then the upstream's Messages answer
//   8 plugin_stream                           a stream control byte, then the Messages SSE bytes
// A status byte picks one of kStatuses (modulo 32; bit 5 on a responses_answer: the answer
// echoes a full request). A stream control byte: bits 0-3 the count of piece-length bytes
// that follow (each 1 + its value; cycled; none: one piece), bit 4 the Responses echo of a
// full request / the plugin's call asks for the usage chunk.
//
// Checked, besides the sanitizers:
//  * a request translated: parse_json accepts it, an object with `messages` (an array) and
//    the client's `model` string (absent when the client sent none), streaming when the
//    client asked, then with stream_options.include_usage (the gateway's accounting needs it);
//  * an answer translated: JSON, with a status in 200..599;
//  * a stream: the host's cutting at whole events (complete_sse_events) into stream(), then
//    finish(); each output run is whole `event: NAME\ndata: JSON\n\n` events forming the
//    stream the translator promises (support/stream_checks.hpp), ended after finish();
//  * the plugin: a built request's body is a JSON object naming the call's model with a
//    max_tokens count and the messages; a transformed answer is a JSON object; a stream's
//    every output run is whole `data: JSON|[DONE]\n\n` events, ended when finish() succeeds;
//    a plugin refuses what it cannot read (APX_ERR_INVALID), it never fails (INTERNAL/throw).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "core/common/json_parse.hpp"
#include "core/config/environment.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/plugins/provider_adapter.hpp"
#include "core/telemetry/logging.hpp"
#include "core/translate/client_translation.hpp"
#include "core/upstream/sse_events.hpp"
#include "tests/fuzz/support/stream_checks.hpp"

namespace {

using namespace apiproxy;
using fuzz::json_member;
using fuzz::require;

enum Target : uint8_t {
  kMessagesRequest,
  kResponsesRequest,
  kMessagesAnswer,
  kResponsesAnswer,
  kMessagesStream,
  kResponsesStream,
  kPluginRequest,
  kPluginAnswer,
  kPluginStream,
  kTargetCount,
};

// Upstream statuses the host may hand on (it never passes one outside 100..599), the
// common ones and the edges of each class.
constexpr int kStatuses[32] = {200, 201, 204, 206, 299, 100, 101, 199, 300, 302, 304, 399, 400, 401, 403, 404,
                               408, 409, 413, 422, 429, 451, 499, 500, 501, 502, 503, 504, 520, 529, 598, 599};

// A Responses request whose echo fills every field the Response object repeats.
constexpr std::string_view kFullResponsesRequest =
    R"({"model":"gpt-4.1-mini","instructions":"Answer briefly.","input":"Weather in Oslo?",)"
    R"("max_output_tokens":300,"temperature":0.3,"top_p":0.9,"user":"u-81","parallel_tool_calls":false,)"
    R"("tools":[{"type":"function","name":"get_weather","description":"Current weather",)"
    R"("parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],)"
    R"("tool_choice":"auto","metadata":{"ticket":"T-1042"}})";

// The chat request a plugin call carries (the physical model is the call's).
constexpr std::string_view kPluginModel = "claude-sonnet-4-5";
constexpr std::string_view kChatRequest =
    R"({"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hi"}],"stream":true})";
constexpr std::string_view kChatRequestWithUsage =
    R"({"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hi"}],"stream":true,)"
    R"("stream_options":{"include_usage":true}})";

// Reads the input front to back: control bytes first (0 once it is used up), then the rest.
class Input {
 public:
  explicit Input(std::string_view bytes) : bytes_(bytes) {}
  uint8_t byte() {
    if (bytes_.empty()) return 0;
    auto b = static_cast<uint8_t>(bytes_.front());
    bytes_.remove_prefix(1);
    return b;
  }
  std::string_view rest() const { return bytes_; }

 private:
  std::string_view bytes_;
};

// Where the input cuts a stream: the lengths of its pieces, cycled.
class PieceLengths {
 public:
  PieceLengths(Input& in, uint8_t count) {
    for (uint8_t i = 0; i < count; ++i) lengths_.push_back(1 + size_t{in.byte()});
  }
  // Calls on_piece with each piece of `text` in order (the whole text when no length is given).
  template <class OnPiece>
  void split(std::string_view text, OnPiece on_piece) const {
    for (size_t i = 0; !text.empty(); ++i) {
      size_t n = lengths_.empty() ? text.size() : std::min(text.size(), lengths_[i % lengths_.size()]);
      if (!on_piece(text.substr(0, n))) return;
      text.remove_prefix(n);
    }
  }

 private:
  std::vector<size_t> lengths_;
};

// The host's cutting of a relayed stream (core/dataplane/sse_framer.cpp): whole events are
// handed on as they complete; at the end, the unfinished rest with the blank line it lacks.
class WholeEvents {
 public:
  // The events `piece` completes; false when the unfinished one outgrew the host's limit
  // (the host then ends the stream with an error of its own).
  bool next(std::string_view piece, std::string& whole) {
    pending_.append(piece);
    size_t n = complete_sse_events(pending_);
    whole.assign(pending_, 0, n);
    pending_.erase(0, n);
    return pending_.size() <= kMaxSseEventBytes;
  }
  std::string finish() {
    if (pending_.empty()) return {};
    return pending_ + (pending_.back() == '\n' ? "\n" : "\n\n");
  }

 private:
  std::string pending_;
};

// --- Core translation ------------------------------------------------------------------------

void fuzz_request(ClientApi api, std::string_view body) {
  auto translated = translate_request_to_chat(api, body);
  if (!translated) return;
  require(translated->translator != nullptr);
  const std::string* chat = &translated->chat_body;
  rapidjson::Document in, out;
  require(!parse_json(in, body) && in.IsObject());  // the translation accepted it
  require(!parse_json(out, *chat) && out.IsObject());
  const rapidjson::Value* client_model = json_member(in, "model");
  const rapidjson::Value* model = json_member(out, "model");
  if (client_model && client_model->IsString())
    require(model && model->IsString() && *model == *client_model);
  else
    require(!model);
  const rapidjson::Value* messages = json_member(out, "messages");
  require(messages && messages->IsArray());
  const rapidjson::Value* asked = json_member(in, "stream");
  const rapidjson::Value* stream = json_member(out, "stream");
  if (asked && asked->IsTrue()) {
    require(stream && stream->IsTrue());
    const rapidjson::Value* options = json_member(out, "stream_options");
    require(options && json_member(*options, "include_usage") && json_member(*options, "include_usage")->IsTrue());
  } else {
    require(!stream || stream->IsFalse());
  }
}

// The answer translation of a request: a minimal one, or (Responses) one whose answer
// repeats many request fields.
std::unique_ptr<ClientTranslation> translation_for(ClientApi api, bool full) {
  std::string_view request = api == ClientApi::OpenAIResponses
                                 ? (full ? kFullResponsesRequest : std::string_view(R"({"model":"m","input":"x"})"))
                                 : std::string_view(R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}]})");
  auto translated = translate_request_to_chat(api, request);
  require(translated.ok());
  return translated->translator->for_attempt();
}

void fuzz_answer(ClientApi api, Input& in) {
  uint8_t control = in.byte();
  auto translation = translation_for(api, control & 0x20);
  auto answer = translation->answer(kStatuses[control % 32], in.rest());
  require(answer.status >= 200 && answer.status <= 599);
  rapidjson::Document doc;
  require(!parse_json(doc, answer.body));
}

template <class Check>
void fuzz_stream(ClientApi api, Input& in) {
  uint8_t control = in.byte();
  PieceLengths pieces(in, control & 0x0f);
  auto translation = translation_for(api, control & 0x10);
  Check check;
  WholeEvents framer;
  std::string whole, out;
  bool framed = true;
  pieces.split(in.rest(), [&](std::string_view piece) {
    framed = framer.next(piece, whole);
    if (!framed) return false;
    out.clear();
    if (!whole.empty()) translation->stream(whole, out);
    check.check(out);
    return true;
  });
  if (!framed) return;
  out.clear();
  std::string rest = framer.finish();
  if (!rest.empty()) translation->stream(rest, out);
  translation->finish(out);
  check.check(out);
  check.check_finished();
}

// --- The anthropic plugin --------------------------------------------------------------------

struct Plugin {
  std::shared_ptr<const PluginRegistry> registry;  // keeps the library loaded
  std::shared_ptr<const ProviderAdapter> adapter;
};

const Plugin& anthropic_plugin() {
  static const Plugin loaded = [] {
    telemetry::configure_logging("off", false);
    Plugin p;
    p.registry = PluginRegistry::load(APIPROXY_FUZZ_PLUGIN_DIR, Environment());
    auto lib = p.registry->provider_plugin("anthropic");
    require(lib != nullptr);  // the build must have produced and accepted the plugin
    ProviderConfig config;
    config.id = "fuzz_anthropic";
    config.name = "Fuzz anthropic";
    config.base_url = "http://127.0.0.1:9";
    config.api_key = "fuzz-key";
    config.adapter = "anthropic";
    auto adapter = ProviderAdapter::create(lib, config);
    require(adapter.ok());
    p.adapter = adapter.value();
    require(p.adapter->transforms_answers());
    return p;
  }();
  return loaded;
}

// A plugin may refuse what it cannot read; failing any other way (APX_ERR_INTERNAL, an
// exception across the ABI) means untrusted bytes broke it.
void require_refusal(const std::string& error) {
  require(error.find("APX_ERR_INTERNAL") == std::string::npos && error.find("threw") == std::string::npos);
}

void fuzz_plugin_request(Input& in) {
  bool stream = in.byte() & 1;
  UpstreamCall call{APX_OP_CHAT_COMPLETIONS, kPluginModel, {}, stream, 0};
  auto request = anthropic_plugin().adapter->build_request(call, std::string(in.rest()));
  if (!request) return require_refusal(request.error());
  rapidjson::Document body;
  require(!parse_json(body, request->body) && body.IsObject());
  const rapidjson::Value* model = json_member(body, "model");
  require(fuzz::json_string_is(model, kPluginModel));
  require(fuzz::json_is_uint(json_member(body, "max_tokens")));
  const rapidjson::Value* messages = json_member(body, "messages");
  require(messages && messages->IsArray());
  if (stream) require(json_member(body, "stream") && json_member(body, "stream")->IsTrue());
  require(request->method == "POST" && !request->url.empty());
}

void fuzz_plugin_answer(Input& in) {
  int status = kStatuses[in.byte() % 32];
  UpstreamCall call{APX_OP_CHAT_COMPLETIONS, kPluginModel, kChatRequest, false, 0};
  auto answer = anthropic_plugin().adapter->transform_answer(call, status, in.rest());
  if (!answer) return require_refusal(answer.error());
  require(answer->has_value());  // it transforms every answer to a chat call
  rapidjson::Document doc;
  require(!parse_json(doc, **answer) && doc.IsObject());
}

void fuzz_plugin_stream(Input& in) {
  uint8_t control = in.byte();
  PieceLengths pieces(in, control & 0x0f);
  UpstreamCall call{APX_OP_CHAT_COMPLETIONS, kPluginModel, control & 0x10 ? kChatRequestWithUsage : kChatRequest, true,
                    0};
  auto stream = anthropic_plugin().adapter->open_stream(call);
  require(stream != nullptr);
  fuzz::ChatStreamCheck check;
  std::string out;
  bool fed = true;
  pieces.split(in.rest(), [&](std::string_view piece) {
    out.clear();
    auto status = stream->feed(piece, out);
    if (!status) {
      require_refusal(status.error());
      return fed = false;
    }
    check.check(out);
    return true;
  });
  if (!fed) return;
  out.clear();
  auto status = stream->finish(out);
  if (!status) return require_refusal(status.error());
  check.check(out);
  check.check_finished();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  anthropic_plugin();  // load before fuzzing starts, so the plugin's coverage counters are registered
  require(translate_request_to_chat(ClientApi::OpenAIResponses, kFullResponsesRequest).ok());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(std::string_view(reinterpret_cast<const char*>(data), size));
  switch (static_cast<Target>(in.byte() % kTargetCount)) {
    case kMessagesRequest: fuzz_request(ClientApi::AnthropicMessages, in.rest()); break;
    case kResponsesRequest: fuzz_request(ClientApi::OpenAIResponses, in.rest()); break;
    case kMessagesAnswer: fuzz_answer(ClientApi::AnthropicMessages, in); break;
    case kResponsesAnswer: fuzz_answer(ClientApi::OpenAIResponses, in); break;
    case kMessagesStream: fuzz_stream<fuzz::MessagesStreamCheck>(ClientApi::AnthropicMessages, in); break;
    case kResponsesStream: fuzz_stream<fuzz::ResponsesStreamCheck>(ClientApi::OpenAIResponses, in); break;
    case kPluginRequest: fuzz_plugin_request(in); break;
    case kPluginAnswer: fuzz_plugin_answer(in); break;
    case kPluginStream: fuzz_plugin_stream(in); break;
    case kTargetCount: break;
  }
  return 0;
}
