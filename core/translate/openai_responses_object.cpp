#include "core/translate/openai_responses_object.hpp"

#include <chrono>
#include <random>

namespace apiproxy::translate::responses_object {

using json_pieces::put_string;

std::string new_id(std::string_view prefix) {
  // Ids only need to be unique, not secret: a per-thread generator seeded once is enough.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string id(prefix);
  for (int word = 0; word < 2; ++word) {
    uint64_t bits = generator();
    for (int i = 0; i < 16; ++i, bits >>= 4) id.push_back(kDigits[bits & 15]);
  }
  return id;
}

int64_t now_seconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

void put_raw(JsonWriter& w, std::string_view json) {
  if (json.empty()) {
    w.Null();
    return;
  }
  // The type only tells the writer whether a root value was written; the text is this code's own.
  rapidjson::Type type = json[0] == '{'   ? rapidjson::kObjectType
                         : json[0] == '[' ? rapidjson::kArrayType
                         : json[0] == '"' ? rapidjson::kStringType
                                          : rapidjson::kNumberType;
  w.RawValue(json.data(), json.size(), type);
}

std::string_view incomplete_reason_for(std::string_view finish_reason) {
  if (finish_reason == "length") return "max_output_tokens";
  if (finish_reason == "content_filter") return "content_filter";
  return {};
}

namespace {

// A count of a usage object: a whole number, else 0 (counts come from an upstream).
uint64_t count_member(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = json_pieces::any_member(object, name);
  return v && v->IsUint64() ? v->GetUint64() : 0;
}

const rapidjson::Value* object_member(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = json_pieces::any_member(object, name);
  return v && v->IsObject() ? v : nullptr;
}

}  // namespace

std::optional<TokenCounts> read_chat_usage(const rapidjson::Value& usage) {
  if (!usage.IsObject()) return std::nullopt;
  TokenCounts counts;
  counts.input = count_member(usage, "prompt_tokens");
  counts.output = count_member(usage, "completion_tokens");
  counts.total = count_member(usage, "total_tokens");
  if (counts.total == 0) counts.total = counts.input + counts.output;
  if (const auto* details = object_member(usage, "prompt_tokens_details"))
    counts.cached = count_member(*details, "cached_tokens");
  if (const auto* details = object_member(usage, "completion_tokens_details"))
    counts.reasoning = count_member(*details, "reasoning_tokens");
  return counts;
}

void write_text_part(JsonWriter& w, std::string_view text) {
  w.StartObject();
  w.Key("type");
  w.String("output_text");
  w.Key("text");
  put_string(w, text);
  w.Key("annotations");
  w.StartArray();
  w.EndArray();
  w.EndObject();
}

namespace {

void write_message_content(JsonWriter& w, const OutputItem& item) {
  w.StartArray();
  // A refusal alone is the whole answer; text, even empty, is written otherwise.
  if (!item.refusal || !item.text.empty()) write_text_part(w, item.text);
  if (item.refusal) {
    w.StartObject();
    w.Key("type");
    w.String("refusal");
    w.Key("refusal");
    put_string(w, *item.refusal);
    w.EndObject();
  }
  w.EndArray();
}

void write_usage(JsonWriter& w, const std::optional<TokenCounts>& usage) {
  if (!usage) {
    w.Null();
    return;
  }
  w.StartObject();
  w.Key("input_tokens");
  w.Uint64(usage->input);
  w.Key("input_tokens_details");
  w.StartObject();
  w.Key("cached_tokens");
  w.Uint64(usage->cached);
  w.EndObject();
  w.Key("output_tokens");
  w.Uint64(usage->output);
  w.Key("output_tokens_details");
  w.StartObject();
  w.Key("reasoning_tokens");
  w.Uint64(usage->reasoning);
  w.EndObject();
  w.Key("total_tokens");
  w.Uint64(usage->total);
  w.EndObject();
}

template <class T, class Put>
void put_optional(JsonWriter& w, const std::optional<T>& value, Put put_value) {
  if (value)
    put_value(*value);
  else
    w.Null();
}

}  // namespace

void write_output_item(JsonWriter& w, const OutputItem& item, std::string_view status, bool with_content) {
  w.StartObject();
  w.Key("id");
  put_string(w, item.id);
  if (item.kind == OutputItem::Kind::Message) {
    w.Key("type");
    w.String("message");
    w.Key("status");
    put_string(w, status);
    w.Key("role");
    w.String("assistant");
    w.Key("content");
    if (with_content) {
      write_message_content(w, item);
    } else {
      w.StartArray();
      w.EndArray();
    }
  } else {
    w.Key("type");
    w.String("function_call");
    w.Key("status");
    put_string(w, status);
    w.Key("call_id");
    put_string(w, item.call_id);
    w.Key("name");
    put_string(w, item.name);
    w.Key("arguments");
    put_string(w, item.arguments);
  }
  w.EndObject();
}

namespace {

// The request's settings as the Response object repeats them.
void write_request_echo(JsonWriter& w, const ResponsesRequestEcho& request) {
  w.Key("instructions");
  put_optional(w, request.instructions, [&](const std::string& s) { put_string(w, s); });
  w.Key("max_output_tokens");
  put_optional(w, request.max_output_tokens, [&](uint64_t n) { w.Uint64(n); });
  w.Key("metadata");
  put_raw(w, request.metadata_json);
  w.Key("parallel_tool_calls");
  w.Bool(request.parallel_tool_calls);
  // Nothing is stored: a later previous_response_id naming this response would be refused.
  w.Key("previous_response_id");
  w.Null();
  w.Key("reasoning");
  w.StartObject();
  w.Key("effort");
  w.Null();
  w.Key("summary");
  w.Null();
  w.EndObject();
  w.Key("store");
  w.Bool(false);
  w.Key("temperature");
  put_optional(w, request.temperature, [&](double d) { w.Double(d); });
  w.Key("text");
  w.StartObject();
  w.Key("format");
  put_raw(w, request.text_format_json);
  w.EndObject();
  w.Key("tool_choice");
  put_raw(w, request.tool_choice_json);
  w.Key("tools");
  put_raw(w, request.tools_json);
  w.Key("top_p");
  put_optional(w, request.top_p, [&](double d) { w.Double(d); });
  w.Key("truncation");
  w.String("disabled");
  w.Key("user");
  put_optional(w, request.user, [&](const std::string& s) { put_string(w, s); });
}

}  // namespace

void write_response(JsonWriter& w, const ResponseSnapshot& response, const ResponsesRequestEcho& request) {
  w.StartObject();
  w.Key("id");
  put_string(w, response.id);
  w.Key("object");
  w.String("response");
  w.Key("created_at");
  w.Int64(response.created_at);
  w.Key("status");
  put_string(w, response.status);
  w.Key("error");
  w.Null();
  w.Key("incomplete_details");
  if (response.status == "incomplete") {
    w.StartObject();
    w.Key("reason");
    put_string(w, response.incomplete_reason);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("model");
  put_string(w, response.model.empty() ? request.model : response.model);
  w.Key("output");
  w.StartArray();
  // Items are complete once the response is; an in_progress snapshot lists none.
  for (const auto& item : response.output) write_output_item(w, item, "completed");
  w.EndArray();
  write_request_echo(w, request);
  w.Key("usage");
  write_usage(w, response.usage);
  w.EndObject();
}

std::string_view error_type_for_status(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

}  // namespace apiproxy::translate::responses_object
