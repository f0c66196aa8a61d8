// Fuzzes the data plane's reading of a client's JSON body (server/api/client_request.hpp):
// the scan, the nesting limit, the in-place rewrite of `model`, and the validation of everything the gateway
// reads (model, stream, session id, token limits).
//
// Input: the X-Session-Id header value, a newline, then the body ("" header when there is
// no newline). Each body is read for every operation, and an accepted one is turned into
// the body the gateway sends upstream. The harness checks what read_client_request
// promises about an accepted request. A Messages or Responses body (APX_OP_MESSAGES,
// APX_OP_RESPONSES) is read twice more, from a client that accepts only an event stream and
// from one that does not: its accepted request must also carry `chat_body`, the request
// translated to chat completions (core/translate), a JSON object naming the same model
// (then the model each attempt sends), streaming exactly when the request streams, without
// the gateway's conversation_id, and with no NUL byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <rapidjson/document.h>

#include "core/dataplane/usage_request.hpp"
#include "server/api/client_request.hpp"

namespace {

using namespace apiproxy;

void require(bool ok) {
  if (!ok) __builtin_trap();  // a broken promise: libFuzzer saves the input
}

bool printable_ascii(std::string_view s, char lowest) {
  for (char c : s)
    if (c < lowest || c > '~') return false;
  return true;
}

// The model name the gateway puts into headers, logs and metric labels.
bool valid_model(std::string_view s) { return !s.empty() && s.size() <= 256 && printable_ascii(s, ' '); }
// A session id: no spaces, bounded (core/common/identifiers.hpp).
bool valid_session(std::string_view s) { return s.size() <= 128 && printable_ascii(s, '!'); }

void check_accepted(const ProxyRequest& r, apx_operation op) {
  require(valid_model(r.model));
  require(valid_session(r.session_id));
  if (op == APX_OP_EMBEDDINGS) require(!r.stream);

  // What the gateway sends upstream: the client's bytes with the model swapped,
  // conversation_id cut, and — for a stream the gateway asks usage for — stream_options
  // with include_usage true. It must be one valid JSON object (UTF-8 validated: nothing
  // malformed goes on) naming the new model, without conversation_id, and with every
  // other top-level key the client sent.
  for (std::string_view model : {"m", "a\"b\\c"}) {
    std::string sent = r.body.for_model(model);
    require(sent.find('\0') == std::string::npos);  // RapidJSON below would stop at one
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(sent.data(), sent.size());
    require(!doc.HasParseError() && doc.IsObject());
    require(doc.HasMember("model") && doc["model"].IsString() && doc["model"].GetString() == std::string(model));
    require(!doc.HasMember("conversation_id"));
    rapidjson::Document original;
    original.Parse(r.body.text().data(), r.body.text().size());
    require(original.IsObject());
    unsigned expected = original.MemberCount() - (original.HasMember("conversation_id") ? 1 : 0);
    if (r.stream_usage == StreamUsage::Added) {
      require(r.stream);
      if (!original.HasMember("stream_options")) ++expected;
      require(doc.HasMember("stream_options") && doc["stream_options"].IsObject());
      const auto& options = doc["stream_options"];
      require(options.HasMember("include_usage") && options["include_usage"].IsTrue());
    }
    require(doc.MemberCount() == expected);
  }
}

bool parses_to_object(std::string_view text, rapidjson::Document& doc) {
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
  return !doc.HasParseError() && doc.IsObject();
}

bool string_member_is(const rapidjson::Document& doc, const char* name, std::string_view expected) {
  auto it = doc.FindMember(name);
  return it != doc.MemberEnd() && it->value.IsString() &&
         std::string_view(it->value.GetString(), it->value.GetStringLength()) == expected;
}

// A Messages or Responses request (check_accepted holds too): the chat completions form
// the gateway sends to an upstream that speaks only that.
void check_translated(const ProxyRequest& r, bool event_stream_only) {
  require(r.api == (r.op == APX_OP_MESSAGES ? ClientApi::AnthropicMessages : ClientApi::OpenAIResponses));
  require(r.stream_usage != StreamUsage::Added);  // a translated stream asks for usage itself
  require(r.chat_body.has_value() && r.translator != nullptr);
  rapidjson::Document chat;
  std::string_view text = r.chat_body->text();
  require(text.find('\0') == std::string_view::npos && parses_to_object(text, chat));
  require(string_member_is(chat, "model", r.model));
  require(!chat.HasMember("conversation_id"));
  const rapidjson::Value& root = chat;
  auto stream = root.FindMember("stream");
  bool chat_streams = stream != root.MemberEnd() && stream->value.IsTrue();
  require(chat_streams == r.stream);
  // A client that accepts only events and named no `stream` gets a stream.
  rapidjson::Document original;
  require(parses_to_object(r.body.text(), original));
  if (event_stream_only) require(original.HasMember("stream"));
  for (std::string_view model : {"m", "a\"b\\c"}) {
    std::string sent = r.chat_body->for_model(model);
    require(sent.find('\0') == std::string::npos && parses_to_object(sent, chat));
    require(string_member_is(chat, "model", model));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view header = newline == std::string_view::npos ? std::string_view() : input.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? input : input.substr(newline + 1);

  for (apx_operation op : {APX_OP_LIST_MODELS, APX_OP_CHAT_COMPLETIONS, APX_OP_COMPLETIONS,
                           APX_OP_EMBEDDINGS, APX_OP_HEALTH}) {
    auto result = read_client_request(std::string(body), op, header);
    if (auto* accepted = std::get_if<ProxyRequest>(&result)) check_accepted(*accepted, op);
  }
  for (apx_operation op : {APX_OP_MESSAGES, APX_OP_RESPONSES}) {
    for (bool event_stream_only : {false, true}) {
      ClientRequestContext context(header);
      context.accepts_event_stream = event_stream_only;
      auto result = read_client_request(std::string(body), op, context);
      auto* accepted = std::get_if<ProxyRequest>(&result);
      if (!accepted) continue;
      check_accepted(*accepted, op);
      check_translated(*accepted, event_stream_only);
    }
  }
  return 0;
}
