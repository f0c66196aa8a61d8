#include "core/translate/chat_request_pieces.hpp"

namespace apiproxy::translate::chat_request_pieces {

using json_pieces::put_string;

namespace {

// "type":"function","function":{"name":NAME — how a tool, a tool call and a forced tool choice
// all name their function. The caller writes the function's other members, then closes it.
void open_chat_function(JsonWriter& w, std::string_view name) {
  w.Key("type");
  w.String("function");
  w.Key("function");
  w.StartObject();
  w.Key("name");
  put_string(w, name);
}

}  // namespace

void write_chat_image_part(JsonWriter& w, std::string_view url, std::string_view detail) {
  w.StartObject();
  w.Key("type");
  w.String("image_url");
  w.Key("image_url");
  w.StartObject();
  w.Key("url");
  put_string(w, url);
  if (!detail.empty()) {
    w.Key("detail");
    put_string(w, detail);
  }
  w.EndObject();
  w.EndObject();
}

void write_chat_function_tool(JsonWriter& w, std::string_view name, const rapidjson::Value* description,
                              const rapidjson::Value* parameters, const rapidjson::Value* strict) {
  w.StartObject();
  open_chat_function(w, name);
  if (description) {
    w.Key("description");
    put_string(w, json_pieces::text_of(*description));
  }
  if (parameters) {
    w.Key("parameters");
    parameters->Accept(w);
  }
  if (strict) {
    w.Key("strict");
    w.Bool(strict->GetBool());
  }
  w.EndObject();
  w.EndObject();
}

void write_chat_tool_call(JsonWriter& w, std::string_view id, std::string_view name, std::string_view arguments) {
  w.StartObject();
  w.Key("id");
  put_string(w, id);
  open_chat_function(w, name);
  w.Key("arguments");
  put_string(w, arguments);
  w.EndObject();
  w.EndObject();
}

void write_chat_named_tool_choice(JsonWriter& w, std::string_view name) {
  w.StartObject();
  open_chat_function(w, name);
  w.EndObject();
  w.EndObject();
}

void write_chat_stream_setting(JsonWriter& w, bool stream) {
  w.Key("stream");
  w.Bool(stream);
  if (!stream) return;
  w.Key("stream_options");
  w.StartObject();
  w.Key("include_usage");
  w.Bool(true);
  w.EndObject();
}

}  // namespace apiproxy::translate::chat_request_pieces
