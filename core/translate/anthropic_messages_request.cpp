// A Messages request -> a chat completions request (see anthropic_messages.hpp).
#include <optional>
#include <string>

#include "core/common/json_parse.hpp"
#include "core/common/utf8.hpp"
#include "core/translate/anthropic_messages.hpp"
#include "core/translate/chat_request_pieces.hpp"
#include "core/translate/json_pieces.hpp"

namespace apiproxy::translate {

namespace anthropic_messages_request {

using rapidjson::Value;
// json_pieces::given_member reads a null member as absent: a client may send `"temperature": null` for "unset".
using namespace json_pieces;
using namespace chat_request_pieces;
// What is wrong with the request, when something is.
using Why = std::optional<std::string>;

// How much of a client's own text (a block type, a role) an error message quotes.
constexpr size_t kMaxQuotedBytes = 64;

enum class BlockType { Text, Image, ToolUse, ToolResult, Thinking };

std::string indexed(std::string_view path, size_t i) { return std::string(path) + "[" + std::to_string(i) + "]"; }

// A client's text in an error message: short, and whole UTF-8 (a cut may split a character).
std::string quoted(std::string_view s) {
  return "'" + to_valid_utf8(s.substr(0, kMaxQuotedBytes)) + (s.size() > kMaxQuotedBytes ? "...'" : "'");
}

Why must_be_string(const Value* v, const std::string& path) {
  if (v && v->IsString()) return std::nullopt;
  return path + ": must be a string";
}

// Text blocks joined with `separator`; system prompts and tool results are lists of text.
Why join_text_blocks(const Value& blocks, const std::string& path, std::string_view separator, std::string& joined) {
  for (rapidjson::SizeType i = 0; i < blocks.Size(); ++i) {
    const Value& block = blocks[i];
    std::string at = indexed(path, i);
    if (!block.IsObject()) return at + ": must be an object";
    const Value* type = given_member(block, "type");
    if (!type || !type->IsString() || text_of(*type) != "text") return at + ": must be a text block";
    const Value* text = given_member(block, "text");
    if (auto why = must_be_string(text, at + ".text")) return why;
    if (!joined.empty()) joined += separator;
    joined += text_of(*text);
  }
  return std::nullopt;
}

// --- Checking blocks -----------------------------------------------------------------------

Why check_image_source(const Value& block, const std::string& path) {
  const Value* source = given_member(block, "source");
  if (!source || !source->IsObject()) return path + ".source: must be an object";
  const Value* type = given_member(*source, "type");
  if (auto why = must_be_string(type, path + ".source.type")) return why;
  if (text_of(*type) == "base64") {
    if (auto why = must_be_string(given_member(*source, "media_type"), path + ".source.media_type")) return why;
    return must_be_string(given_member(*source, "data"), path + ".source.data");
  }
  if (text_of(*type) == "url") return must_be_string(given_member(*source, "url"), path + ".source.url");
  return path + ".source.type: image source " + quoted(text_of(*type)) + " is not supported (base64 or url)";
}

Why check_tool_result(const Value& block, const std::string& path) {
  if (auto why = must_be_string(given_member(block, "tool_use_id"), path + ".tool_use_id")) return why;
  const Value* is_error = given_member(block, "is_error");
  if (is_error && !is_error->IsBool()) return path + ".is_error: must be a boolean";
  const Value* content = given_member(block, "content");
  if (!content || content->IsString()) return std::nullopt;
  if (!content->IsArray()) return path + ".content: must be a string or an array of text and image blocks";
  for (rapidjson::SizeType i = 0; i < content->Size(); ++i) {
    const Value& part = (*content)[i];
    std::string at = indexed(path + ".content", i);
    const Value* type = part.IsObject() ? given_member(part, "type") : nullptr;
    if (!type || !type->IsString()) return at + ": must be a block with a string type";
    if (text_of(*type) == "text") {
      if (auto why = must_be_string(given_member(part, "text"), at + ".text")) return why;
    } else if (text_of(*type) == "image") {
      if (auto why = check_image_source(part, at)) return why;
    } else {
      return at + ": block type " + quoted(text_of(*type)) + " is not supported in a tool result";
    }
  }
  return std::nullopt;
}

// The block's type, once its fields have been checked.
Why check_block(const Value& block, const std::string& path, BlockType& type_out) {
  if (!block.IsObject()) return path + ": must be an object";
  const Value* type = given_member(block, "type");
  if (auto why = must_be_string(type, path + ".type")) return why;
  std::string_view type_name = text_of(*type);
  if (type_name == "text") {
    type_out = BlockType::Text;
    return must_be_string(given_member(block, "text"), path + ".text");
  }
  if (type_name == "image") {
    type_out = BlockType::Image;
    return check_image_source(block, path);
  }
  if (type_name == "tool_use") {
    type_out = BlockType::ToolUse;
    if (auto why = must_be_string(given_member(block, "id"), path + ".id")) return why;
    if (auto why = must_be_string(given_member(block, "name"), path + ".name")) return why;
    const Value* input = given_member(block, "input");
    if (!input || !input->IsObject()) return path + ".input: must be an object";
    return std::nullopt;
  }
  if (type_name == "tool_result") {
    type_out = BlockType::ToolResult;
    return check_tool_result(block, path);
  }
  if (type_name == "thinking" || type_name == "redacted_thinking") {
    type_out = BlockType::Thinking;
    return std::nullopt;
  }
  if (type_name == "document") return path + ": document blocks are not supported by this model's upstream";
  return path + ": unknown block type " + quoted(type_name);
}

// Checks every block of a message's content array and that each may appear in the role's message.
Why check_blocks(const Value& blocks, const std::string& path, bool from_user) {
  for (rapidjson::SizeType i = 0; i < blocks.Size(); ++i) {
    std::string at = indexed(path, i);
    BlockType type;
    if (auto why = check_block(blocks[i], at, type)) return why;
    bool allowed = from_user ? (type == BlockType::Text || type == BlockType::Image || type == BlockType::ToolResult)
                             : (type == BlockType::Text || type == BlockType::ToolUse || type == BlockType::Thinking);
    if (!allowed)
      return at + ": '" + std::string(text_of(blocks[i]["type"])) + "' blocks may not appear in " +
             (from_user ? "a user" : "an assistant") + " message";
  }
  return std::nullopt;
}

// --- Writing messages (their content has been checked) ------------------------------------

std::string_view type_of(const Value& block) { return text_of(block["type"]); }

// An image block's source as the URL chat completions takes: its own, or a data: URL.
std::string image_url_of(const Value& image) {
  const Value& source = image["source"];
  if (text_of(source["type"]) != "base64") return std::string(text_of(source["url"]));
  return "data:" + std::string(text_of(source["media_type"])) + ";base64," + std::string(text_of(source["data"]));
}

// A tool result's text. Chat completions has no error flag on a tool message, so an error
// result says so in its text, where the model reads it.
std::string tool_result_text(const Value& result) {
  std::string text;
  const Value* content = given_member(result, "content");
  if (content && content->IsString()) {
    text = text_of(*content);
  } else if (content) {
    for (const Value& part : content->GetArray()) {
      if (type_of(part) != "text") continue;
      if (!text.empty()) text += "\n";
      text += text_of(part["text"]);
    }
  }
  const Value* is_error = given_member(result, "is_error");
  if (is_error && is_error->GetBool()) text = text.empty() ? "Error" : "Error: " + text;
  return text;
}

void write_tool_message(const Value& result, JsonWriter& w) {
  w.StartObject();
  w.Key("role");
  w.String("tool");
  w.Key("tool_call_id");
  put_string(w, text_of(result["tool_use_id"]));
  w.Key("content");
  put_string(w, tool_result_text(result));
  w.EndObject();
}

// Images inside tool results: a chat tool message holds text only, so they go to the user
// message that follows the tool messages, where the model still sees them.
template <class Visit>
void for_each_user_part(const Value& blocks, Visit visit) {
  for (const Value& block : blocks.GetArray()) {
    std::string_view type = type_of(block);
    if (type == "text" || type == "image") {
      visit(block);
    } else if (type == "tool_result") {
      const Value* content = given_member(block, "content");
      if (!content || !content->IsArray()) continue;
      for (const Value& part : content->GetArray())
        if (type_of(part) == "image") visit(part);
    }
  }
}

// A user turn in blocks: its tool results first, as tool messages (chat completions wants them
// right after the assistant message that made the calls), then the rest as one user message.
void write_user_blocks(const Value& blocks, JsonWriter& w) {
  bool has_tool_results = false;
  for (const Value& block : blocks.GetArray()) {
    if (type_of(block) != "tool_result") continue;
    has_tool_results = true;
    write_tool_message(block, w);
  }
  size_t parts = 0;
  const Value* first = nullptr;
  for_each_user_part(blocks, [&](const Value& part) {
    if (!first) first = &part;
    ++parts;
  });
  if (parts == 0 && has_tool_results) return;
  w.StartObject();
  w.Key("role");
  w.String("user");
  w.Key("content");
  if (parts == 0) {
    w.String("");
  } else if (parts == 1 && type_of(*first) == "text") {
    put_string(w, text_of((*first)["text"]));  // the plain form, which every OpenAI-compatible server reads
  } else {
    w.StartArray();
    for_each_user_part(blocks, [&](const Value& part) {
      if (type_of(part) == "text") write_text_part(w, text_of(part["text"]));
      else write_chat_image_part(w, image_url_of(part));
    });
    w.EndArray();
  }
  w.EndObject();
}

// An assistant turn in blocks: its text (the pieces of one reply, so joined as they are) and
// its tool calls; thinking blocks are dropped (an OpenAI model can neither read nor verify them).
void write_assistant_blocks(const Value& blocks, JsonWriter& w) {
  std::string text;
  bool has_tool_calls = false;
  for (const Value& block : blocks.GetArray()) {
    if (type_of(block) == "text") text += text_of(block["text"]);
    if (type_of(block) == "tool_use") has_tool_calls = true;
  }
  // Nothing left to say (thinking only): an empty assistant message is refused by some servers.
  if (text.empty() && !has_tool_calls) return;
  w.StartObject();
  w.Key("role");
  w.String("assistant");
  w.Key("content");
  if (text.empty()) w.Null();
  else put_string(w, text);
  if (has_tool_calls) {
    w.Key("tool_calls");
    w.StartArray();
    for (const Value& block : blocks.GetArray())
      if (type_of(block) == "tool_use")
        write_chat_tool_call(w, text_of(block["id"]), text_of(block["name"]), json_pieces::serialized(block["input"]));
    w.EndArray();
  }
  w.EndObject();
}

Why write_message(const Value& message, const std::string& path, JsonWriter& w) {
  if (!message.IsObject()) return path + ": must be an object";
  const Value* role = given_member(message, "role");
  if (auto why = must_be_string(role, path + ".role")) return why;
  bool from_user = text_of(*role) == "user";
  if (!from_user && text_of(*role) != "assistant")
    return path + ".role: unknown role " + quoted(text_of(*role)) + " (user or assistant)";
  const Value* content = given_member(message, "content");
  if (content && content->IsString()) {
    w.StartObject();
    w.Key("role");
    put_string(w, text_of(*role));
    w.Key("content");
    put_string(w, text_of(*content));
    w.EndObject();
    return std::nullopt;
  }
  if (!content || !content->IsArray()) return path + ".content: must be a string or an array of content blocks";
  if (auto why = check_blocks(*content, path + ".content", from_user)) return why;
  if (from_user) write_user_blocks(*content, w);
  else write_assistant_blocks(*content, w);
  return std::nullopt;
}

// `system`, as one leading system message (blocks are separate parts of one prompt).
Why write_system(const Value& request, JsonWriter& w) {
  const Value* system = given_member(request, "system");
  if (!system) return std::nullopt;
  std::string prompt;
  if (system->IsString()) prompt = text_of(*system);
  else if (!system->IsArray()) return "system: must be a string or an array of text blocks";
  else if (auto why = join_text_blocks(*system, "system", "\n\n", prompt)) return why;
  if (prompt.empty()) return std::nullopt;
  w.StartObject();
  w.Key("role");
  w.String("system");
  w.Key("content");
  put_string(w, prompt);
  w.EndObject();
  return std::nullopt;
}

Why write_messages(const Value& request, JsonWriter& w) {
  const Value* messages = given_member(request, "messages");
  if (!messages || !messages->IsArray() || messages->Empty()) return "messages: must be a non-empty array";
  w.Key("messages");
  w.StartArray();
  if (auto why = write_system(request, w)) return why;
  for (rapidjson::SizeType i = 0; i < messages->Size(); ++i)
    if (auto why = write_message((*messages)[i], indexed("messages", i), w)) return why;
  w.EndArray();
  return std::nullopt;
}

// --- Parameters ----------------------------------------------------------------------------

Why write_sampling(const Value& request, JsonWriter& w) {
  const Value* max_tokens = given_member(request, "max_tokens");
  if (!max_tokens || !max_tokens->IsUint64() || max_tokens->GetUint64() == 0)
    return "max_tokens: must be a positive integer";
  w.Key("max_tokens");
  w.Uint64(max_tokens->GetUint64());
  for (const char* name : {"temperature", "top_p"}) {
    const Value* value = given_member(request, name);
    if (!value) continue;
    if (!value->IsNumber()) return std::string(name) + ": must be a number";
    w.Key(name);
    value->Accept(w);
  }
  // Chat completions has no top_k; it is checked, then left out.
  const Value* top_k = given_member(request, "top_k");
  if (top_k && !top_k->IsNumber()) return "top_k: must be a number";
  return std::nullopt;
}

Why write_stop_sequences(const Value& request, JsonWriter& w) {
  const Value* stops = given_member(request, "stop_sequences");
  if (!stops) return std::nullopt;
  if (!stops->IsArray()) return "stop_sequences: must be an array of strings";
  for (rapidjson::SizeType i = 0; i < stops->Size(); ++i)
    if (auto why = must_be_string(&(*stops)[i], indexed("stop_sequences", i))) return why;
  if (stops->Empty()) return std::nullopt;
  w.Key("stop");
  stops->Accept(w);
  return std::nullopt;
}

// With `stream`, also asks for the usage chunk: the Messages stream reports usage at its end.
Why write_stream(const Value& request, JsonWriter& w) {
  const Value* stream = given_member(request, "stream");
  if (!stream) return std::nullopt;
  if (!stream->IsBool()) return "stream: must be a boolean";
  write_chat_stream_setting(w, stream->GetBool());
  return std::nullopt;
}

Why write_tool(const Value& tool, const std::string& path, JsonWriter& w) {
  if (!tool.IsObject()) return path + ": must be an object";
  // Anthropic's own server tools (web search, code execution, ...) run at Anthropic only.
  const Value* type = given_member(tool, "type");
  if (type && (!type->IsString() || text_of(*type) != "custom"))
    return path + ".type: tool type " + (type->IsString() ? quoted(text_of(*type)) : std::string("'?'")) +
           " is not supported by this model's upstream";
  const Value* name = given_member(tool, "name");
  if (!name || !name->IsString() || name->GetStringLength() == 0) return path + ".name: must be a non-empty string";
  const Value* description = given_member(tool, "description");
  if (description && !description->IsString()) return path + ".description: must be a string";
  const Value* schema = given_member(tool, "input_schema");
  if (!schema || !schema->IsObject()) return path + ".input_schema: must be an object";
  write_chat_function_tool(w, text_of(*name), description, schema);
  return std::nullopt;
}

Why write_tools(const Value& tools, JsonWriter& w) {
  if (!tools.IsArray()) return "tools: must be an array";
  w.Key("tools");
  w.StartArray();
  for (rapidjson::SizeType i = 0; i < tools.Size(); ++i)
    if (auto why = write_tool(tools[i], indexed("tools", i), w)) return why;
  w.EndArray();
  return std::nullopt;
}

// tool_choice {type: auto|any|tool|none}. Written only when there are tools: OpenAI refuses
// tool_choice and parallel_tool_calls without them.
Why write_tool_choice(const Value& choice, bool has_tools, JsonWriter& w) {
  if (!choice.IsObject()) return "tool_choice: must be an object";
  const Value* type = given_member(choice, "type");
  if (auto why = must_be_string(type, "tool_choice.type")) return why;
  std::string_view kind = text_of(*type);
  const Value* name = given_member(choice, "name");
  if (kind == "tool") {
    if (auto why = must_be_string(name, "tool_choice.name")) return why;
  } else if (kind != "auto" && kind != "any" && kind != "none") {
    return "tool_choice.type: unknown tool choice " + quoted(kind) + " (auto, any, tool or none)";
  }
  const Value* single = given_member(choice, "disable_parallel_tool_use");
  if (single && !single->IsBool()) return "tool_choice.disable_parallel_tool_use: must be a boolean";
  if (!has_tools) return std::nullopt;
  w.Key("tool_choice");
  if (kind == "auto") w.String("auto");
  else if (kind == "any") w.String("required");
  else if (kind == "none") w.String("none");
  else write_chat_named_tool_choice(w, text_of(*name));
  if (single && single->GetBool()) {
    w.Key("parallel_tool_calls");
    w.Bool(false);
  }
  return std::nullopt;
}

Why write_tooling(const Value& request, JsonWriter& w) {
  const Value* tools = given_member(request, "tools");
  if (tools)
    if (auto why = write_tools(*tools, w)) return why;
  const Value* choice = given_member(request, "tool_choice");
  if (!choice) return std::nullopt;
  return write_tool_choice(*choice, tools && !tools->Empty(), w);
}

// The optional string member `name` of `object` (`path` names it in an error), as `key`.
Why copy_optional_string(const Value& object, const char* name, const std::string& path, const char* key,
                         JsonWriter& w) {
  const Value* value = given_member(object, name);
  if (!value) return std::nullopt;
  if (auto why = must_be_string(value, path)) return why;
  w.Key(key);
  put_string(w, text_of(*value));
  return std::nullopt;
}

Why write_metadata(const Value& request, JsonWriter& w) {
  const Value* metadata = given_member(request, "metadata");
  if (!metadata) return std::nullopt;
  if (!metadata->IsObject()) return "metadata: must be an object";
  return copy_optional_string(*metadata, "user_id", "metadata.user_id", "user", w);
}

Why write_model(const Value& request, JsonWriter& w) {
  return copy_optional_string(request, "model", "model", "model", w);
}

Why write_chat_request(const Value& request, JsonWriter& w) {
  w.StartObject();
  for (auto write : {write_model, write_messages, write_sampling, write_stop_sequences, write_stream, write_tooling,
                     write_metadata})
    if (auto why = write(request, w)) return why;
  w.EndObject();
  return std::nullopt;
}

}  // namespace anthropic_messages_request

Result<std::string> messages_request_to_chat(std::string_view messages_body) {
  rapidjson::Document request;
  if (auto why = parse_json(request, messages_body)) return Error{"the request body is not valid JSON: " + *why};
  if (!request.IsObject()) return Error{"the request body must be a JSON object"};
  rapidjson::StringBuffer chat;
  json_pieces::JsonWriter w(chat);
  if (auto why = anthropic_messages_request::write_chat_request(request, w)) return Error{*why};
  return std::string(chat.GetString(), chat.GetSize());
}

}  // namespace apiproxy::translate
