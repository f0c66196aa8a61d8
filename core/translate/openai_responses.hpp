// The OpenAI Responses API (`POST /v1/responses`) served by an upstream that only speaks Chat
// Completions: the request is translated to a chat completions request, and the answer — a
// whole chat completion, or its SSE stream — back into a Response object or the Responses
// stream's named events, in the shapes the official SDKs read.
//
// Everything here is pure: no I/O, no clock beyond `created_at`, no state kept between calls
// (the gateway stores no responses, so `previous_response_id` is refused).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace apiproxy::translate {

// What a Response object repeats of the request that asked for it: the SDKs read these fields
// back. The *_json members hold JSON text this code wrote itself (never a client's bytes).
struct ResponsesRequestEcho {
  std::string model;
  std::optional<std::string> instructions;
  std::optional<uint64_t> max_output_tokens;
  bool parallel_tool_calls = true;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<std::string> user;
  std::string tool_choice_json = "\"auto\"";
  std::string tools_json = "[]";
  std::string text_format_json = R"({"type":"text"})";
  std::string metadata_json = "{}";
};

// A Responses request body -> a chat completions request body. An error (a 400 for the client)
// names the problem. `echo`, when given, receives what the Response object repeats.
Result<std::string> responses_request_to_chat(std::string_view responses_body, ResponsesRequestEcho* echo = nullptr);

// An answer for the client: the status to send and the body.
struct TranslatedAnswer {
  int status = 200;
  std::string body;
};

// A whole chat completion (the upstream's status and body) -> a Response object. An upstream
// error (status >= 400) becomes an OpenAI error envelope with the same status (the upstream's
// own envelope passes through unchanged); a 2xx body that is not a chat completion becomes an
// error envelope with status 502.
TranslatedAnswer translate_chat_answer(int status, std::string_view chat_body,
                                       const ResponsesRequestEcho& request = {});

// translate_chat_answer's body alone: {"error":{"message","type","param":null,"code"}} when
// status >= 400 or the body is not a chat completion (the host then sends 502 for a 2xx).
std::string chat_answer_to_response(int status, std::string_view chat_body, const ResponsesRequestEcho& request = {});

// Turns a chat completions SSE stream into the Responses stream, incrementally: each text or
// tool-call delta becomes its event as soon as its chunk is fed. Output items stay open until
// the upstream ends, then each is closed in output order (every event names its
// output_index/item_id, which is what the SDKs key on). Memory is bounded: an answer past
// kMaxAnswerBytes or an SSE line past kMaxEventBytes ends the stream with an `error` event.
class ChatStreamToResponses {
 public:
  static constexpr size_t kMaxEventBytes = 4 * 1024 * 1024;
  static constexpr size_t kMaxAnswerBytes = 32 * 1024 * 1024;
  static constexpr size_t kMaxOutputItems = 512;

  explicit ChatStreamToResponses(ResponsesRequestEcho request = {});
  ~ChatStreamToResponses();
  ChatStreamToResponses(ChatStreamToResponses&&) noexcept;
  ChatStreamToResponses& operator=(ChatStreamToResponses&&) noexcept;

  // events: SSE bytes of a chat stream ("data: {json}\n\n" / "data: [DONE]\n\n", \n or \r\n
  // line ends). Whole events are expected, but an event split across calls is reassembled.
  // Appends whole Responses events ("event: response.output_text.delta\ndata: {json}\n\n") to
  // out. `data: [DONE]` completes the response at once (finish() then adds nothing).
  void feed(std::string_view events, std::string& out);
  // Upstream ended (with or without [DONE]): appends what is owed — the *.done events and
  // response.completed, or response.incomplete for finish_reason length/content_filter —
  // exactly once. An upstream that ended before its first chunk gets an `error` event.
  void finish(std::string& out);
  // A stream that broke: an `error` event ({"type":"error","code","message","param",
  // "sequence_number"}) after which nothing more is emitted. Empty when the stream already ended.
  std::string error_event(std::string_view message);

  // From the upstream's usage chunk (0 until one came).
  uint64_t input_tokens() const;
  uint64_t output_tokens() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace apiproxy::translate
