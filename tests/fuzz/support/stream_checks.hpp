// What the fuzzers check of a translated event stream, one output run at a time (what one
// feed or finish appended): the run is whole events, each well-formed, and the events form
// the stream their translator promises. A broken promise stops the fuzzer (__builtin_trap).
//
//   MessagesStreamCheck  core/translate's Messages stream (anthropic_messages.hpp)
//   ResponsesStreamCheck core/translate's Responses stream (openai_responses.hpp)
//   ChatStreamCheck      the chat completions stream an adapter plugin makes of its upstream's
#pragma once

#include <cstdint>
#include <string_view>

#include <rapidjson/document.h>

#include "core/common/json_parse.hpp"

namespace apiproxy::fuzz {

inline void require(bool ok) {
  if (!ok) __builtin_trap();  // a broken promise: libFuzzer saves the input
}

inline const rapidjson::Value* json_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

inline bool json_string_is(const rapidjson::Value* v, std::string_view expected) {
  return v && v->IsString() && std::string_view(v->GetString(), v->GetStringLength()) == expected;
}

inline bool json_is_uint(const rapidjson::Value* v) { return v && v->IsUint64(); }

// Cuts the next `PREFIX...\n\n` line off `run`: its text between the prefix and the line
// end. The writers emit compact JSON, so a data line never holds a raw newline.
inline std::string_view take_line(std::string_view& run, std::string_view prefix) {
  require(run.substr(0, prefix.size()) == prefix);
  run.remove_prefix(prefix.size());
  size_t eol = run.find('\n');
  require(eol != std::string_view::npos);
  std::string_view text = run.substr(0, eol);
  run.remove_prefix(eol + 1);
  require(text.find('\r') == std::string_view::npos);
  return text;
}

// Calls on_event(name, data) for each `event: NAME\ndata: JSON\n\n` of `run`, where the
// JSON is an object whose `type` is NAME; traps on anything else.
template <class OnEvent>
void for_each_named_event(std::string_view run, OnEvent on_event) {
  while (!run.empty()) {
    std::string_view name = take_line(run, "event: ");
    std::string_view data = take_line(run, "data: ");
    require(!run.empty() && run.front() == '\n');  // the blank line that ends the event
    run.remove_prefix(1);
    require(!name.empty());
    rapidjson::Document doc;
    require(!parse_json(doc, data) && doc.IsObject());
    require(json_string_is(json_member(doc, "type"), name));
    on_event(name, static_cast<const rapidjson::Value&>(doc));
  }
}

// The Messages stream: message_start, one ping; content blocks numbered from 0, each started,
// given deltas of its kind and stopped before the next starts; message_delta, message_stop.
// Or one `error` event at any point. Nothing after the end.
class MessagesStreamCheck {
 public:
  void check(std::string_view run) {
    for_each_named_event(run, [this](std::string_view name, const rapidjson::Value& data) { on_event(name, data); });
  }
  // After finish(): the client has seen the end.
  void check_finished() const { require(phase_ == Phase::Ended); }

 private:
  enum class Phase { Before, Ping, Blocks, Stop, Ended };

  void on_event(std::string_view name, const rapidjson::Value& data) {
    require(phase_ != Phase::Ended);
    if (name == "error") {
      const rapidjson::Value* error = json_member(data, "error");
      require(error && json_member(*error, "type") && json_member(*error, "message"));
      require(json_member(*error, "message")->IsString());
      phase_ = Phase::Ended;
      return;
    }
    switch (phase_) {
      case Phase::Before:
        require(name == "message_start" && json_member(data, "message") && json_member(data, "message")->IsObject());
        phase_ = Phase::Ping;
        return;
      case Phase::Ping:
        require(name == "ping");
        phase_ = Phase::Blocks;
        return;
      case Phase::Blocks: return on_block_event(name, data);
      case Phase::Stop:
        require(name == "message_stop");
        phase_ = Phase::Ended;
        return;
      case Phase::Ended: break;
    }
  }

  void on_block_event(std::string_view name, const rapidjson::Value& data) {
    const rapidjson::Value* index = json_member(data, "index");
    if (name == "message_delta") {
      require(!open_);
      const rapidjson::Value* delta = json_member(data, "delta");
      require(delta && json_member(*delta, "stop_reason") && json_member(*delta, "stop_reason")->IsString());
      phase_ = Phase::Stop;
      return;
    }
    require(json_is_uint(index));
    if (name == "content_block_start") {
      require(!open_ && index->GetUint64() == next_index_);
      const rapidjson::Value* block = json_member(data, "content_block");
      require(block);
      text_block_ = json_string_is(json_member(*block, "type"), "text");
      require(text_block_ || json_string_is(json_member(*block, "type"), "tool_use"));
      open_ = true;
      ++next_index_;
    } else if (name == "content_block_delta") {
      require(open_ && index->GetUint64() == next_index_ - 1);
      const rapidjson::Value* delta = json_member(data, "delta");
      require(delta && json_string_is(json_member(*delta, "type"), text_block_ ? "text_delta" : "input_json_delta"));
    } else {
      require(name == "content_block_stop" && open_ && index->GetUint64() == next_index_ - 1);
      open_ = false;
    }
  }

  Phase phase_ = Phase::Before;
  bool open_ = false;        // a content block is started and not stopped
  bool text_block_ = false;  // the open block is text (else tool_use)
  uint64_t next_index_ = 0;
};

// The Responses stream: every event's sequence_number counts from 0 without gaps;
// response.created and response.in_progress first; items added in output order, every
// per-item event naming an added item; then response.completed or response.incomplete (a
// response with that status). Or one `error` event at any point. Nothing after the end.
class ResponsesStreamCheck {
 public:
  void check(std::string_view run) {
    for_each_named_event(run, [this](std::string_view name, const rapidjson::Value& data) { on_event(name, data); });
  }
  void check_finished() const { require(phase_ == Phase::Ended); }

 private:
  enum class Phase { Before, Created, Items, Ended };

  void on_event(std::string_view name, const rapidjson::Value& data) {
    require(phase_ != Phase::Ended);
    const rapidjson::Value* sequence = json_member(data, "sequence_number");
    require(json_is_uint(sequence) && sequence->GetUint64() == next_sequence_);
    ++next_sequence_;
    if (name == "error") {
      require(json_member(data, "message") && json_member(data, "message")->IsString());
      phase_ = Phase::Ended;
      return;
    }
    switch (phase_) {
      case Phase::Before:
        require(name == "response.created" && has_response(data, "in_progress"));
        phase_ = Phase::Created;
        return;
      case Phase::Created:
        require(name == "response.in_progress" && has_response(data, "in_progress"));
        phase_ = Phase::Items;
        return;
      case Phase::Items: return on_item_event(name, data);
      case Phase::Ended: break;
    }
  }

  void on_item_event(std::string_view name, const rapidjson::Value& data) {
    if (name == "response.completed" || name == "response.incomplete") {
      require(has_response(data, name.substr(std::string_view("response.").size())));
      phase_ = Phase::Ended;
      return;
    }
    const rapidjson::Value* index = json_member(data, "output_index");
    require(json_is_uint(index));
    if (name == "response.output_item.added")
      require(index->GetUint64() == items_++);
    else
      require(index->GetUint64() < items_);
  }

  static bool has_response(const rapidjson::Value& data, std::string_view status) {
    const rapidjson::Value* response = json_member(data, "response");
    return response && json_string_is(json_member(*response, "status"), status) &&
           json_member(*response, "output") && json_member(*response, "output")->IsArray();
  }

  Phase phase_ = Phase::Before;
  uint64_t next_sequence_ = 0;
  uint64_t items_ = 0;  // output items added so far
};

// A chat completions stream as an adapter hands it to the host: `data: JSON\n\n` events, each
// a chunk (with `choices`) or an error (with `error`), ended by `data: [DONE]` or the error.
// Nothing after the end.
class ChatStreamCheck {
 public:
  void check(std::string_view run) {
    while (!run.empty()) {
      require(!ended_);
      std::string_view data = take_line(run, "data: ");
      require(!run.empty() && run.front() == '\n');
      run.remove_prefix(1);
      if (data == "[DONE]") {
        ended_ = true;
        continue;
      }
      rapidjson::Document doc;
      require(!parse_json(doc, data) && doc.IsObject());
      const rapidjson::Value* error = json_member(doc, "error");
      const rapidjson::Value* choices = json_member(doc, "choices");
      require((error && error->IsObject()) || (choices && choices->IsArray()));
      if (error) ended_ = true;
    }
  }
  // After a finish() that succeeded: the stream was ended.
  void check_finished() const { require(ended_); }

 private:
  bool ended_ = false;
};

}  // namespace apiproxy::fuzz
