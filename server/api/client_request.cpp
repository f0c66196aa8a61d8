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

}  // namespace

std::variant<ProxyRequest, RequestProblem> read_client_request(std::string text, apx_operation op,
                                                               std::string_view session_header) {
  // Scanned on every request: the member list keeps its capacity on this thread.
  thread_local std::vector<JsonMember> members;
  if (auto why = scan_members(text, members)) {
    if (*why == kJsonNotAnObject)
      return RequestProblem{"the request body must be a JSON object", "invalid_json", ""};
    return RequestProblem{"the request body is not valid JSON: " + *why, "invalid_json", ""};
  }
  if (auto key = duplicate_key(members))
    return RequestProblem{"the key '" + std::string(key->substr(0, 64)) + "' appears more than once",
                          "duplicate_key", std::string(key->substr(0, 64))};

  ProxyRequest r;
  r.op = op;
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
  if (r.stream) usage = plan_stream_usage(text, members);

  for (const char* field : {"max_tokens", "max_completion_tokens"})
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
  if (!session_header.empty()) {
    if (!is_valid_session_id(session_header)) return invalid_session("X-Session-Id");
    r.session_id = std::string(session_header);
  }
  r.body = RequestBody(std::move(text), model->value, cut);
  if (usage) {
    r.stream_usage = usage->usage;
    if (usage->edit) r.body.edit(std::move(*usage->edit));
  }
  return r;
}

}  // namespace apiproxy
