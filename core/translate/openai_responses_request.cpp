// A Responses request -> a chat completions request. What chat completions cannot express
// (stored state, hosted tools, files by id) is refused with a message naming it, rather than
// dropped: a client would otherwise get an answer to a different question.
#include <optional>
#include <string>
#include <vector>

#include "core/common/json_parse.hpp"
#include "core/translate/chat_request_pieces.hpp"
#include "core/translate/json_pieces.hpp"
#include "core/translate/openai_responses.hpp"

namespace apiproxy::translate {

namespace responses_request {

using namespace chat_request_pieces;
// json_pieces::given_member reads an absent member and a null one alike, as the API does: "not given".
using namespace json_pieces;
using Value = rapidjson::Value;
// Why a request is refused; nullopt when it is fine.
using Why = std::optional<std::string>;

std::string unsupported(std::string_view what, std::string_view name) {
  return std::string(what) + " '" + std::string(name) + "' is not supported by this upstream";
}

// One piece of a chat message's content.
struct ChatPart {
  bool image = false;
  std::string text;    // a text part
  std::string url;     // an image part: an https or data: URL
  std::string detail;  // an image part: low | high | auto, or empty
};

struct ChatToolCall {
  std::string id, name, arguments;
};

struct ChatMessage {
  std::string role;
  std::vector<ChatPart> parts;
  std::vector<ChatToolCall> tool_calls;  // assistant
  std::string tool_call_id;              // tool
};

Why read_image_part(const Value& part, std::string_view role, std::vector<ChatPart>& parts) {
  if (role != "user") return "only user messages can hold images";
  const Value* url = given_string(part, "image_url");
  if (!url) {
    if (given_member(part, "file_id"))
      return std::string("an input_image by file_id is not supported by this upstream");
    return std::string("an input_image needs an image_url string");
  }
  ChatPart image{true, {}, std::string(text_of(*url)), {}};
  if (const Value* detail = given_string(part, "detail")) image.detail = text_of(*detail);
  parts.push_back(std::move(image));
  return std::nullopt;
}

Why read_part(const Value& part, std::string_view role, std::vector<ChatPart>& parts) {
  if (!part.IsObject()) return std::string("a content part must be an object");
  const Value* type = given_string(part, "type");
  if (!type) return std::string("a content part needs a string 'type'");
  std::string_view kind = text_of(*type);
  if (kind == "input_image") return read_image_part(part, role, parts);
  // A refusal from an earlier answer is given back as text: chat history has no other place for it.
  const char* text_member = kind == "input_text" || kind == "output_text" ? "text"
                            : kind == "refusal"                           ? "refusal"
                                                                          : nullptr;
  if (!text_member) return unsupported("content type", kind);
  const Value* text = given_member(part, text_member);
  if (!text || !text->IsString()) return "a " + std::string(kind) + " part needs a string '" + text_member + "'";
  parts.push_back(ChatPart{false, std::string(text_of(*text)), {}, {}});
  return std::nullopt;
}

Why read_content(const Value* content, std::string_view role, std::vector<ChatPart>& parts) {
  if (!content) return std::string("a message needs 'content'");
  if (content->IsString()) {
    parts.push_back(ChatPart{false, std::string(text_of(*content)), {}, {}});
    return std::nullopt;
  }
  if (!content->IsArray()) return std::string("a message's 'content' must be a string or an array of parts");
  for (const auto& part : content->GetArray())
    if (auto why = read_part(part, role, parts)) return why;
  return std::nullopt;
}

// {role, content} (with or without type "message") -> one chat message.
Why read_message_item(const Value& item, std::vector<ChatMessage>& messages) {
  const Value* role = given_string(item, "role");
  if (!role) return std::string("a message needs a string 'role'");
  std::string_view name = text_of(*role);
  if (name != "user" && name != "assistant" && name != "system" && name != "developer")
    return unsupported("message role", name);
  ChatMessage message;
  // Chat completions' "developer" role is not spoken by every compatible upstream; "system" is.
  message.role = name == "developer" ? "system" : std::string(name);
  if (auto why = read_content(given_member(item, "content"), message.role, message.parts)) return why;
  messages.push_back(std::move(message));
  return std::nullopt;
}

// A function call the model made earlier joins the assistant message right before it (its text,
// or the calls made with it): chat completions holds one turn's calls in one message.
Why read_function_call(const Value& item, std::vector<ChatMessage>& messages) {
  const Value* call_id = given_string(item, "call_id");
  const Value* name = given_string(item, "name");
  const Value* arguments = given_string(item, "arguments");
  if (!call_id || !name || !arguments)
    return std::string("a function_call needs string 'call_id', 'name' and 'arguments'");
  if (messages.empty() || messages.back().role != "assistant") messages.push_back(ChatMessage{"assistant", {}, {}, {}});
  messages.back().tool_calls.push_back(
      ChatToolCall{std::string(text_of(*call_id)), std::string(text_of(*name)), std::string(text_of(*arguments))});
  return std::nullopt;
}

// A function's result: a string, or (newer clients) an array of input_text parts.
Why read_function_output(const Value* output, std::string& text) {
  if (!output) return std::string("a function_call_output needs 'output'");
  if (output->IsString()) {
    text = text_of(*output);
    return std::nullopt;
  }
  if (!output->IsArray()) return std::string("a function_call_output's 'output' must be a string or an array");
  for (const auto& part : output->GetArray()) {
    const Value* type = part.IsObject() ? given_string(part, "type") : nullptr;
    if (!type || text_of(*type) != "input_text")
      return std::string("only input_text parts can be a function_call_output");
    const Value* piece = given_string(part, "text");
    if (!piece) return std::string("an input_text part needs a string 'text'");
    text += text_of(*piece);
  }
  return std::nullopt;
}

Why read_function_call_output(const Value& item, std::vector<ChatMessage>& messages) {
  const Value* call_id = given_string(item, "call_id");
  if (!call_id) return std::string("a function_call_output needs a string 'call_id'");
  ChatMessage message{"tool", {}, {}, std::string(text_of(*call_id))};
  std::string text;
  if (auto why = read_function_output(given_member(item, "output"), text)) return why;
  message.parts.push_back(ChatPart{false, std::move(text), {}, {}});
  messages.push_back(std::move(message));
  return std::nullopt;
}

Why read_item(const Value& item, std::vector<ChatMessage>& messages) {
  if (!item.IsObject()) return std::string("an input item must be an object");
  const Value* type = given_member(item, "type");
  if (!type) return read_message_item(item, messages);  // the short form: {role, content}
  if (!type->IsString()) return std::string("an input item's 'type' must be a string");
  std::string_view kind = text_of(*type);
  if (kind == "message") return read_message_item(item, messages);
  if (kind == "function_call") return read_function_call(item, messages);
  if (kind == "function_call_output") return read_function_call_output(item, messages);
  // This translation never produces reasoning items; one a client hands back (from another
  // upstream) carries nothing a chat model can read.
  if (kind == "reasoning") return std::nullopt;
  return unsupported("input item type", kind);
}

Why read_input(const Value* input, std::vector<ChatMessage>& messages) {
  if (!input) return std::string("'input' is required");
  if (input->IsString()) {
    messages.push_back(ChatMessage{"user", {ChatPart{false, std::string(text_of(*input)), {}, {}}}, {}, {}});
    return std::nullopt;
  }
  if (!input->IsArray()) return std::string("'input' must be a string or an array of input items");
  size_t index = 0;
  for (const auto& item : input->GetArray()) {
    if (auto why = read_item(item, messages)) return "input[" + std::to_string(index) + "]: " + *why;
    ++index;
  }
  return std::nullopt;
}

// Text-only content goes as a string (what every compatible upstream accepts); content with an
// image as an array of parts.
void write_content(JsonWriter& w, const ChatMessage& message) {
  bool has_image = false;
  for (const auto& part : message.parts) has_image = has_image || part.image;
  if (message.parts.empty() && !message.tool_calls.empty()) {
    w.Null();
  } else if (!has_image) {
    std::string text;
    for (size_t i = 0; i < message.parts.size(); ++i) text += (i ? "\n" : "") + message.parts[i].text;
    put_string(w, text);
  } else {
    w.StartArray();
    for (const auto& part : message.parts) {
      if (part.image) write_chat_image_part(w, part.url, part.detail);
      else write_text_part(w, part.text);
    }
    w.EndArray();
  }
}

void write_tool_calls(JsonWriter& w, const std::vector<ChatToolCall>& calls) {
  w.StartArray();
  for (const auto& call : calls) write_chat_tool_call(w, call.id, call.name, call.arguments);
  w.EndArray();
}

void write_messages(JsonWriter& w, const std::vector<ChatMessage>& messages) {
  w.StartArray();
  for (const auto& message : messages) {
    w.StartObject();
    w.Key("role");
    put_string(w, message.role);
    w.Key("content");
    write_content(w, message);
    if (!message.tool_calls.empty()) {
      w.Key("tool_calls");
      write_tool_calls(w, message.tool_calls);
    }
    if (message.role == "tool") {
      w.Key("tool_call_id");
      put_string(w, message.tool_call_id);
    }
    w.EndObject();
  }
  w.EndArray();
}

// One function tool, {type, name, description, parameters, strict} -> {type, function: {...}}.
Why write_tool(JsonWriter& w, const Value& tool) {
  if (!tool.IsObject()) return std::string("a tool must be an object");
  const Value* type = given_string(tool, "type");
  if (!type) return std::string("a tool needs a string 'type'");
  if (text_of(*type) != "function") return unsupported("tool type", text_of(*type));
  const Value* name = given_string(tool, "name");
  if (!name) return std::string("a function tool needs a string 'name'");
  const Value* description = given_member(tool, "description");
  const Value* parameters = given_member(tool, "parameters");
  const Value* strict = given_member(tool, "strict");
  if (description && !description->IsString()) return std::string("a tool's 'description' must be a string");
  if (parameters && !parameters->IsObject()) return std::string("a tool's 'parameters' must be an object");
  if (strict && !strict->IsBool()) return std::string("a tool's 'strict' must be a boolean");
  write_chat_function_tool(w, text_of(*name), description, parameters, strict);
  return std::nullopt;
}

Why write_tools(JsonWriter& w, const Value& tools) {
  if (!tools.IsArray()) return std::string("'tools' must be an array");
  w.Key("tools");
  w.StartArray();
  for (const auto& tool : tools.GetArray())
    if (auto why = write_tool(w, tool)) return why;
  w.EndArray();
  return std::nullopt;
}

// "auto" | "none" | "required" | {type: "function", name} -> chat's tool_choice.
Why write_tool_choice(JsonWriter& w, const Value& choice) {
  if (choice.IsString()) {
    std::string_view mode = text_of(choice);
    if (mode != "auto" && mode != "none" && mode != "required") return unsupported("tool_choice", mode);
    w.Key("tool_choice");
    put_string(w, mode);
    return std::nullopt;
  }
  if (!choice.IsObject()) return std::string("'tool_choice' must be a string or an object");
  const Value* type = given_string(choice, "type");
  if (!type) return std::string("'tool_choice' needs a string 'type'");
  if (text_of(*type) != "function") return unsupported("tool_choice type", text_of(*type));
  const Value* name = given_string(choice, "name");
  if (!name) return std::string("a function 'tool_choice' needs a string 'name'");
  w.Key("tool_choice");
  write_chat_named_tool_choice(w, text_of(*name));
  return std::nullopt;
}

// {type: json_schema, name, schema, strict, description} -> chat's response_format.
Why write_json_schema_format(JsonWriter& w, const Value& format) {
  const Value* name = given_string(format, "name");
  const Value* schema = given_member(format, "schema");
  const Value* strict = given_member(format, "strict");
  const Value* description = given_member(format, "description");
  if (!name) return std::string("a json_schema 'text.format' needs a string 'name'");
  if (!schema || !schema->IsObject()) return std::string("a json_schema 'text.format' needs an object 'schema'");
  if (strict && !strict->IsBool()) return std::string("'text.format.strict' must be a boolean");
  if (description && !description->IsString()) return std::string("'text.format.description' must be a string");
  w.Key("response_format");
  w.StartObject();
  w.Key("type");
  w.String("json_schema");
  w.Key("json_schema");
  w.StartObject();
  w.Key("name");
  put_string(w, text_of(*name));
  if (description) {
    w.Key("description");
    put_string(w, text_of(*description));
  }
  w.Key("schema");
  schema->Accept(w);
  if (strict) {
    w.Key("strict");
    w.Bool(strict->GetBool());
  }
  w.EndObject();
  w.EndObject();
  return std::nullopt;
}

// `text: {format}`; format "text" (the default) needs nothing in chat completions.
Why write_text_format(JsonWriter& w, const Value& text, ResponsesRequestEcho& echo) {
  if (!text.IsObject()) return std::string("'text' must be an object");
  const Value* format = given_member(text, "format");
  if (!format) return std::nullopt;
  const Value* type = format->IsObject() ? given_string(*format, "type") : nullptr;
  if (!type) return std::string("'text.format' must be an object with a string 'type'");
  std::string_view kind = text_of(*type);
  echo.text_format_json = serialized(*format);
  if (kind == "text") return std::nullopt;
  if (kind == "json_schema") return write_json_schema_format(w, *format);
  if (kind != "json_object") return unsupported("text.format type", kind);
  w.Key("response_format");
  w.StartObject();
  w.Key("type");
  w.String("json_object");
  w.EndObject();
  return std::nullopt;
}

// Fields that need state or services this gateway does not have.
Why refused_field(const Value& request) {
  if (given_member(request, "previous_response_id"))
    return std::string(
        "'previous_response_id' is not supported: the gateway keeps no response state; "
        "send the whole conversation in 'input'");
  if (given_member(request, "conversation"))
    return std::string("'conversation' is not supported: the gateway keeps no state");
  if (given_member(request, "prompt"))
    return std::string("'prompt' (a stored prompt template) is not supported by this upstream");
  if (const Value* background = given_member(request, "background");
      background && !(background->IsBool() && !background->GetBool()))
    return std::string("'background' is not supported: the gateway keeps no response state");
  return std::nullopt;
}

// A number setting (temperature, top_p) copied under the same name.
Why copy_number(JsonWriter& w, const Value& request, const char* name, std::optional<double>& echo) {
  const Value* value = given_member(request, name);
  if (!value) return std::nullopt;
  if (!value->IsNumber()) return "'" + std::string(name) + "' must be a number";
  w.Key(name);
  value->Accept(w);
  echo = value->GetDouble();
  return std::nullopt;
}

// The settings after `messages`, in the order chat completions documents them.
Why write_settings(JsonWriter& w, const Value& request, ResponsesRequestEcho& echo) {
  if (const Value* tools = given_member(request, "tools")) {
    if (auto why = write_tools(w, *tools)) return why;
    echo.tools_json = serialized(*tools);
  }
  if (const Value* choice = given_member(request, "tool_choice")) {
    if (auto why = write_tool_choice(w, *choice)) return why;
    echo.tool_choice_json = serialized(*choice);
  }
  if (const Value* parallel = given_member(request, "parallel_tool_calls")) {
    if (!parallel->IsBool()) return std::string("'parallel_tool_calls' must be a boolean");
    w.Key("parallel_tool_calls");
    w.Bool(parallel->GetBool());
    echo.parallel_tool_calls = parallel->GetBool();
  }
  if (const Value* max = given_member(request, "max_output_tokens")) {
    if (!max->IsUint64()) return std::string("'max_output_tokens' must be a whole number");
    w.Key("max_tokens");
    w.Uint64(max->GetUint64());
    echo.max_output_tokens = max->GetUint64();
  }
  if (auto why = copy_number(w, request, "temperature", echo.temperature)) return why;
  if (auto why = copy_number(w, request, "top_p", echo.top_p)) return why;
  if (const Value* user = given_member(request, "user")) {
    if (!user->IsString()) return std::string("'user' must be a string");
    w.Key("user");
    put_string(w, text_of(*user));
    echo.user = std::string(text_of(*user));
  }
  if (const Value* text = given_member(request, "text"))
    if (auto why = write_text_format(w, *text, echo)) return why;
  if (const Value* metadata = given_member(request, "metadata"); metadata && metadata->IsObject())
    echo.metadata_json = serialized(*metadata);
  return std::nullopt;
}

// `stream: true` asks for the usage chunk too: the Response's usage and the gateway's accounting need it.
Why write_stream(JsonWriter& w, const Value& request) {
  const Value* stream = given_member(request, "stream");
  if (!stream) return std::nullopt;
  if (!stream->IsBool()) return std::string("'stream' must be a boolean");
  write_chat_stream_setting(w, stream->GetBool());
  return std::nullopt;
}

Why read_messages(const Value& request, std::vector<ChatMessage>& messages, ResponsesRequestEcho& echo) {
  if (const Value* instructions = given_member(request, "instructions")) {
    if (!instructions->IsString()) return std::string("'instructions' must be a string");
    messages.push_back(ChatMessage{"system", {ChatPart{false, std::string(text_of(*instructions)), {}, {}}}, {}, {}});
    echo.instructions = std::string(text_of(*instructions));
  }
  if (auto why = read_input(given_member(request, "input"), messages)) return why;
  if (messages.empty()) return std::string("'input' holds no message");
  return std::nullopt;
}

Why translate(const Value& request, JsonWriter& w, ResponsesRequestEcho& echo) {
  if (!request.IsObject()) return std::string("the request body must be a JSON object");
  if (auto why = refused_field(request)) return why;
  std::vector<ChatMessage> messages;
  if (auto why = read_messages(request, messages, echo)) return why;
  w.StartObject();
  if (const Value* model = given_member(request, "model")) {
    if (!model->IsString()) return std::string("'model' must be a string");
    w.Key("model");
    put_string(w, text_of(*model));
    echo.model = text_of(*model);
  }
  w.Key("messages");
  write_messages(w, messages);
  if (auto why = write_settings(w, request, echo)) return why;
  if (auto why = write_stream(w, request)) return why;
  w.EndObject();
  return std::nullopt;
}

}  // namespace responses_request

Result<std::string> responses_request_to_chat(std::string_view responses_body, ResponsesRequestEcho* echo) {
  rapidjson::Document request;
  if (auto why = parse_json(request, responses_body)) return Error{"the request body is not valid JSON: " + *why};
  rapidjson::StringBuffer buffer;
  json_pieces::JsonWriter w(buffer);
  ResponsesRequestEcho summary;
  if (auto why = responses_request::translate(request, w, summary)) return Error{*why};
  if (echo) *echo = std::move(summary);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace apiproxy::translate
