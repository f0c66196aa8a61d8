// A chat completions SSE stream -> the Responses stream's named events.
//
// Each event's data carries `type` (the event name) and `sequence_number`, counting from 0. The
// order: response.created, response.in_progress; per output item as it first appears
// response.output_item.added (+ response.content_part.added for a message) and its deltas; at
// the end, per item in output order, its *.done events and response.output_item.done; then
// response.completed or response.incomplete. An `error` event ends the stream instead.
#include <map>

#include "core/common/json_parse.hpp"
#include "core/translate/json_pieces.hpp"
#include "core/translate/openai_responses.hpp"
#include "core/translate/openai_responses_object.hpp"

namespace apiproxy::translate {

namespace responses_stream {

using Value = rapidjson::Value;
using json_pieces::any_member;

// The line without its \r (the SSE line end may be \r\n).
std::string_view without_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// The choice this translation follows: index 0 (a Response has one answer; n > 1 is not asked for).
const Value* first_choice(const Value& chunk) {
  const Value* choices = any_member(chunk, "choices");
  if (!choices || !choices->IsArray()) return nullptr;
  for (const auto& choice : choices->GetArray()) {
    const Value* index = any_member(choice, "index");
    if (choice.IsObject() && (!index || (index->IsUint64() && index->GetUint64() == 0))) return &choice;
  }
  return nullptr;
}

}  // namespace responses_stream

struct ChatStreamToResponses::State {
  using JsonWriter = responses_object::JsonWriter;
  using OutputItem = responses_object::OutputItem;
  using Value = rapidjson::Value;
  static void put(JsonWriter& w, std::string_view s) { json_pieces::put_string(w, s); }

  ResponsesRequestEcho request;
  responses_object::ResponseSnapshot response;
  uint64_t next_sequence = 0;
  bool started = false;      // response.created was sent
  bool ended = false;        // completed, incomplete or failed: nothing more is sent
  std::string partial_line;  // the start of an SSE line whose end has not come yet
  std::string data;          // the data lines of the event being read
  bool has_data = false;
  std::optional<size_t> message_index;        // the message item in response.output
  std::map<uint64_t, size_t> function_items;  // a chat tool call's index -> its item in response.output
  std::string finish_reason;
  size_t answer_bytes = 0;

  // Appends one event: `body` writes the members between `type` and `sequence_number`.
  template <class Body>
  void emit(std::string& out, std::string_view type, Body body) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("type");
    put(w, type);
    body(w);
    w.Key("sequence_number");
    w.Uint64(next_sequence++);
    w.EndObject();
    out.append("event: ").append(type).append("\ndata: ").append(buffer.GetString(), buffer.GetSize()).append("\n\n");
  }

  void fail(std::string& out, std::string_view code, std::string_view message) {
    if (ended) return;
    emit(out, "error", [&](JsonWriter& w) {
      w.Key("code");
      put(w, code);
      w.Key("message");
      put(w, message);
      w.Key("param");
      w.Null();
    });
    ended = true;
  }

  void emit_response(std::string& out, std::string_view type) {
    emit(out, type, [&](JsonWriter& w) {
      w.Key("response");
      responses_object::write_response(w, response, request);
    });
  }

  void start(std::string& out, const Value& chunk) {
    started = true;
    response.id = responses_object::new_id("resp_");
    const Value* created = json_pieces::any_member(chunk, "created");
    response.created_at = created && created->IsInt64() ? created->GetInt64() : responses_object::now_seconds();
    response.model = json_pieces::string_or_empty(chunk, "model");
    emit_response(out, "response.created");
    emit_response(out, "response.in_progress");
  }

  // Item members every per-item event carries.
  void put_item_ref(JsonWriter& w, size_t index, bool with_content_index) {
    w.Key("item_id");
    put(w, response.output[index].id);
    w.Key("output_index");
    w.Uint64(index);
    if (with_content_index) {
      w.Key("content_index");
      w.Uint(0);
    }
  }

  void emit_item(std::string& out, std::string_view type, size_t index, std::string_view status) {
    emit(out, type, [&](JsonWriter& w) {
      w.Key("output_index");
      w.Uint64(index);
      w.Key("item");
      responses_object::write_output_item(w, response.output[index], status, status == "completed");
    });
  }

  void emit_text_part(std::string& out, std::string_view type, size_t index) {
    emit(out, type, [&](JsonWriter& w) {
      put_item_ref(w, index, true);
      w.Key("part");
      responses_object::write_text_part(w, type == "response.content_part.done" ? response.output[index].text : "");
    });
  }

  // Counts what the answer keeps: false (after an error event) when it grows past the limits.
  bool take_bytes(std::string& out, size_t n, bool new_item = false) {
    answer_bytes += n;
    if (answer_bytes <= kMaxAnswerBytes && response.output.size() + new_item <= kMaxOutputItems) return true;
    fail(out, "answer_too_large", "the upstream's answer is too large to translate");
    return false;
  }

  void on_text(std::string& out, std::string_view delta) {
    if (delta.empty() || !take_bytes(out, delta.size(), !message_index)) return;
    if (!message_index) {
      message_index = response.output.size();
      response.output.push_back(
          OutputItem{OutputItem::Kind::Message, responses_object::new_id("msg_"), {}, {}, {}, {}, {}});
      emit_item(out, "response.output_item.added", *message_index, "in_progress");
      emit_text_part(out, "response.content_part.added", *message_index);
    }
    response.output[*message_index].text += delta;
    emit(out, "response.output_text.delta", [&](JsonWriter& w) {
      put_item_ref(w, *message_index, true);
      w.Key("delta");
      put(w, delta);
      w.Key("logprobs");
      w.StartArray();
      w.EndArray();
    });
  }

  size_t open_function_call(std::string& out, const Value& call, const Value* function) {
    size_t index = response.output.size();
    OutputItem item{OutputItem::Kind::FunctionCall, responses_object::new_id("fc_"), {}, {}, {}, {}, {}};
    std::string_view call_id = json_pieces::string_or_empty(call, "id");
    item.call_id = call_id.empty() ? responses_object::new_id("call_") : std::string(call_id);
    if (function) item.name = json_pieces::string_or_empty(*function, "name");
    response.output.push_back(std::move(item));
    emit_item(out, "response.output_item.added", index, "in_progress");
    return index;
  }

  // One element of delta.tool_calls: the first for its index opens the item; each carries a
  // piece of the arguments.
  void on_tool_call(std::string& out, const Value& call, uint64_t position) {
    if (!call.IsObject()) return;
    const Value* key = json_pieces::any_member(call, "index");
    uint64_t chat_index = key && key->IsUint64() ? key->GetUint64() : position;
    const Value* function = json_pieces::any_member(call, "function");
    if (function && !function->IsObject()) function = nullptr;
    auto found = function_items.find(chat_index);
    size_t index;
    if (found == function_items.end()) {
      if (!take_bytes(out, 0, true)) return;
      index = open_function_call(out, call, function);
      function_items.emplace(chat_index, index);
    } else {
      index = found->second;
      // A name sent after the call's first chunk is kept (it shows in the .done events).
      if (function && response.output[index].name.empty())
        response.output[index].name = json_pieces::string_or_empty(*function, "name");
    }
    std::string_view arguments = function ? json_pieces::string_or_empty(*function, "arguments") : "";
    if (arguments.empty() || !take_bytes(out, arguments.size())) return;
    response.output[index].arguments += arguments;
    emit(out, "response.function_call_arguments.delta", [&](JsonWriter& w) {
      put_item_ref(w, index, false);
      w.Key("delta");
      put(w, arguments);
    });
  }

  void on_choice(std::string& out, const Value& choice) {
    const Value* delta = json_pieces::any_member(choice, "delta");
    if (delta && delta->IsObject()) {
      on_text(out, json_pieces::string_or_empty(*delta, "content"));
      const Value* calls = json_pieces::any_member(*delta, "tool_calls");
      if (calls && calls->IsArray())
        for (rapidjson::SizeType i = 0; i < calls->Size() && !ended; ++i) on_tool_call(out, (*calls)[i], i);
    }
    std::string_view finish = json_pieces::string_or_empty(choice, "finish_reason");
    if (!finish.empty()) finish_reason = finish;
  }

  void on_upstream_error(std::string& out, const Value& error) {
    std::string_view message = error.IsString() ? std::string_view(error.GetString(), error.GetStringLength())
                                                : json_pieces::string_or_empty(error, "message");
    std::string_view code = json_pieces::string_or_empty(error, "code");
    if (code.empty()) code = json_pieces::string_or_empty(error, "type");
    fail(out, code.empty() ? "upstream_error" : code, message.empty() ? "the upstream reported an error" : message);
  }

  void on_chunk(std::string& out, std::string_view text) {
    rapidjson::Document chunk;
    if (auto why = parse_json(chunk, text))
      return fail(out, "bad_upstream_stream", "the upstream sent a chunk that is not JSON: " + *why);
    if (!chunk.IsObject())
      return fail(out, "bad_upstream_stream", "the upstream sent a chunk that is not a JSON object");
    if (const Value* error = json_pieces::any_member(chunk, "error"); error && !error->IsNull())
      return on_upstream_error(out, *error);
    if (!started) start(out, chunk);
    if (const Value* usage = json_pieces::any_member(chunk, "usage"))
      if (auto counts = responses_object::read_chat_usage(*usage)) response.usage = counts;
    if (const Value* choice = responses_stream::first_choice(chunk)) on_choice(out, *choice);
  }

  void on_event_end(std::string& out) {
    if (!has_data) return;
    has_data = false;
    if (data == "[DONE]")
      complete(out);
    else
      on_chunk(out, data);
    data.clear();
  }

  void on_line(std::string& out, std::string_view line) {
    line = responses_stream::without_cr(line);
    if (line.empty()) return on_event_end(out);
    if (line.substr(0, 5) != "data:") return;  // event:, id:, retry: and comments say nothing here
    line.remove_prefix(5);
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (has_data) data.push_back('\n');
    data.append(line);
    has_data = true;
    if (data.size() > kMaxEventBytes)
      fail(out, "bad_upstream_stream", "an event of the upstream's stream is too large");
  }

  void feed(std::string_view bytes, std::string& out) {
    while (!bytes.empty() && !ended) {
      size_t newline = bytes.find('\n');
      if (newline == std::string_view::npos) {
        partial_line.append(bytes);
        if (partial_line.size() > kMaxEventBytes)
          fail(out, "bad_upstream_stream", "a line of the upstream's stream is too large");
        return;
      }
      if (partial_line.empty()) {
        on_line(out, bytes.substr(0, newline));
      } else {
        partial_line.append(bytes.substr(0, newline));
        std::string whole = std::move(partial_line);
        partial_line.clear();
        on_line(out, whole);
      }
      bytes.remove_prefix(newline + 1);
    }
  }

  void close_item(std::string& out, size_t index) {
    const OutputItem& item = response.output[index];
    if (item.kind == OutputItem::Kind::Message) {
      emit(out, "response.output_text.done", [&](JsonWriter& w) {
        put_item_ref(w, index, true);
        w.Key("text");
        put(w, item.text);
        w.Key("logprobs");
        w.StartArray();
        w.EndArray();
      });
      emit_text_part(out, "response.content_part.done", index);
    } else {
      emit(out, "response.function_call_arguments.done", [&](JsonWriter& w) {
        put_item_ref(w, index, false);
        w.Key("arguments");
        put(w, item.arguments);
      });
    }
    emit_item(out, "response.output_item.done", index, "completed");
  }

  void complete(std::string& out) {
    if (ended) return;
    if (!started) return fail(out, "bad_upstream_stream", "the upstream ended its stream before answering");
    for (size_t i = 0; i < response.output.size(); ++i) close_item(out, i);
    response.incomplete_reason = responses_object::incomplete_reason_for(finish_reason);
    response.status = response.incomplete_reason.empty() ? "completed" : "incomplete";
    emit_response(out, response.incomplete_reason.empty() ? "response.completed" : "response.incomplete");
    ended = true;
  }

  void finish(std::string& out) {
    if (ended) return;
    // A last event the upstream did not end with a blank line still counts.
    if (!partial_line.empty()) {
      std::string last = std::move(partial_line);
      partial_line.clear();
      on_line(out, last);
    }
    on_event_end(out);
    complete(out);
  }
};

ChatStreamToResponses::ChatStreamToResponses(ResponsesRequestEcho request) : state_(std::make_unique<State>()) {
  state_->request = std::move(request);
}
ChatStreamToResponses::~ChatStreamToResponses() = default;
ChatStreamToResponses::ChatStreamToResponses(ChatStreamToResponses&&) noexcept = default;
ChatStreamToResponses& ChatStreamToResponses::operator=(ChatStreamToResponses&&) noexcept = default;

void ChatStreamToResponses::feed(std::string_view events, std::string& out) { state_->feed(events, out); }

void ChatStreamToResponses::finish(std::string& out) { state_->finish(out); }

std::string ChatStreamToResponses::error_event(std::string_view message) {
  std::string out;
  state_->fail(out, "upstream_error", message);
  return out;
}

uint64_t ChatStreamToResponses::input_tokens() const {
  return state_->response.usage ? state_->response.usage->input : 0;
}

uint64_t ChatStreamToResponses::output_tokens() const {
  return state_->response.usage ? state_->response.usage->output : 0;
}

}  // namespace apiproxy::translate
