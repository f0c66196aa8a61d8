// A whole chat completion -> a Response object; an upstream's error -> an OpenAI error envelope.
#include <algorithm>

#include "core/common/json_parse.hpp"
#include "core/common/openai_error.hpp"
#include "core/common/utf8.hpp"
#include "core/translate/json_pieces.hpp"
#include "core/translate/openai_responses.hpp"
#include "core/translate/openai_responses_object.hpp"

namespace apiproxy::translate {

namespace responses_answer {

using json_pieces::any_member;
using json_pieces::given_string;
using json_pieces::text_of;
using responses_object::OutputItem;
using responses_object::ResponseSnapshot;
using Value = rapidjson::Value;

// Of a body that is not JSON (an HTML error page, say), this much is quoted in the message.
constexpr size_t kQuotedBodyBytes = 300;

// An upstream envelope the SDKs read as it is: {"error": {"message": "...", ...}}.
bool is_openai_envelope(const Value& doc) {
  const Value* error = any_member(doc, "error");
  return error && error->IsObject() && given_string(*error, "message");
}

// The message an upstream's error body carries: {"error":"..."}, {"message":"..."} or
// {"detail":"..."} (the shapes compatible servers use), else a quote of the body.
std::string upstream_error_message(int status, std::string_view body, const rapidjson::Document& doc, bool parsed) {
  if (parsed) {
    for (const char* name : {"error", "message", "detail"})
      if (const Value* text = given_string(doc, name)) return std::string(text_of(*text));
  }
  std::string message = "the upstream answered with status " + std::to_string(status);
  if (!body.empty()) message += ": " + to_valid_utf8(body.substr(0, std::min(body.size(), kQuotedBodyBytes)));
  return message;
}

TranslatedAnswer upstream_error(int status, std::string_view body) {
  rapidjson::Document doc;
  bool parsed = !parse_json(doc, body);
  if (parsed && is_openai_envelope(doc)) return {status, std::string(body)};
  std::string message = upstream_error_message(status, body, doc, parsed);
  return {status, openai_error_envelope(message, responses_object::error_type_for_status(status))};
}

TranslatedAnswer bad_answer(std::string_view why) {
  std::string message = "the upstream's answer is not a chat completion: " + std::string(why);
  return {502, openai_error_envelope(message, "server_error", "bad_upstream_answer")};
}

// Chat content is a string, null, or (some compatible servers) an array of text parts.
std::optional<std::string> message_text(const Value* content) {
  if (!content || content->IsNull()) return std::string();
  if (content->IsString()) return std::string(text_of(*content));
  if (!content->IsArray()) return std::nullopt;
  std::string text;
  for (const auto& part : content->GetArray())
    if (const Value* piece = given_string(part, "text")) text += text_of(*piece);
  return text;
}

// The model's function calls; nullopt when one is malformed. Arguments some servers send as an
// object are written back as the JSON text the Responses API carries.
std::optional<std::vector<OutputItem>> function_calls(const Value* tool_calls) {
  std::vector<OutputItem> items;
  if (!tool_calls || tool_calls->IsNull()) return items;
  if (!tool_calls->IsArray()) return std::nullopt;
  for (const auto& call : tool_calls->GetArray()) {
    const Value* function = any_member(call, "function");
    const Value* name = function ? given_string(*function, "name") : nullptr;
    if (!name) return std::nullopt;
    OutputItem item{
        OutputItem::Kind::FunctionCall, responses_object::new_id("fc_"), {}, {}, {}, std::string(text_of(*name)), {}};
    const Value* id = given_string(call, "id");
    item.call_id = id ? std::string(text_of(*id)) : responses_object::new_id("call_");
    if (const Value* arguments = any_member(*function, "arguments"); arguments && arguments->IsString()) {
      item.arguments = text_of(*arguments);
    } else if (arguments && arguments->IsObject()) {
      item.arguments = json_pieces::serialized(*arguments);
    } else {
      item.arguments = "{}";
    }
    items.push_back(std::move(item));
  }
  return items;
}

// The first choice's message -> output items: the text (when there is any), then each call.
std::optional<std::string> read_output(const Value& message, std::vector<OutputItem>& output) {
  auto text = message_text(any_member(message, "content"));
  if (!text) return "message.content is neither a string nor parts";
  auto calls = function_calls(any_member(message, "tool_calls"));
  if (!calls) return "message.tool_calls holds a call without a function name";
  const Value* refusal = given_string(message, "refusal");
  if (!text->empty() || refusal || calls->empty()) {
    OutputItem item{OutputItem::Kind::Message, responses_object::new_id("msg_"), std::move(*text), {}, {}, {}, {}};
    if (refusal) item.refusal = std::string(text_of(*refusal));
    output.push_back(std::move(item));
  }
  for (auto& call : *calls) output.push_back(std::move(call));
  return std::nullopt;
}

std::optional<std::string> read_completion(const Value& doc, ResponseSnapshot& response) {
  if (!doc.IsObject()) return "it is not a JSON object";
  const Value* choices = any_member(doc, "choices");
  if (!choices || !choices->IsArray() || choices->Empty()) return "it has no choices";
  const Value& choice = (*choices)[0];
  const Value* message = any_member(choice, "message");
  if (!message || !message->IsObject()) return "its first choice has no message";
  if (auto why = read_output(*message, response.output)) return why;
  const Value* finish = given_string(choice, "finish_reason");
  response.incomplete_reason = finish ? responses_object::incomplete_reason_for(text_of(*finish)) : "";
  response.status = response.incomplete_reason.empty() ? "completed" : "incomplete";
  if (const Value* model = given_string(doc, "model")) response.model = text_of(*model);
  const Value* created = any_member(doc, "created");
  response.created_at = created && created->IsInt64() ? created->GetInt64() : responses_object::now_seconds();
  if (const Value* usage = any_member(doc, "usage")) response.usage = responses_object::read_chat_usage(*usage);
  return std::nullopt;
}

TranslatedAnswer completion(std::string_view body, const ResponsesRequestEcho& request) {
  rapidjson::Document doc;
  if (auto why = parse_json(doc, body)) return bad_answer("it is not JSON (" + *why + ")");
  // Some servers answer an error with status 200.
  if (const Value* error = any_member(doc, "error"); error && !error->IsNull()) return upstream_error(502, body);
  ResponseSnapshot response;
  response.id = responses_object::new_id("resp_");
  if (auto why = read_completion(doc, response)) return bad_answer(*why);
  rapidjson::StringBuffer buffer;
  responses_object::JsonWriter w(buffer);
  responses_object::write_response(w, response, request);
  return {200, std::string(buffer.GetString(), buffer.GetSize())};
}

}  // namespace responses_answer

TranslatedAnswer translate_chat_answer(int status, std::string_view chat_body, const ResponsesRequestEcho& request) {
  if (status >= 400) return responses_answer::upstream_error(status, chat_body);
  return responses_answer::completion(chat_body, request);
}

std::string chat_answer_to_response(int status, std::string_view chat_body, const ResponsesRequestEcho& request) {
  return translate_chat_answer(status, chat_body, request).body;
}

}  // namespace apiproxy::translate
