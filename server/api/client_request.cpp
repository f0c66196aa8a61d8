#include "server/api/client_request.hpp"

#include <algorithm>
#include <vector>

#include "core/common/identifiers.hpp"
#include "core/common/json_parse.hpp"

namespace apiproxy {

namespace {

// The first key that appears twice, if any. The gateway reads the first occurrence, an
// upstream might honour the last: a body with both is refused outright.
std::optional<std::string_view> duplicate_key(const std::vector<JsonMember>& members) {
  if (members.size() <= 16) {  // the usual body: a few keys, compared without allocating
    for (size_t a = 0; a < members.size(); ++a)
      for (size_t b = a + 1; b < members.size(); ++b)
        if (members[a].key == members[b].key) return members[a].key;
    return std::nullopt;
  }
  std::vector<std::string_view> keys;
  keys.reserve(members.size());
  for (const auto& m : members) keys.push_back(m.key);
  std::sort(keys.begin(), keys.end());
  auto twice = std::adjacent_find(keys.begin(), keys.end());
  if (twice == keys.end()) return std::nullopt;
  return *twice;
}

const JsonMember* find(const std::vector<JsonMember>& members, std::string_view key) {
  for (const auto& m : members)
    if (m.key == key) return &m;
  return nullptr;
}

RequestProblem invalid_session(std::string_view where) {
  return {std::string(where) + " must be 1 to " + std::to_string(kMaxSessionIdBytes) +
              " printable ASCII characters without spaces",
          "invalid_session_id", where == "X-Session-Id" ? "" : "conversation_id"};
}

ClientApi api_of(apx_operation op) {
  if (op == APX_OP_MESSAGES) return ClientApi::AnthropicMessages;
  if (op == APX_OP_RESPONSES) return ClientApi::OpenAIResponses;
  return ClientApi::OpenAIChat;
}

std::optional<RequestProblem> scan_body(std::string_view text, std::vector<JsonMember>& members) {
  auto why = scan_members(text, members);
  if (!why) return std::nullopt;
  if (*why == kJsonNotAnObject) return RequestProblem{"the request body must be a JSON object", "invalid_json", ""};
  return RequestProblem{"the request body is not valid JSON: " + *why, "invalid_json", ""};
}

// A client that sent no `stream` but accepts only server-sent events gets a stream: the
// body says so to the upstream too (one more scan, only for such a client).
std::optional<RequestProblem> stream_for_accept(std::string& text, std::vector<JsonMember>& members) {
  size_t brace = text.find('{');
  text.insert(brace + 1, members.empty() ? R"("stream":true)" : R"("stream":true,)");
  return scan_body(text, members);
}

// The request as chat completions, for upstreams that speak only that.
std::optional<RequestProblem> attach_chat_form(ProxyRequest& r, std::string_view text) {
  auto chat = translate_request_to_chat(r.api, text);
  if (!chat) return RequestProblem{chat.error(), "invalid_request", ""};
  std::vector<JsonMember> members;
  if (auto problem = scan_body(chat->chat_body, members)) return problem;
  const JsonMember* model = find(members, "model");
  if (!model || model->kind != JsonKind::String) return RequestProblem{"'model' is required", "missing_model", "model"};
  Span model_value = model->value;
  r.chat_body = RequestBody(std::move(chat->chat_body), model_value);
  r.translator = std::move(chat->translator);
  return std::nullopt;
}

}  // namespace

std::variant<ProxyRequest, RequestProblem> read_client_request(std::string text, apx_operation op,
                                                               ClientRequestContext context) {
  // Scanned on every request: the member list keeps its capacity on this thread.
  thread_local std::vector<JsonMember> members;
  if (auto problem = scan_body(text, members)) return *problem;
  if (context.accepts_event_stream && op != APX_OP_EMBEDDINGS && !find(members, "stream"))
    if (auto problem = stream_for_accept(text, members)) return *problem;
  if (auto key = duplicate_key(members))
    return RequestProblem{"the key '" + std::string(key->substr(0, 64)) + "' appears more than once",
                          "duplicate_key", std::string(key->substr(0, 64))};

  ProxyRequest r;
  r.op = op;
  r.api = api_of(op);
  const JsonMember* model = find(members, "model");
  if (!model || model->kind != JsonKind::String || model->string.empty())
    return RequestProblem{"'model' is required and must be a non-empty string", "missing_model", "model"};
  if (!is_valid_model_name(model->string))
    return RequestProblem{"'model' must be 1 to " + std::to_string(kMaxModelNameBytes) +
                              " printable ASCII characters",
                          "invalid_model", "model"};
  r.model = model->string;

  if (const JsonMember* stream = find(members, "stream"); stream && stream->kind != JsonKind::Null) {
    if (stream->kind != JsonKind::Bool)
      return RequestProblem{"'stream' must be true or false", "invalid_type", "stream"};
    r.stream = stream->boolean && op != APX_OP_EMBEDDINGS;
  }
  std::optional<StreamUsagePlan> usage;
  // A translated stream asks for usage itself; a native Messages or Responses stream
  // reports it anyway.
  if (r.stream && r.api == ClientApi::OpenAIChat) usage = plan_stream_usage(text, members);

  for (const char* field : {"max_tokens", "max_completion_tokens", "max_output_tokens"})
    if (const JsonMember* m = find(members, field); m && m->uint) r.max_output_tokens = m->uint;

  std::optional<Span> cut;
  if (const JsonMember* conv = find(members, "conversation_id")) {
    if (conv->kind != JsonKind::Null) {
      if (conv->kind != JsonKind::String || !is_valid_session_id(conv->string)) return invalid_session("conversation_id");
      r.session_id = conv->string;
    }
    // Ours, not the upstream's: OpenAI rejects unknown fields.
    cut = member_cut(text, members, static_cast<size_t>(conv - members.data()));
  }
  if (!context.session_header.empty()) {
    if (!is_valid_session_id(context.session_header)) return invalid_session("X-Session-Id");
    r.session_id = std::string(context.session_header);
  }
  if (r.api != ClientApi::OpenAIChat) {
    if (auto problem = attach_chat_form(r, text)) return *problem;
    r.native_headers = std::move(context.native_headers);
  }
  r.body = RequestBody(std::move(text), model->value, cut);
  if (usage) {
    r.stream_usage = usage->usage;
    if (usage->edit) r.body.edit(std::move(*usage->edit));
  }
  return r;
}

}  // namespace apiproxy
