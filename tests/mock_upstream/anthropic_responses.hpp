// Answers in the Anthropic Messages API's shapes (what the Anthropic SDKs expect): the
// message, its stream events, the error envelope and the model list. Each is appended to a
// caller-owned string, like the OpenAI shapes in responses.hpp.
#pragma once

#include "responses.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace mock {

// {"type":"error","error":{"type":..,"message":..}} with the type Anthropic uses for `status`
// (529 overloaded_error, 429 rate_limit_error, 401 authentication_error, ...).
void anthropic_error_body(std::string& out, int status, std::string_view message);

// GET /v1/models with an anthropic-version header.
void anthropic_models_body(std::string& out, const std::vector<std::string>& models);

// A whole message: a text block with c.reply, then a tool_use block when c.tool_name is set.
void messages_body(std::string& out, const Completion& c);

// Stream events ("event: NAME\ndata: {...}\n\n"), appended to `out`:
//   opening  message_start (empty content), ping, content_block_start of the text block
//   text     one content_block_delta (text_delta) with `piece`
//   closing  content_block_stop; the tool_use block when c.tool_name is set (start,
//            input_json_delta pieces, stop); message_delta (stop reason, usage); message_stop
void messages_opening_events(std::string& out, const Completion& c);
void messages_text_event(std::string& out, std::string_view piece);
void messages_closing_events(std::string& out, const Completion& c);

}  // namespace mock
