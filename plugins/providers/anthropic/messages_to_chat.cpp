#include "messages_to_chat.hpp"

#include <apiproxy/plugin.hpp>

#include "anthropic_answer_fields.hpp"
#include "anthropic_json.hpp"

#include <optional>

namespace anthropic {

namespace answer_translation {

using rapidjson::Value;

constexpr size_t kMaxQuotedErrorBytes = 200;

[[noreturn]] void refuse(const std::string& why) {
  throw apx::InvalidInput("the upstream's answer is not an Anthropic Messages answer: " + why);
}

// The text blocks joined, or nullopt when there is none.
std::optional<std::string> joined_text(const Value& content) {
  std::optional<std::string> text;
  for (const Value& block : content.GetArray()) {
    if (string_member(block, "type") != "text") continue;
    std::optional<std::string_view> piece = string_member(block, "text");
    if (!piece) refuse("a text block has no string \"text\"");
    if (!text) text.emplace();
    text->append(*piece);
  }
  return text;
}

std::string json_text(const Value& v) {
  rapidjson::StringBuffer buffer;
  JsonWriter out(buffer);
  v.Accept(out);
  return std::string(written(buffer));
}

// tool_use blocks as an OpenAI tool_calls array; nothing when there is none.
void write_tool_calls(JsonWriter& out, const Value& content) {
  bool started = false;
  for (const Value& block : content.GetArray()) {
    if (string_member(block, "type") != "tool_use") continue;
    std::optional<std::string_view> id = string_member(block, "id");
    std::optional<std::string_view> name = string_member(block, "name");
    const Value* input = find_member(block, "input");
    if (!id || !name || input == nullptr) refuse("a tool_use block lacks its id, name or input");
    if (!started) {
      out.Key("tool_calls");
      out.StartArray();
      started = true;
    }
    out.StartObject();
    out.Key("id");
    write_string(out, *id);
    out.Key("type");
    out.String("function");
    out.Key("function");
    out.StartObject();
    out.Key("name");
    write_string(out, *name);
    out.Key("arguments");
    write_string(out, json_text(*input));
    out.EndObject();
    out.EndObject();
  }
  if (started) out.EndArray();
}

void write_choice(JsonWriter& out, const Value& answer, const Value& content) {
  out.StartObject();
  out.Key("index");
  out.Uint(0);
  out.Key("message");
  out.StartObject();
  out.Key("role");
  out.String("assistant");
  out.Key("content");
  if (std::optional<std::string> text = joined_text(content))
    write_string(out, *text);
  else
    out.Null();
  write_tool_calls(out, content);
  out.EndObject();
  out.Key("finish_reason");
  write_string(out, chat_finish_reason(string_member(answer, "stop_reason").value_or("end_turn")));
  out.EndObject();
}

void write_usage(JsonWriter& out, const Value& answer) {
  const Value* usage = find_member(answer, "usage");
  if (usage == nullptr || !usage->IsObject()) return;
  MessagesUsage counts = read_messages_usage(*usage);
  uint64_t prompt = counts.input_tokens.value_or(0), completion = counts.output_tokens.value_or(0);
  out.Key("usage");
  out.StartObject();
  out.Key("prompt_tokens");
  out.Uint64(prompt);
  out.Key("completion_tokens");
  out.Uint64(completion);
  out.Key("total_tokens");
  out.Uint64(prompt + completion);
  if (counts.cache_read_input_tokens) {
    out.Key("prompt_tokens_details");
    out.StartObject();
    out.Key("cached_tokens");
    out.Uint64(*counts.cache_read_input_tokens);
    out.EndObject();
  }
  out.EndObject();
}

void write_error_envelope(JsonWriter& out, std::string_view message, std::string_view type) {
  out.StartObject();
  out.Key("error");
  out.StartObject();
  out.Key("message");
  write_string(out, message);
  out.Key("type");
  write_string(out, type);
  out.Key("param");
  out.Null();
  out.Key("code");
  out.Null();
  out.EndObject();
  out.EndObject();
}

}  // namespace answer_translation

std::string messages_answer_to_chat(std::string_view body, std::string_view fallback_model, int64_t created) {
  using namespace answer_translation;
  rapidjson::Document doc;
  if (auto why = parse_untrusted_json(body, doc)) refuse("the body " + *why);
  const Value& answer = doc;
  if (!answer.IsObject()) refuse("the body is not a JSON object");
  std::optional<std::string_view> type = string_member(answer, "type");
  std::optional<std::string_view> id = string_member(answer, "id");
  const Value* content = find_member(answer, "content");
  if ((type && *type != "message") || !id || content == nullptr || !content->IsArray())
    refuse("it needs type \"message\", a string id and a content array");
  std::string_view model = string_member(answer, "model").value_or(fallback_model);

  rapidjson::StringBuffer buffer;
  JsonWriter out(buffer);
  out.StartObject();
  out.Key("id");
  write_string(out, "chatcmpl-" + std::string(*id));
  out.Key("object");
  out.String("chat.completion");
  out.Key("created");
  out.Int64(created);
  out.Key("model");
  write_string(out, model);
  out.Key("choices");
  out.StartArray();
  write_choice(out, answer, *content);
  out.EndArray();
  write_usage(out, answer);
  out.EndObject();
  return std::string(written(buffer));
}

std::string messages_error_to_chat(int http_status, std::string_view body) {
  using namespace answer_translation;
  rapidjson::StringBuffer buffer;
  JsonWriter out(buffer);
  rapidjson::Document doc;
  if (!parse_untrusted_json(body, doc)) {
    const Value& root = doc;
    const Value* error = find_member(root, "error");
    std::optional<std::string_view> message = error ? string_member(*error, "message") : std::nullopt;
    std::optional<std::string_view> type = error ? string_member(*error, "type") : std::nullopt;
    if (string_member(root, "type") == "error" && message && type) {
      write_error_envelope(out, *message, *type);
      return std::string(written(buffer));
    }
  }
  std::string message = "the upstream answered HTTP " + std::to_string(http_status) +
                        " with an error this gateway could not read: " +
                        printable_excerpt(body, kMaxQuotedErrorBytes);
  write_error_envelope(out, message, "upstream_error");
  return std::string(written(buffer));
}

}  // namespace anthropic
