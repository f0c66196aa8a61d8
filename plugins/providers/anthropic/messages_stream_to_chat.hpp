// plugins/providers/anthropic/messages_stream_to_chat.hpp — an Anthropic Messages stream
// (server-sent events) as an OpenAI chat-completions stream, event by event.
#ifndef APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_MESSAGES_STREAM_TO_CHAT_HPP
#define APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_MESSAGES_STREAM_TO_CHAT_HPP

#include <apiproxy/provider.hpp>

#include <rapidjson/document.h>

#include "anthropic_json.hpp"
#include "sse_event_reader.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace anthropic {

// Whether a chat request asked for the usage chunk (stream_options.include_usage: true).
bool chat_stream_wants_usage(std::string_view chat_body);

// One stream's translation. Each chunk is written as soon as its Anthropic event is whole:
//   message_start                  -> the first chunk, delta {role: assistant, content: ""}
//   content_block_start (tool_use) -> delta.tool_calls [{index, id, type, function {name, arguments: ""}}]
//   text_delta / input_json_delta  -> delta.content / delta.tool_calls [{index, function {arguments}}]
//   message_delta                  -> (stop reason and output usage remembered)
//   message_stop                   -> a chunk with finish_reason, the usage chunk when asked
//                                     for, then data: [DONE]
//   error                          -> data: {"error": {message, type}}, and nothing after
// ping, thinking and unknown events are skipped. Throws apx::InvalidInput when the upstream's
// bytes are not such a stream (or an event exceeds 1 MiB, or the stream ends early).
class MessagesStreamToChat final : public apx::StreamTransform {
 public:
  MessagesStreamToChat(std::string_view fallback_model, bool include_usage, int64_t created);

  void feed(std::string_view bytes, apx::TransformWriter& out) override;
  void finish(apx::TransformWriter& out) override;

 private:
  bool on_event(std::string_view name, std::string_view data, apx::TransformWriter& out);
  void on_message_start(const rapidjson::Value& event, apx::TransformWriter& out);
  void on_block_start(const rapidjson::Value& event, apx::TransformWriter& out);
  void on_block_delta(const rapidjson::Value& event, apx::TransformWriter& out);
  void on_message_delta(const rapidjson::Value& event);
  void on_message_stop(apx::TransformWriter& out);
  void on_error(const rapidjson::Value& event, apx::TransformWriter& out);
  void require_started(std::string_view type) const;

  // One event, `data: {...}`: `write_members` writes the object's members.
  template <class WriteMembers>
  void write_event(apx::TransformWriter& out, WriteMembers&& write_members);
  // A chunk of one choice, whose delta `write_delta` writes.
  template <class WriteDelta>
  void write_chunk(apx::TransformWriter& out, WriteDelta&& write_delta,
                   std::optional<std::string_view> finish_reason = std::nullopt);
  // A chunk whose delta is the piece of tool call `call` that `write_call` writes (after its index).
  template <class WriteCall>
  void write_tool_call_chunk(apx::TransformWriter& out, size_t call, WriteCall&& write_call);
  void write_content_chunk(apx::TransformWriter& out, std::string_view text);
  void write_usage_chunk(apx::TransformWriter& out);
  void write_chunk_head(JsonWriter& w);
  void send(apx::TransformWriter& out);

  SseEventReader reader_;
  std::string fallback_model_, id_, model_;
  int64_t created_;
  bool include_usage_;
  bool started_ = false;  // message_start seen
  bool ended_ = false;    // message_stop or error seen: the rest is not read
  std::string stop_reason_;
  uint64_t prompt_tokens_ = 0, completion_tokens_ = 0;
  std::unordered_map<uint64_t, size_t> tool_call_of_block_;  // Anthropic block index -> OpenAI tool call index
  rapidjson::StringBuffer buffer_;  // one chunk's JSON; reused
  std::string event_;               // one chunk's SSE bytes; reused
};

}  // namespace anthropic

#endif  // APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_MESSAGES_STREAM_TO_CHAT_HPP
