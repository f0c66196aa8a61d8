#include "messages_stream_to_chat.hpp"

#include "anthropic_answer_fields.hpp"

namespace anthropic {

namespace stream_translation {

using rapidjson::Value;

// Anthropic's events are small (one text or JSON fragment each); a larger one means a
// broken or hostile upstream.
constexpr size_t kMaxEventBytes = 1024 * 1024;
// A client never gets this many tool calls in one answer; bounds the block index map.
constexpr size_t kMaxToolCalls = 1024;

[[noreturn]] void refuse(const std::string& why) {
  throw apx::InvalidInput("the upstream's stream is not an Anthropic Messages stream: " + why);
}

std::optional<uint64_t> block_index(const Value& event) {
  const Value* index = find_member(event, "index");
  if (index == nullptr || !index->IsUint64()) return std::nullopt;
  return index->GetUint64();
}

}  // namespace stream_translation

bool chat_stream_wants_usage(std::string_view chat_body) {
  rapidjson::Document doc;
  if (parse_untrusted_json(chat_body, doc)) return false;
  const rapidjson::Value& root = doc;
  const rapidjson::Value* options = find_member(root, "stream_options");
  const rapidjson::Value* include = options ? find_member(*options, "include_usage") : nullptr;
  return include != nullptr && include->IsBool() && include->GetBool();
}

MessagesStreamToChat::MessagesStreamToChat(std::string_view fallback_model, bool include_usage, int64_t created)
    : reader_(stream_translation::kMaxEventBytes),
      fallback_model_(fallback_model),
      created_(created),
      include_usage_(include_usage) {}

void MessagesStreamToChat::feed(std::string_view bytes, apx::TransformWriter& out) {
  if (ended_) return;
  reader_.feed(bytes, [&](std::string_view name, std::string_view data) { return on_event(name, data, out); });
}

void MessagesStreamToChat::finish(apx::TransformWriter& out) {
  if (!ended_)
    reader_.finish([&](std::string_view name, std::string_view data) { return on_event(name, data, out); });
  if (!ended_) throw apx::InvalidInput("the upstream's stream ended before message_stop");
}

// Returns false once the stream has ended (message_stop or error).
bool MessagesStreamToChat::on_event(std::string_view name, std::string_view data, apx::TransformWriter& out) {
  using stream_translation::refuse;
  rapidjson::Document doc;
  if (auto why = parse_untrusted_json(data, doc)) refuse("an event's data " + *why);
  const rapidjson::Value& event = doc;
  if (!event.IsObject()) refuse("an event's data is not a JSON object");
  // The data names its type; the event line says the same and is the fallback.
  std::string_view type = string_member(event, "type").value_or(name);
  if (type == "message_start") {
    on_message_start(event, out);
  } else if (type == "content_block_start") {
    on_block_start(event, out);
  } else if (type == "content_block_delta") {
    on_block_delta(event, out);
  } else if (type == "message_delta") {
    on_message_delta(event);
  } else if (type == "message_stop") {
    on_message_stop(out);
  } else if (type == "error") {
    on_error(event, out);
  }
  // ping, content_block_stop and event types added later carry nothing a chat client reads.
  return !ended_;
}

void MessagesStreamToChat::require_started(std::string_view type) const {
  if (!started_) stream_translation::refuse(std::string(type) + " came before message_start");
}

void MessagesStreamToChat::on_message_start(const rapidjson::Value& event, apx::TransformWriter& out) {
  if (started_) return;
  const rapidjson::Value* message = find_member(event, "message");
  std::optional<std::string_view> id = message ? string_member(*message, "id") : std::nullopt;
  if (!id) stream_translation::refuse("message_start has no message id");
  id_ = "chatcmpl-" + std::string(*id);
  model_ = std::string(string_member(*message, "model").value_or(fallback_model_));
  if (const rapidjson::Value* usage = find_member(*message, "usage")) {
    MessagesUsage counts = read_messages_usage(*usage);
    prompt_tokens_ = counts.input_tokens.value_or(0);
    completion_tokens_ = counts.output_tokens.value_or(0);
  }
  started_ = true;
  write_chunk(out, [](JsonWriter& w) {
    w.Key("role");
    w.String("assistant");
    w.Key("content");
    w.String("");
  });
}

void MessagesStreamToChat::on_block_start(const rapidjson::Value& event, apx::TransformWriter& out) {
  require_started("content_block_start");
  const rapidjson::Value* block = find_member(event, "content_block");
  std::string_view type = block ? string_member(*block, "type").value_or("") : "";
  if (type == "text") {
    write_content_chunk(out, string_member(*block, "text").value_or(""));
    return;
  }
  if (type != "tool_use") return;  // thinking, server tools: nothing for a chat client
  std::optional<uint64_t> index = stream_translation::block_index(event);
  std::optional<std::string_view> id = string_member(*block, "id");
  std::optional<std::string_view> name = string_member(*block, "name");
  if (!index || !id || !name) stream_translation::refuse("a tool_use block lacks its index, id or name");
  if (tool_call_of_block_.size() >= stream_translation::kMaxToolCalls)
    stream_translation::refuse("more than " + std::to_string(stream_translation::kMaxToolCalls) + " tool calls");
  size_t call = tool_call_of_block_.size();
  if (!tool_call_of_block_.emplace(*index, call).second) stream_translation::refuse("a block index came twice");
  write_tool_call_chunk(out, call, [&](JsonWriter& w) {
    w.Key("id");
    write_string(w, *id);
    w.Key("type");
    w.String("function");
    w.Key("function");
    w.StartObject();
    w.Key("name");
    write_string(w, *name);
    w.Key("arguments");
    w.String("");
    w.EndObject();
  });
}

void MessagesStreamToChat::on_block_delta(const rapidjson::Value& event, apx::TransformWriter& out) {
  require_started("content_block_delta");
  const rapidjson::Value* delta = find_member(event, "delta");
  std::string_view type = delta ? string_member(*delta, "type").value_or("") : "";
  if (type == "text_delta") {
    std::optional<std::string_view> text = string_member(*delta, "text");
    if (!text) stream_translation::refuse("a text_delta has no string text");
    write_content_chunk(out, *text);
    return;
  }
  if (type != "input_json_delta") return;  // thinking, signature, citations
  std::optional<std::string_view> json = string_member(*delta, "partial_json");
  if (!json) stream_translation::refuse("an input_json_delta has no string partial_json");
  std::optional<uint64_t> index = stream_translation::block_index(event);
  auto call = index ? tool_call_of_block_.find(*index) : tool_call_of_block_.end();
  if (call == tool_call_of_block_.end() || json->empty()) return;  // e.g. a server tool's input
  write_tool_call_chunk(out, call->second, [&](JsonWriter& w) {
    w.Key("function");
    w.StartObject();
    w.Key("arguments");
    write_string(w, *json);
    w.EndObject();
  });
}

// Its usage counts are cumulative: they replace what message_start said.
void MessagesStreamToChat::on_message_delta(const rapidjson::Value& event) {
  require_started("message_delta");
  const rapidjson::Value* delta = find_member(event, "delta");
  if (auto reason = delta ? string_member(*delta, "stop_reason") : std::nullopt) stop_reason_ = *reason;
  const rapidjson::Value* usage = find_member(event, "usage");
  if (usage == nullptr) return;
  MessagesUsage counts = read_messages_usage(*usage);
  if (counts.input_tokens) prompt_tokens_ = *counts.input_tokens;
  if (counts.output_tokens) completion_tokens_ = *counts.output_tokens;
}

void MessagesStreamToChat::on_message_stop(apx::TransformWriter& out) {
  require_started("message_stop");
  std::string_view reason = chat_finish_reason(stop_reason_.empty() ? std::string_view("end_turn") : stop_reason_);
  write_chunk(out, [](JsonWriter&) {}, reason);
  if (include_usage_) write_usage_chunk(out);
  out.write("data: [DONE]\n\n");
  ended_ = true;
}

void MessagesStreamToChat::on_error(const rapidjson::Value& event, apx::TransformWriter& out) {
  const rapidjson::Value* error = find_member(event, "error");
  std::optional<std::string_view> message = error ? string_member(*error, "message") : std::nullopt;
  std::optional<std::string_view> type = error ? string_member(*error, "type") : std::nullopt;
  write_event(out, [&](JsonWriter& w) {
    w.Key("error");
    w.StartObject();
    w.Key("message");
    write_string(w, message.value_or("the upstream reported an error in its stream"));
    w.Key("type");
    write_string(w, type.value_or("upstream_error"));
    w.EndObject();
  });
  ended_ = true;
}

void MessagesStreamToChat::write_chunk_head(JsonWriter& w) {
  w.Key("id");
  write_string(w, id_);
  w.Key("object");
  w.String("chat.completion.chunk");
  w.Key("created");
  w.Int64(created_);
  w.Key("model");
  write_string(w, model_);
}

template <class WriteMembers>
void MessagesStreamToChat::write_event(apx::TransformWriter& out, WriteMembers&& write_members) {
  buffer_.Clear();
  JsonWriter w(buffer_);
  w.StartObject();
  write_members(w);
  w.EndObject();
  send(out);
}

template <class WriteDelta>
void MessagesStreamToChat::write_chunk(apx::TransformWriter& out, WriteDelta&& write_delta,
                                       std::optional<std::string_view> finish_reason) {
  write_event(out, [&](JsonWriter& w) {
    write_chunk_head(w);
    w.Key("choices");
    w.StartArray();
    w.StartObject();
    w.Key("index");
    w.Uint(0);
    w.Key("delta");
    w.StartObject();
    write_delta(w);
    w.EndObject();
    w.Key("finish_reason");
    if (finish_reason)
      write_string(w, *finish_reason);
    else
      w.Null();
    w.EndObject();
    w.EndArray();
  });
}

template <class WriteCall>
void MessagesStreamToChat::write_tool_call_chunk(apx::TransformWriter& out, size_t call, WriteCall&& write_call) {
  write_chunk(out, [&](JsonWriter& w) {
    w.Key("tool_calls");
    w.StartArray();
    w.StartObject();
    w.Key("index");
    w.Uint64(call);
    write_call(w);
    w.EndObject();
    w.EndArray();
  });
}

void MessagesStreamToChat::write_content_chunk(apx::TransformWriter& out, std::string_view text) {
  if (text.empty()) return;
  write_chunk(out, [&](JsonWriter& w) {
    w.Key("content");
    write_string(w, text);
  });
}

void MessagesStreamToChat::write_usage_chunk(apx::TransformWriter& out) {
  write_event(out, [&](JsonWriter& w) {
    write_chunk_head(w);
    w.Key("choices");
    w.StartArray();
    w.EndArray();
    w.Key("usage");
    w.StartObject();
    w.Key("prompt_tokens");
    w.Uint64(prompt_tokens_);
    w.Key("completion_tokens");
    w.Uint64(completion_tokens_);
    w.Key("total_tokens");
    w.Uint64(prompt_tokens_ + completion_tokens_);
    w.EndObject();
  });
}

// One server-sent event: "data: <json>\n\n".
void MessagesStreamToChat::send(apx::TransformWriter& out) {
  event_.assign("data: ");
  event_.append(written(buffer_));
  event_.append("\n\n");
  out.write(event_);
}

}  // namespace anthropic
