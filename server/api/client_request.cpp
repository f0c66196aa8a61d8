#include "server/api/client_request.hpp"

#include <algorithm>
#include <vector>

#include "core/common/identifiers.hpp"
#include "core/common/json_parse.hpp"

namespace apiproxy {

namespace {

std::string_view view(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// The first key that appears twice at the top level, if any. The gateway reads the first
// occurrence, an upstream might honour the last: a body with both is refused outright.
std::optional<std::string_view> duplicate_key(const rapidjson::Value& object) {
  if (object.MemberCount() <= 16) {  // the usual body: a few keys, compared without allocating
    for (auto a = object.MemberBegin(); a != object.MemberEnd(); ++a)
      for (auto b = a + 1; b != object.MemberEnd(); ++b)
        if (view(a->name) == view(b->name)) return view(a->name);
    return std::nullopt;
  }
  std::vector<std::string_view> keys;
  keys.reserve(object.MemberCount());
  for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) keys.push_back(view(m->name));
  std::sort(keys.begin(), keys.end());
  auto twice = std::adjacent_find(keys.begin(), keys.end());
  if (twice == keys.end()) return std::nullopt;
  return *twice;
}

RequestProblem invalid_session(std::string_view where) {
  return {std::string(where) + " must be 1 to " + std::to_string(kMaxSessionIdBytes) +
              " printable ASCII characters without spaces",
          "invalid_session_id", where == "X-Session-Id" ? "" : "conversation_id"};
}

}  // namespace

std::variant<ClientRequest, RequestProblem> read_client_request(std::string& text, apx_operation op,
                                                                std::string_view session_header) {
  ClientRequest r;
  if (auto why = parse_json_in_place(r.body, text))
    return RequestProblem{"the request body is not valid JSON: " + *why, "invalid_json", ""};
  if (!r.body.IsObject()) return RequestProblem{"the request body must be a JSON object", "invalid_json", ""};
  if (auto key = duplicate_key(r.body))
    return RequestProblem{"the key '" + std::string(key->substr(0, 64)) + "' appears more than once",
                          "duplicate_key", std::string(key->substr(0, 64))};

  auto model = r.body.FindMember("model");
  if (model == r.body.MemberEnd() || !model->value.IsString() || model->value.GetStringLength() == 0)
    return RequestProblem{"'model' is required and must be a non-empty string", "missing_model", "model"};
  if (!is_valid_model_name(view(model->value)))
    return RequestProblem{"'model' must be 1 to " + std::to_string(kMaxModelNameBytes) +
                              " printable ASCII characters",
                          "invalid_model", "model"};
  r.model = std::string(view(model->value));

  auto stream = r.body.FindMember("stream");
  if (stream != r.body.MemberEnd() && !stream->value.IsNull()) {
    if (!stream->value.IsBool())
      return RequestProblem{"'stream' must be true or false", "invalid_type", "stream"};
    r.stream = stream->value.GetBool() && op != APX_OP_EMBEDDINGS;
  }

  for (const char* field : {"max_tokens", "max_completion_tokens"}) {
    auto it = r.body.FindMember(field);
    if (it != r.body.MemberEnd() && it->value.IsUint64()) r.max_output_tokens = it->value.GetUint64();
  }

  auto conv = r.body.FindMember("conversation_id");
  if (conv != r.body.MemberEnd() && conv->value.IsNull()) {
    r.body.RemoveMember(conv);
  } else if (conv != r.body.MemberEnd()) {
    if (!conv->value.IsString() || !is_valid_session_id(view(conv->value))) return invalid_session("conversation_id");
    r.session_id = std::string(view(conv->value));
    r.body.RemoveMember(conv);  // ours, not the upstream's: OpenAI rejects unknown fields
  }
  if (!session_header.empty()) {
    if (!is_valid_session_id(session_header)) return invalid_session("X-Session-Id");
    r.session_id = std::string(session_header);
  }
  return r;
}

}  // namespace apiproxy
