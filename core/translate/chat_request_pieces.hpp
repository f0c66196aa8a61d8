// Pieces of a chat completions request that both client-API translations (Anthropic Messages
// and OpenAI Responses -> chat completions) write the same way: image parts (text parts are
// json_pieces::write_text_part), tools, tool calls, a forced tool choice, the stream settings.
// The callers check what they read from the client first; these only write. Internal to
// core/translate.
#pragma once

#include <string_view>

#include "core/translate/json_pieces.hpp"

namespace apiproxy::translate::chat_request_pieces {

using json_pieces::JsonWriter;

// {"type":"image_url","image_url":{"url":...,"detail":...}}: an image part (an https or data:
// URL); `detail` (low | high | auto) is left out when empty.
void write_chat_image_part(JsonWriter& w, std::string_view url, std::string_view detail = {});

// {"type":"function","function":{"name","description","parameters","strict"}}: one entry of
// `tools`. The optional members are left out when nullptr; the caller has checked that
// `description` is a string, `parameters` an object and `strict` a boolean.
void write_chat_function_tool(JsonWriter& w, std::string_view name, const rapidjson::Value* description,
                              const rapidjson::Value* parameters, const rapidjson::Value* strict = nullptr);

// {"id","type":"function","function":{"name","arguments"}}: a call in an assistant message's
// `tool_calls`; `arguments` is the JSON text of the call's arguments.
void write_chat_tool_call(JsonWriter& w, std::string_view id, std::string_view name, std::string_view arguments);

// {"type":"function","function":{"name":...}}: the value of a `tool_choice` that makes the
// model call that one function.
void write_chat_named_tool_choice(JsonWriter& w, std::string_view name);

// "stream" and, for a stream, "stream_options":{"include_usage":true}: both client APIs
// report usage at the end of a stream, and a chat stream carries it only when asked.
void write_chat_stream_setting(JsonWriter& w, bool stream);

}  // namespace apiproxy::translate::chat_request_pieces
