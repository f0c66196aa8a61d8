// The Response object of the OpenAI Responses API as both translations (whole answer and
// stream) build it: a snapshot of what the answer holds so far, and the writers that put it
// and its output items into JSON. Internal to core/translate/openai_responses*.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/translate/json_pieces.hpp"
#include "core/translate/openai_responses.hpp"

namespace apiproxy::translate::responses_object {

using json_pieces::JsonWriter;

// One element of a Response's `output`: the assistant's text, or one function call.
struct OutputItem {
  enum class Kind { Message, FunctionCall };
  Kind kind = Kind::Message;
  std::string id;                      // msg_... or fc_...
  std::string text;                    // Message
  std::optional<std::string> refusal;  // Message: the model declined
  std::string call_id;                 // FunctionCall: what the client's function_call_output names
  std::string name;                    // FunctionCall
  std::string arguments;               // FunctionCall: JSON text as the model wrote it
};

struct TokenCounts {
  uint64_t input = 0, output = 0, total = 0, cached = 0, reasoning = 0;
};

struct ResponseSnapshot {
  std::string id;  // resp_...
  int64_t created_at = 0;
  std::string status = "in_progress";  // in_progress | completed | incomplete
  std::string incomplete_reason;       // max_output_tokens | content_filter, when incomplete
  std::string model;
  std::vector<OutputItem> output;
  std::optional<TokenCounts> usage;
};

// A fresh id: `prefix` and 32 random hex digits ("resp_", "msg_", "fc_", "call_").
std::string new_id(std::string_view prefix);
int64_t now_seconds();

// Writes JSON text this code produced earlier (an echo field) as a value.
void put_raw(JsonWriter& w, std::string_view json);

// The status a response takes for a chat finish_reason, and the reason it is incomplete ("" if
// it is not).
std::string_view incomplete_reason_for(std::string_view finish_reason);

// Reads a chat `usage` object; nullopt when it is not one.
std::optional<TokenCounts> read_chat_usage(const rapidjson::Value& usage);

// An output text content part ({"type":"output_text","text","annotations":[]}).
void write_text_part(JsonWriter& w, std::string_view text);
// An output item. `with_content` false writes a message's content as [] (when it is announced).
void write_output_item(JsonWriter& w, const OutputItem& item, std::string_view status, bool with_content = true);
// The whole Response object.
void write_response(JsonWriter& w, const ResponseSnapshot& response, const ResponsesRequestEcho& request);

// The OpenAI error type for an HTTP status (invalid_request_error, rate_limit_error, ...).
std::string_view error_type_for_status(int status);

}  // namespace apiproxy::translate::responses_object
