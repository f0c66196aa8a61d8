// A whole chat completions answer -> a Messages answer, and the Anthropic error bodies
// (see anthropic_messages.hpp).
#include <optional>
#include <random>
#include <string>

#include "core/common/json_parse.hpp"
#include "core/common/text.hpp"
#include "core/common/utf8.hpp"
#include "core/translate/anthropic_messages.hpp"
#include "core/translate/json_pieces.hpp"

namespace apiproxy::translate {

namespace anthropic_messages_answer {

using rapidjson::Value;
using namespace json_pieces;

// An error message quoting an upstream's body keeps its start only: the body may be a whole
// HTML error page.
constexpr size_t kMaxQuotedBodyBytes = 1024;

constexpr std::string_view kNotAChatCompletion = "the upstream's answer is not a chat completion";

// A token count: a whole non-negative number, else 0 (it comes from the upstream).
uint64_t count_of(const Value* usage, const char* name) {
  const Value* v = usage ? given_member(*usage, name) : nullptr;
  return v && v->IsUint64() ? v->GetUint64() : 0;
}

// The message of an error answer: from the OpenAI envelope {"error":{"message":...}} (or the
// looser {"error":"..."} and {"message":"..."} some compatible servers send), else the body's text.
std::string upstream_error_message(int status, std::string_view body) {
  rapidjson::Document doc;
  if (!parse_json(doc, body) && doc.IsObject()) {
    const Value* error = given_member(doc, "error");
    if (error && error->IsString()) return std::string(text_of(*error));
    const Value* message = error ? given_string(*error, "message") : nullptr;
    if (message) return std::string(text_of(*message));
    message = given_string(doc, "message");
    if (message) return std::string(text_of(*message));
  }
  std::string_view text = trim_space(body);
  if (text.empty()) return "the upstream answered with status " + std::to_string(status);
  std::string message = to_valid_utf8(text.substr(0, kMaxQuotedBodyBytes));
  if (text.size() > kMaxQuotedBodyBytes) message += "...";
  return message;
}

// A chat completion's text: a string, or (some compatible servers) an array of text parts.
// A refusal is text the client should see too.
std::string text_of_message(const Value& message) {
  std::string text;
  const Value* content = given_member(message, "content");
  if (content && content->IsString()) {
    text = text_of(*content);
  } else if (content && content->IsArray()) {
    for (const Value& part : content->GetArray())
      if (const Value* piece = given_string(part, "text")) text += text_of(*piece);
  }
  if (text.empty())
    if (const Value* refusal = given_string(message, "refusal")) text = text_of(*refusal);
  return text;
}

// A tool_use block for a call {id, function:{name, arguments}} (or the legacy function_call,
// which has no id). Anthropic's input is an object: arguments that are not the text of a JSON
// object (broken JSON from the model, or another JSON value) become {}, since the client could
// not use them as input anyway and must still get a readable answer.
void write_tool_use_block(const Value* id, const Value& function, JsonWriter& w) {
  w.StartObject();
  w.Key("type");
  w.String("tool_use");
  w.Key("id");
  put_string(w, id ? std::string(text_of(*id)) : generated_id("toolu_"));
  w.Key("name");
  const Value* name = given_string(function, "name");
  put_string(w, name ? text_of(*name) : std::string_view());
  w.Key("input");
  rapidjson::Document input;
  const Value* arguments = given_string(function, "arguments");
  if (arguments && !parse_json(input, text_of(*arguments)) && input.IsObject()) {
    input.Accept(w);
  } else {
    w.StartObject();
    w.EndObject();
  }
  w.EndObject();
}

// Writes the content blocks; answers whether there were tool calls.
bool write_content(const Value& message, JsonWriter& w) {
  bool made_tool_calls = false;
  w.Key("content");
  w.StartArray();
  std::string text = text_of_message(message);
  if (!text.empty()) write_text_part(w, text);
  const Value* calls = given_member(message, "tool_calls");
  if (calls && calls->IsArray()) {
    for (const Value& call : calls->GetArray()) {
      const Value* function = given_member(call, "function");
      if (!function || !function->IsObject()) continue;
      write_tool_use_block(given_string(call, "id"), *function, w);
      made_tool_calls = true;
    }
  }
  const Value* legacy = given_member(message, "function_call");
  if (legacy && legacy->IsObject()) {
    write_tool_use_block(nullptr, *legacy, w);
    made_tool_calls = true;
  }
  w.EndArray();
  return made_tool_calls;
}

void write_usage(const Value* usage, JsonWriter& w) {
  w.Key("usage");
  w.StartObject();
  w.Key("input_tokens");
  w.Uint64(count_of(usage, "prompt_tokens"));
  w.Key("output_tokens");
  w.Uint64(count_of(usage, "completion_tokens"));
  w.EndObject();
}

// The first choice's message, when `doc` is a chat completion.
const Value* first_message(const Value& doc) {
  const Value* choices = given_member(doc, "choices");
  if (!choices || !choices->IsArray() || choices->Empty()) return nullptr;
  const Value* message = given_member((*choices)[0], "message");
  return message && message->IsObject() ? message : nullptr;
}

std::string messages_answer(const Value& chat, const Value& message) {
  rapidjson::StringBuffer body;
  JsonWriter w(body);
  w.StartObject();
  w.Key("id");
  const Value* id = given_string(chat, "id");
  put_string(w, id ? "msg_" + std::string(text_of(*id)) : generated_id("msg_"));
  w.Key("type");
  w.String("message");
  w.Key("role");
  w.String("assistant");
  w.Key("model");
  const Value* model = given_string(chat, "model");
  put_string(w, model ? text_of(*model) : std::string_view());
  bool made_tool_calls = write_content(message, w);
  const Value* finish = given_string(chat["choices"][0], "finish_reason");
  w.Key("stop_reason");
  put_string(w, anthropic_stop_reason(finish ? text_of(*finish) : std::string_view(), made_tool_calls));
  w.Key("stop_sequence");
  w.Null();
  write_usage(given_member(chat, "usage"), w);
  w.EndObject();
  return std::string(body.GetString(), body.GetSize());
}

// A 2xx body that is no chat completion; an error envelope sent with 200 still has its say.
std::string not_a_chat_completion(const rapidjson::Document& doc, bool parsed) {
  const Value* error = parsed ? given_member(doc, "error") : nullptr;
  const Value* message = error ? given_string(*error, "message") : nullptr;
  std::string why(kNotAChatCompletion);
  if (message) why += ": " + std::string(text_of(*message));
  return anthropic_error_body(502, why);
}

}  // namespace anthropic_messages_answer

std::string_view anthropic_error_type(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 529: return "overloaded_error";
    default: return "api_error";
  }
}

std::string anthropic_error_body(int status, std::string_view message) {
  rapidjson::StringBuffer body;
  json_pieces::JsonWriter w(body);
  w.StartObject();
  w.Key("type");
  w.String("error");
  w.Key("error");
  w.StartObject();
  w.Key("type");
  json_pieces::put_string(w, anthropic_error_type(status));
  w.Key("message");
  // RapidJSON's writer copies bytes as they are; the body must be UTF-8 for the client.
  json_pieces::put_string(w, to_valid_utf8(message));
  w.EndObject();
  w.EndObject();
  return std::string(body.GetString(), body.GetSize());
}

std::string_view anthropic_stop_reason(std::string_view finish_reason, bool made_tool_calls) {
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "content_filter") return "refusal";
  if (finish_reason == "tool_calls" || finish_reason == "function_call" || made_tool_calls) return "tool_use";
  return "end_turn";
}

std::string generated_id(std::string_view prefix) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, sizeof kAlphabet - 2);
  std::string id(prefix);
  for (int i = 0; i < 24; ++i) id += kAlphabet[pick(random)];
  return id;
}

MessagesAnswer translate_chat_answer_to_messages(int status, std::string_view chat_body) {
  using namespace anthropic_messages_answer;
  if (status >= 400) return {status, anthropic_error_body(status, upstream_error_message(status, chat_body))};
  rapidjson::Document chat;
  bool parsed = !parse_json(chat, chat_body);
  const Value* message = parsed ? first_message(chat) : nullptr;
  if (!message) return {502, not_a_chat_completion(chat, parsed)};
  return {200, messages_answer(chat, *message)};
}

std::string chat_answer_to_messages(int status, std::string_view chat_body) {
  return translate_chat_answer_to_messages(status, chat_body).body;
}

}  // namespace apiproxy::translate
