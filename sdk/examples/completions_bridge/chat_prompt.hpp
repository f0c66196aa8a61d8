// The request side of completions_bridge: a chat completions request as a legacy
// completions request whose prompt holds the conversation, a line per message, then a cue
// to answer:
//
//   System: <system or developer message>
//   User: <user message>
//   Assistant: <earlier assistant message>
//   Assistant:
//
// A content array's text parts are joined with '\n'. Tools, tool calls and results, and
// parts other than text cannot be said in such a prompt: they are refused, never dropped.
#ifndef EXAMPLE_COMPLETIONS_BRIDGE_CHAT_PROMPT_HPP
#define EXAMPLE_COMPLETIONS_BRIDGE_CHAT_PROMPT_HPP

#include "bridge_json.hpp"

#include <string>
#include <string_view>

namespace completions_bridge {

// Chat request fields a completions endpoint takes as they are.
constexpr const char* kCopiedFields[] = {"max_tokens", "temperature", "top_p", "n", "stop", "presence_penalty",
                                         "frequency_penalty", "seed", "user", "stream", "stream_options"};

inline std::string_view speaker(std::string_view role) {
  if (role == "system" || role == "developer") return "System";
  if (role == "user") return "User";
  if (role == "assistant") return "Assistant";
  if (role == "tool" || role == "function") throw apx::InvalidInput("tools need a chat upstream");
  throw apx::InvalidInput("a message role other than system, developer, user or assistant");
}

inline void append_content(const rapidjson::Value* content, std::string& prompt) {
  if (!content) return;
  if (content->IsString()) {
    prompt.append(content->GetString(), content->GetStringLength());
    return;
  }
  if (!content->IsArray()) throw apx::InvalidInput("message content must be a string or an array of parts");
  bool first = true;
  for (const auto& part : content->GetArray()) {
    const rapidjson::Value* text = member(part, "text");
    // An image or audio part has no place in a text prompt: refusing beats losing it.
    if (string_member(part, "type") != "text" || !text || !text->IsString())
      throw apx::InvalidInput("only text parts can go to a completions upstream");
    if (!first) prompt += '\n';
    prompt.append(text->GetString(), text->GetStringLength());
    first = false;
  }
}

inline std::string prompt_of(const rapidjson::Value* messages) {
  if (!messages || !messages->IsArray() || messages->Empty())
    throw apx::InvalidInput("messages must be a non-empty array");
  std::string prompt;
  for (const auto& message : messages->GetArray()) {
    if (member(message, "tool_calls") || member(message, "function_call"))
      throw apx::InvalidInput("tools need a chat upstream");
    const rapidjson::Value* role = member(message, "role");
    if (!role || !role->IsString()) throw apx::InvalidInput("every message needs a string role");
    prompt.append(speaker({role->GetString(), role->GetStringLength()})).append(": ");
    append_content(member(message, "content"), prompt);
    prompt += '\n';
  }
  return prompt + "Assistant:";
}

// The completions request for `chat_body` (the client's JSON, `model` already rewritten by
// the host) to the upstream model `model_id`.
inline std::string completion_request(std::string_view chat_body, std::string_view model_id) {
  rapidjson::Document chat = parse_object(chat_body, "the chat request");
  for (const char* tools : {"tools", "functions"}) {
    const rapidjson::Value* offered = member(chat, tools);
    if (offered && !(offered->IsArray() && offered->Empty())) throw apx::InvalidInput("tools need a chat upstream");
  }
  std::string prompt = prompt_of(member(chat, "messages"));
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("model");
  write_string(w, model_id.empty() ? string_member(chat, "model") : model_id);
  w.Key("prompt");
  write_string(w, prompt);
  const rapidjson::Value* newer_max = member(chat, "max_completion_tokens");
  if (newer_max && !member(chat, "max_tokens")) {  // the chat API's newer name
    w.Key("max_tokens");
    newer_max->Accept(w);
  }
  for (const char* field : kCopiedFields) {
    if (const rapidjson::Value* value = member(chat, field)) {
      w.Key(field);
      value->Accept(w);
    }
  }
  w.EndObject();
  return std::string(written(buffer));
}

}  // namespace completions_bridge

#endif  // EXAMPLE_COMPLETIONS_BRIDGE_CHAT_PROMPT_HPP
