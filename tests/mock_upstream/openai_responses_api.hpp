// Answers in the OpenAI Responses API's shapes (what the openai SDKs' responses.create
// expects): the Response object and its named stream events. Errors use the OpenAI error
// envelope (error_body in responses.hpp).
#pragma once

#include "responses.hpp"

#include <string>
#include <string_view>

namespace mock {

// A completed Response: a message item with c.reply as output_text, then a function_call
// item when c.tool_name is set.
void response_body(std::string& out, const Completion& c);

// Stream events ("event: NAME\ndata: {...}\n\n"), appended to `out`; `sequence` is the
// stream's next sequence_number (starts at 0), advanced by each event:
//   opening  response.created, response.in_progress, response.output_item.added (the
//            message), response.content_part.added
//   text     one response.output_text.delta with `piece`
//   closing  response.output_text.done, response.content_part.done,
//            response.output_item.done; the function_call item when c.tool_name is set
//            (added, arguments delta pieces, arguments done, done); response.completed
void response_opening_events(std::string& out, const Completion& c, int& sequence);
void response_text_event(std::string& out, const Completion& c, std::string_view piece, int& sequence);
void response_closing_events(std::string& out, const Completion& c, int& sequence);

}  // namespace mock
