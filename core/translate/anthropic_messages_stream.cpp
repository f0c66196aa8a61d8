// A chat completions SSE stream -> a Messages SSE stream (see anthropic_messages.hpp).
#include <string>

#include "core/common/json_parse.hpp"
#include "core/common/text.hpp"
#include "core/common/utf8.hpp"
#include "core/translate/anthropic_messages.hpp"
#include "core/translate/json_pieces.hpp"

namespace apiproxy::translate {

namespace anthropic_messages_stream {

using rapidjson::Value;
using namespace json_pieces;

// A stream is as long as the upstream makes it, so what is kept from one event to the next is
// bounded: tool calls beyond this many get no block (no model makes that many in one answer).
constexpr size_t kMaxToolUseBlocks = 1024;
constexpr size_t kMaxFinishReasonBytes = 64;
// A typical chunk parses within this much stack memory, sparing a document's 64 KiB first block.
constexpr size_t kChunkParseBufferBytes = 4096;

constexpr std::string_view kUnreadableEvent = "upstream sent an unreadable event";
constexpr std::string_view kUpstreamError = "the upstream reported an error";

// Appends `event: NAME` with data {"type":NAME, ...fields}: `write_fields` writes the rest.
template <class WriteFields>
void emit(std::string_view name, std::string& out, WriteFields write_fields) {
  rapidjson::StringBuffer data;
  JsonWriter w(data);
  w.StartObject();
  w.Key("type");
  put_string(w, name);
  write_fields(w);
  w.EndObject();
  out += "event: ";
  out += name;
  out += "\ndata: ";
  out.append(data.GetString(), data.GetSize());
  out += "\n\n";
}

// content_block_start of block `index`: its `type`, then what `write_block` writes.
template <class WriteBlock>
void emit_block_start(uint32_t index, std::string_view type, std::string& out, WriteBlock write_block) {
  emit("content_block_start", out, [&](JsonWriter& w) {
    w.Key("index");
    w.Uint(index);
    w.Key("content_block");
    w.StartObject();
    w.Key("type");
    put_string(w, type);
    write_block(w);
    w.EndObject();
  });
}

// content_block_delta of block `index`: {"type": delta_type, field: piece}.
void emit_block_delta(uint32_t index, std::string_view delta_type, const char* field, std::string_view piece,
                      std::string& out) {
  emit("content_block_delta", out, [&](JsonWriter& w) {
    w.Key("index");
    w.Uint(index);
    w.Key("delta");
    w.StartObject();
    w.Key("type");
    put_string(w, delta_type);
    w.Key(field);
    put_string(w, piece);
    w.EndObject();
  });
}

std::string error_event_of(std::string_view message) {
  std::string out;
  emit("error", out, [&](JsonWriter& w) {
    w.Key("error");
    w.StartObject();
    w.Key("type");
    w.String("api_error");
    w.Key("message");
    put_string(w, message);
    w.EndObject();
  });
  return out;
}

// Calls `on_data` with the data of each event of `events` (its `data:` lines joined by \n).
// The text holds whole events, so one still open at its end is whole too (its blank line cut off).
template <class OnData>
void for_each_event_data(std::string_view events, OnData on_data) {
  std::string data;
  bool has_data = false;
  while (!events.empty()) {
    size_t eol = events.find('\n');
    std::string_view line = events.substr(0, eol);
    events.remove_prefix(eol == std::string_view::npos ? events.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (has_data) on_data(std::string_view(data));
      data.clear();
      has_data = false;
      continue;
    }
    size_t colon = line.find(':');
    if (line.substr(0, colon) != "data") continue;  // a comment (empty field name) or another field
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (has_data) data += '\n';
    data += value;
    has_data = true;
  }
  if (has_data) on_data(std::string_view(data));
}

}  // namespace anthropic_messages_stream

// The member functions below each open anthropic_messages_stream in their own scope: a
// namespace-scope using-directive would reach the other files of a unity build.

void ChatStreamToMessages::feed(std::string_view events, std::string& out) {
  using namespace anthropic_messages_stream;
  for_each_event_data(events, [&](std::string_view data) { dispatch(data, out); });
}

void ChatStreamToMessages::finish(std::string& out) {
  if (!ended_) end_message(out);
}

std::string ChatStreamToMessages::error_event(std::string_view message) {
  using namespace anthropic_messages_stream;
  return error_event_of(to_valid_utf8(message));
}

void ChatStreamToMessages::dispatch(std::string_view data, std::string& out) {
  using namespace anthropic_messages_stream;
  if (ended_) return;
  data = trim_space(data);
  if (data.empty()) return;  // a data line without data: nothing said
  if (data == "[DONE]") return end_message(out);
  alignas(16) char buffer[kChunkParseBufferBytes];
  rapidjson::MemoryPoolAllocator<> allocator(buffer, sizeof buffer);
  rapidjson::Document chunk(&allocator);
  if (parse_json(chunk, data) || !chunk.IsObject()) return fail(kUnreadableEvent, out);
  on_chunk(chunk, out);
}

void ChatStreamToMessages::on_chunk(const rapidjson::Value& chunk, std::string& out) {
  using namespace anthropic_messages_stream;
  if (const rapidjson::Value* error = given_member(chunk, "error")) {
    std::string_view message = error->IsString() ? std::string_view(error->GetString(), error->GetStringLength())
                                                 : string_or_empty(*error, "message");
    return fail(message.empty() ? kUpstreamError : message, out);
  }
  if (!started_) start_message(&chunk, out);
  // Only the first choice is the answer (a Messages answer has one).
  if (const rapidjson::Value* choices = given_member(chunk, "choices"); choices && choices->IsArray()) {
    for (const rapidjson::Value& choice : choices->GetArray()) {
      const Value* index = given_member(choice, "index");
      if (!index || (index->IsInt64() && index->GetInt64() == 0)) on_choice(choice, out);
    }
  }
  if (const rapidjson::Value* usage = given_member(chunk, "usage")) on_usage(*usage);
}

void ChatStreamToMessages::on_choice(const rapidjson::Value& choice, std::string& out) {
  using namespace anthropic_messages_stream;
  if (const rapidjson::Value* delta = given_member(choice, "delta"); delta && delta->IsObject()) {
    append_text(string_or_empty(*delta, "content"), out);
    append_text(string_or_empty(*delta, "refusal"), out);  // a refusal is text the client should see
    if (const rapidjson::Value* calls = given_member(*delta, "tool_calls"); calls && calls->IsArray())
      for (const rapidjson::Value& call : calls->GetArray()) on_tool_call(call, out);
  }
  if (given_string(choice, "finish_reason") != nullptr) {
    finish_reason_ = string_or_empty(choice, "finish_reason").substr(0, kMaxFinishReasonBytes);
    stop_open_block(out);  // nothing more comes for it: its stop is known now
  }
}

// A tool call comes in pieces: the first has its id and name, the rest fragments of its arguments
// (the text of a JSON object), all with the call's `index`. Some compatible servers leave out the
// index (then a piece with a new id is a new call) or number every call 0 (the new id tells).
void ChatStreamToMessages::on_tool_call(const rapidjson::Value& call, std::string& out) {
  using namespace anthropic_messages_stream;
  if (!call.IsObject()) return;
  const Value* index_value = given_member(call, "index");
  int64_t index = index_value && index_value->IsInt64() ? index_value->GetInt64() : -1;
  bool has_id = given_string(call, "id") != nullptr;
  std::string_view id = string_or_empty(call, "id");
  const Value* function = given_member(call, "function");
  std::string_view name = function ? string_or_empty(*function, "name") : std::string_view();
  std::string_view arguments = function ? string_or_empty(*function, "arguments") : std::string_view();

  bool continues = open_ == Block::ToolUse && (has_id ? id == open_tool_id_ : index < 0 || index == open_tool_call_);
  if (!continues) {
    // A late piece of a call whose block was stopped: an Anthropic block cannot be reopened.
    if (!has_id && index >= 0 && seen_tool_calls_.count(index)) return;
    if (seen_tool_calls_.size() >= kMaxToolUseBlocks) return;
    seen_tool_calls_.insert(index);
    open_tool_call_ = index;
    open_tool_id_ = has_id ? std::string(id) : generated_id("toolu_");
    start_tool_use(open_tool_id_, name, out);
  }
  if (arguments.empty()) return;
  emit_block_delta(open_index_, "input_json_delta", "partial_json", arguments, out);
}

void ChatStreamToMessages::on_usage(const rapidjson::Value& usage) {
  using namespace anthropic_messages_stream;
  const Value* prompt = given_member(usage, "prompt_tokens");
  const Value* completion = given_member(usage, "completion_tokens");
  if (prompt && prompt->IsUint64()) input_tokens_ = prompt->GetUint64();
  if (completion && completion->IsUint64()) output_tokens_ = completion->GetUint64();
}

void ChatStreamToMessages::fail(std::string_view message, std::string& out) {
  using namespace anthropic_messages_stream;
  out += error_event_of(message);
  ended_ = true;
}

void ChatStreamToMessages::start_message(const rapidjson::Value* chunk, std::string& out) {
  using namespace anthropic_messages_stream;
  std::string_view chat_id = chunk ? string_or_empty(*chunk, "id") : std::string_view();
  std::string id = chat_id.empty() ? generated_id("msg_") : "msg_" + std::string(chat_id);
  std::string_view model = chunk ? string_or_empty(*chunk, "model") : std::string_view();
  emit("message_start", out, [&](JsonWriter& w) {
    w.Key("message");
    w.StartObject();
    w.Key("id");
    put_string(w, id);
    w.Key("type");
    w.String("message");
    w.Key("role");
    w.String("assistant");
    w.Key("model");
    put_string(w, model);
    w.Key("content");
    w.StartArray();
    w.EndArray();
    w.Key("stop_reason");
    w.Null();
    w.Key("stop_sequence");
    w.Null();
    w.Key("usage");
    w.StartObject();
    w.Key("input_tokens");
    w.Uint64(0);
    w.Key("output_tokens");
    w.Uint64(0);
    w.EndObject();
    w.EndObject();
  });
  emit("ping", out, [](JsonWriter&) {});
  started_ = true;
}

void ChatStreamToMessages::append_text(std::string_view text, std::string& out) {
  using namespace anthropic_messages_stream;
  if (text.empty()) return;
  if (open_ != Block::Text) {
    stop_open_block(out);
    open_ = Block::Text;
    open_index_ = next_index_++;
    emit_block_start(open_index_, "text", out, [](JsonWriter& w) {
      w.Key("text");
      w.String("");
    });
  }
  emit_block_delta(open_index_, "text_delta", "text", text, out);
}

void ChatStreamToMessages::start_tool_use(std::string_view id, std::string_view name, std::string& out) {
  using namespace anthropic_messages_stream;
  stop_open_block(out);
  open_ = Block::ToolUse;
  open_index_ = next_index_++;
  made_tool_calls_ = true;
  emit_block_start(open_index_, "tool_use", out, [&](JsonWriter& w) {
    w.Key("id");
    put_string(w, id);
    w.Key("name");
    put_string(w, name);
    w.Key("input");
    w.StartObject();
    w.EndObject();
  });
}

void ChatStreamToMessages::stop_open_block(std::string& out) {
  using namespace anthropic_messages_stream;
  if (open_ == Block::None) return;
  emit("content_block_stop", out, [&](JsonWriter& w) {
    w.Key("index");
    w.Uint(open_index_);
  });
  open_ = Block::None;
}

// The end owed to the client: its usage is the upstream's usage chunk, which comes after the
// finish_reason, so this waits for [DONE] or the end of the stream.
void ChatStreamToMessages::end_message(std::string& out) {
  using namespace anthropic_messages_stream;
  if (!started_) start_message(nullptr, out);
  stop_open_block(out);
  emit("message_delta", out, [&](JsonWriter& w) {
    w.Key("delta");
    w.StartObject();
    w.Key("stop_reason");
    put_string(w, anthropic_stop_reason(finish_reason_, made_tool_calls_));
    w.Key("stop_sequence");
    w.Null();
    w.EndObject();
    w.Key("usage");
    w.StartObject();
    w.Key("input_tokens");
    w.Uint64(input_tokens_);
    w.Key("output_tokens");
    w.Uint64(output_tokens_);
    w.EndObject();
  });
  emit("message_stop", out, [](JsonWriter&) {});
  ended_ = true;
}

}  // namespace apiproxy::translate
