// Serving the Anthropic Messages API (`POST /v1/messages`) from an upstream that only speaks
// OpenAI Chat Completions: the client's request is translated to a chat completions request,
// and the upstream's answer — whole, or an SSE stream — back to what an Anthropic SDK expects.
//
// Pure functions and one incremental stream translator: no I/O, no global state. Requests come
// from clients and answers/streams from upstreams, so every input is checked before it is read:
// nothing here can crash, hang, or keep more than one event's worth of memory between calls.
//
// What does not survive the trip (the two APIs do not line up): `top_k`, `thinking` settings and
// thinking blocks in the history, cache_control, citations; `document` blocks and server tools
// are refused. OpenAI does not say which stop sequence matched, so stop_sequence is always null.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include <rapidjson/fwd.h>

#include "core/common/result.hpp"

namespace apiproxy::translate {

// --- Request -------------------------------------------------------------------------------

// A Messages request body -> a chat completions request body. An error (the client's fault,
// becomes a 400) names what is wrong, e.g. "messages[2].content[0]: unknown block type 'x'".
// `model` is copied as is (and left out when absent: the host's model resolution reports that).
Result<std::string> messages_request_to_chat(std::string_view messages_body);

// --- Whole answer --------------------------------------------------------------------------

// A translated answer and the status to send it with.
struct MessagesAnswer {
  int status = 200;
  std::string body;
};

// A whole chat completions answer -> a Messages answer, with its status:
//  * status >= 400: the same status, and an Anthropic error body whose message is the upstream's
//    (from an OpenAI error envelope, or the body's text);
//  * a 2xx body that is a chat completion: 200 and the Messages answer;
//  * a 2xx body that is not (unreadable, an error envelope with status 200): 502 and an api_error
//    body — the upstream failed, not the client.
MessagesAnswer translate_chat_answer_to_messages(int status, std::string_view chat_body);

// translate_chat_answer_to_messages's body only. The host sends a body made for a 2xx that was not a chat
// completion (an api_error body) with status 502.
std::string chat_answer_to_messages(int status, std::string_view chat_body);

// The Anthropic error body {"type":"error","error":{"type":...,"message":...}} for a status and
// message (also for the gateway's own refusals on /v1/messages): 400 invalid_request_error,
// 401 authentication_error, 403 permission_error, 404 not_found_error, 413 request_too_large,
// 429 rate_limit_error, 529 overloaded_error, anything else api_error. Bytes of `message` that
// are not UTF-8 are replaced.
std::string anthropic_error_body(int status, std::string_view message);

// The Anthropic error type for an HTTP status, as listed above.
std::string_view anthropic_error_type(int status);

// The Anthropic stop_reason for an OpenAI finish_reason: stop -> end_turn, length -> max_tokens,
// tool_calls/function_call -> tool_use, content_filter -> refusal, anything else -> end_turn.
// `made_tool_calls`: the answer carries tool calls; some OpenAI-compatible servers then still say
// "stop" (or nothing), and an Anthropic client only runs tools on tool_use, so it becomes tool_use.
std::string_view anthropic_stop_reason(std::string_view finish_reason, bool made_tool_calls);

// A fresh id for when the upstream gave none: `prefix` and 24 random letters and digits.
std::string generated_id(std::string_view prefix);

// --- Stream --------------------------------------------------------------------------------

// A chat completions SSE stream -> a Messages SSE stream, incrementally: every Messages event is
// written as soon as the chat event that makes it known has been fed. One object per stream.
//
// The output is always well-formed: message_start (then one ping) first; content blocks numbered
// from 0, each started, given deltas, and stopped before the next starts; then message_delta and
// message_stop, once. Or, at any point, one `error` event and nothing after it (an upstream error
// chunk, or a chunk that is not JSON).
class ChatStreamToMessages {
 public:
  // `events`: one or more WHOLE SSE events of a chat stream ("data: {json}\n\n", "data: [DONE]\n\n";
  // lines may end in \n or \r\n; comments ":..." and other fields are ignored). Appends whole
  // Messages events ("event: NAME\ndata: {json}\n\n") to `out`.
  void feed(std::string_view events, std::string& out);
  // The upstream's stream ended (with or without [DONE]): appends whatever is still owed so the
  // client sees a well-formed end (open block stopped, message_delta, message_stop) exactly once.
  void finish(std::string& out);
  // An `event: error` (api_error) for a stream that broke (the host sends it, then ends).
  static std::string error_event(std::string_view message);
  // Usage seen so far (from the chat stream's usage chunk), for accounting; 0 when unknown.
  uint64_t input_tokens() const { return input_tokens_; }
  uint64_t output_tokens() const { return output_tokens_; }

 private:
  enum class Block { None, Text, ToolUse };

  void dispatch(std::string_view data, std::string& out);
  void on_chunk(const rapidjson::Value& chunk, std::string& out);
  void on_choice(const rapidjson::Value& choice, std::string& out);
  void on_tool_call(const rapidjson::Value& call, std::string& out);
  void on_usage(const rapidjson::Value& usage);
  void fail(std::string_view message, std::string& out);
  void start_message(const rapidjson::Value* chunk, std::string& out);
  void append_text(std::string_view text, std::string& out);
  void start_tool_use(std::string_view id, std::string_view name, std::string& out);
  void stop_open_block(std::string& out);
  void end_message(std::string& out);

  bool started_ = false;  // message_start has been written
  bool ended_ = false;    // message_stop or an error has been written: nothing more is
  Block open_ = Block::None;
  uint32_t open_index_ = 0;       // the open block's index (when open_ is not None)
  uint32_t next_index_ = 0;       // the next block's index
  int64_t open_tool_call_ = -1;   // the chat tool_call index that feeds the open tool_use block
  std::string open_tool_id_;      // and that call's id
  std::set<int64_t> seen_tool_calls_;  // chat tool_call indexes given a block (bounded, see .cpp)
  bool made_tool_calls_ = false;
  std::string finish_reason_;     // the upstream's, once known (bounded, see .cpp)
  uint64_t input_tokens_ = 0, output_tokens_ = 0;
};

}  // namespace apiproxy::translate
