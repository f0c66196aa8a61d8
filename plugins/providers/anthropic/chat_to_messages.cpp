#include "chat_to_messages.hpp"

#include "../common/openai_shape.hpp"
#include "anthropic_json.hpp"

#include <algorithm>
#include <memory>
#include <variant>
#include <vector>

namespace anthropic {

namespace chat_request {

using rapidjson::Value;

// The message never quotes the client's text: it goes to the client and to the log.
[[noreturn]] void refuse(const std::string& why) {
  throw apx::InvalidInput("the chat request cannot be translated for Anthropic: " + why);
}

std::string message_label(size_t index) { return "messages[" + std::to_string(index) + "]"; }

// ------------------------------------------------------------------ content blocks ----

struct TextBlock {
  std::string_view text;
};
struct ImageBlock {
  std::string_view media_type, data;  // base64 source
  std::string_view url;               // url source, when media_type is empty
};
struct ToolUseBlock {
  std::string_view id, name;
  const Value* input;
};
struct ToolResultBlock {
  std::string_view tool_use_id;
  std::string content;
};
using Block = std::variant<TextBlock, ImageBlock, ToolUseBlock, ToolResultBlock>;

struct Turn {
  std::string_view role;  // "user" or "assistant"
  std::vector<Block> blocks;
};

// "data:image/png;base64,AAAA" -> a base64 source; "https://..." -> a url source.
ImageBlock image_from_url(std::string_view url, const std::string& where) {
  if (apx::shape::istarts_with(url, "data:")) {
    size_t comma = url.find(',');
    if (comma == std::string_view::npos) refuse(where + " has a data: URL without data");
    std::string_view header = url.substr(5, comma - 5);
    if (!apx::shape::iends_with(header, ";base64")) refuse(where + " has a data: URL that is not base64");
    std::string_view media_type = header.substr(0, header.find(';'));
    std::string_view data = url.substr(comma + 1);
    if (media_type.empty() || data.empty()) refuse(where + " has a data: URL without a media type or data");
    return ImageBlock{media_type, data, {}};
  }
  if (apx::shape::is_absolute_url(url)) return ImageBlock{{}, {}, url};
  refuse(where + " has an image URL that is neither data: (base64) nor http(s)");
}

ImageBlock image_from_part(const Value& part, const std::string& where) {
  const Value* image = find_member(part, "image_url");
  if (image != nullptr && image->IsString()) return image_from_url(string_of(*image), where);
  std::optional<std::string_view> url = image ? string_member(*image, "url") : std::nullopt;
  if (!url) refuse(where + " has an image_url part without a url");
  return image_from_url(*url, where);
}

// The text of a {"type":"text","text":...} part; refuses any other part.
std::string_view text_of_part(const Value& part, const std::string& where) {
  if (string_member(part, "type") != "text") refuse(where + " has a content part this provider cannot take here");
  std::optional<std::string_view> text = string_member(part, "text");
  if (!text) refuse(where + " has a text part without a string \"text\"");
  return *text;
}

// The texts of a content that may only hold text: a string, or an array of text parts.
// Empty texts are left out (Anthropic refuses empty text blocks).
std::vector<std::string_view> text_pieces(const Value* content, const std::string& where) {
  std::vector<std::string_view> pieces;
  if (is_missing(content)) return pieces;
  if (content->IsString()) {
    if (content->GetStringLength() > 0) pieces.push_back(string_of(*content));
    return pieces;
  }
  if (!content->IsArray()) refuse(where + " has a content that is neither a string nor an array");
  for (const Value& part : content->GetArray()) {
    std::string_view text = text_of_part(part, where);
    if (!text.empty()) pieces.push_back(text);
  }
  return pieces;
}

std::string joined(const std::vector<std::string_view>& pieces, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i) out.append(separator);
    out.append(pieces[i]);
  }
  return out;
}

// ------------------------------------------------------------------ the translation ----

class Translator {
 public:
  void read_messages(const Value& root) {
    const Value* messages = find_member(root, "messages");
    if (messages == nullptr || !messages->IsArray() || messages->Empty())
      refuse("\"messages\" must be a non-empty array");
    size_t index = 0;
    for (const Value& message : messages->GetArray()) read_message(message, index++);
    if (turns_.empty()) refuse("there is no user or assistant message with content");
  }

  void write_system(JsonWriter& out) const {
    if (system_.empty()) return;
    out.Key("system");
    write_string(out, joined(system_, "\n\n"));
  }

  void write_messages(JsonWriter& out) const {
    out.Key("messages");
    out.StartArray();
    for (const Turn& turn : turns_) {
      out.StartObject();
      out.Key("role");
      write_string(out, turn.role);
      out.Key("content");
      out.StartArray();
      for (const Block& block : turn.blocks) std::visit([&](const auto& b) { write_block(out, b); }, block);
      out.EndArray();
      out.EndObject();
    }
    out.EndArray();
  }

 private:
  void read_message(const Value& message, size_t index) {
    std::string where = message_label(index);
    if (!message.IsObject()) refuse(where + " is not an object");
    std::optional<std::string_view> role = string_member(message, "role");
    if (!role) refuse(where + " has no string \"role\"");
    const Value* content = find_member(message, "content");
    if (*role == "system" || *role == "developer") {
      for (std::string_view piece : text_pieces(content, where)) system_.push_back(piece);
    } else if (*role == "user") {
      append_turn("user", user_blocks(content, where));
    } else if (*role == "assistant") {
      append_turn("assistant", assistant_blocks(message, where));
    } else if (*role == "tool") {
      append_turn("user", {tool_result(message, where)});
    } else {
      refuse(where + " has a role this provider cannot take");
    }
  }

  // Anthropic requires user and assistant turns to alternate: a turn of the same role as
  // the one before joins it. A message without content is left out.
  void append_turn(std::string_view role, std::vector<Block> blocks) {
    if (blocks.empty()) return;
    if (!turns_.empty() && turns_.back().role == role) {
      auto& into = turns_.back().blocks;
      into.insert(into.end(), std::make_move_iterator(blocks.begin()), std::make_move_iterator(blocks.end()));
      return;
    }
    turns_.push_back(Turn{role, std::move(blocks)});
  }

  static std::vector<Block> user_blocks(const Value* content, const std::string& where) {
    std::vector<Block> blocks;
    if (is_missing(content) || !content->IsArray()) {
      for (std::string_view piece : text_pieces(content, where)) blocks.emplace_back(TextBlock{piece});
      return blocks;
    }
    for (const Value& part : content->GetArray()) {
      if (string_member(part, "type") == "image_url") {
        blocks.emplace_back(image_from_part(part, where));
      } else if (std::string_view text = text_of_part(part, where); !text.empty()) {
        blocks.emplace_back(TextBlock{text});
      }
    }
    return blocks;
  }

  std::vector<Block> assistant_blocks(const Value& message, const std::string& where) {
    std::vector<Block> blocks;
    for (std::string_view piece : text_pieces(find_member(message, "content"), where))
      blocks.emplace_back(TextBlock{piece});
    const Value* calls = find_member(message, "tool_calls");
    if (is_missing(calls)) return blocks;
    if (!calls->IsArray()) refuse(where + " has \"tool_calls\" that is not an array");
    size_t index = 0;
    for (const Value& call : calls->GetArray())
      blocks.emplace_back(tool_use(call, where + ".tool_calls[" + std::to_string(index++) + "]"));
    return blocks;
  }

  ToolUseBlock tool_use(const Value& call, const std::string& where) {
    std::optional<std::string_view> type = string_member(call, "type");
    if (type && *type != "function") refuse(where + " is not a function call");
    std::optional<std::string_view> id = string_member(call, "id");
    const Value* function = find_member(call, "function");
    std::optional<std::string_view> name = function ? string_member(*function, "name") : std::nullopt;
    if (!id || id->empty() || !name || name->empty()) refuse(where + " needs a string id and function.name");
    return ToolUseBlock{*id, *name, arguments_object(*function, where)};
  }

  // Anthropic takes a tool call's input as an object; OpenAI carries it as JSON text.
  const Value* arguments_object(const Value& function, const std::string& where) {
    const Value* arguments = find_member(function, "arguments");
    if (is_missing(arguments)) return &empty_object_;
    if (arguments->IsObject()) return arguments;
    if (!arguments->IsString()) refuse(where + " has function.arguments that is not a string");
    std::string_view text = apx::shape::trim(string_of(*arguments));
    if (text.empty()) return &empty_object_;
    auto doc = std::make_unique<rapidjson::Document>();
    if (auto why = parse_untrusted_json(text, *doc)) refuse(where + " has function.arguments that " + *why);
    if (!doc->IsObject()) refuse(where + " has function.arguments that is not a JSON object");
    arguments_.push_back(std::move(doc));
    return arguments_.back().get();
  }

  static ToolResultBlock tool_result(const Value& message, const std::string& where) {
    std::optional<std::string_view> id = string_member(message, "tool_call_id");
    if (!id || id->empty()) refuse(where + " (a tool result) has no string \"tool_call_id\"");
    return ToolResultBlock{*id, joined(text_pieces(find_member(message, "content"), where), "")};
  }

  static void write_block(JsonWriter& out, const TextBlock& b) {
    out.StartObject();
    out.Key("type");
    out.String("text");
    out.Key("text");
    write_string(out, b.text);
    out.EndObject();
  }

  static void write_block(JsonWriter& out, const ImageBlock& b) {
    out.StartObject();
    out.Key("type");
    out.String("image");
    out.Key("source");
    out.StartObject();
    out.Key("type");
    if (b.media_type.empty()) {
      out.String("url");
      out.Key("url");
      write_string(out, b.url);
    } else {
      out.String("base64");
      out.Key("media_type");
      write_string(out, b.media_type);
      out.Key("data");
      write_string(out, b.data);
    }
    out.EndObject();
    out.EndObject();
  }

  static void write_block(JsonWriter& out, const ToolUseBlock& b) {
    out.StartObject();
    out.Key("type");
    out.String("tool_use");
    out.Key("id");
    write_string(out, b.id);
    out.Key("name");
    write_string(out, b.name);
    out.Key("input");
    b.input->Accept(out);
    out.EndObject();
  }

  static void write_block(JsonWriter& out, const ToolResultBlock& b) {
    out.StartObject();
    out.Key("type");
    out.String("tool_result");
    out.Key("tool_use_id");
    write_string(out, b.tool_use_id);
    out.Key("content");
    write_string(out, b.content);
    out.EndObject();
  }

  std::vector<std::string_view> system_;
  std::vector<Turn> turns_;
  std::vector<std::unique_ptr<rapidjson::Document>> arguments_;  // parsed tool-call arguments
  Value empty_object_{rapidjson::kObjectType};
};

// ------------------------------------------------------------------ other fields ----

std::string_view model_of(const Value& root, const MessagesRequestOptions& options) {
  if (!options.model.empty()) return options.model;
  std::optional<std::string_view> model = string_member(root, "model");
  if (!model || model->empty()) refuse("there is no model");
  return *model;
}

// max_completion_tokens supersedes max_tokens in OpenAI's API.
uint64_t max_tokens_of(const Value& root, uint64_t fallback) {
  for (const char* name : {"max_completion_tokens", "max_tokens"}) {
    const Value* v = find_member(root, name);
    if (is_missing(v)) continue;
    if (!v->IsUint64() || v->GetUint64() == 0) refuse(std::string(name) + " must be a positive integer");
    return v->GetUint64();
  }
  return fallback;
}

void refuse_several_choices(const Value& root) {
  const Value* n = find_member(root, "n");
  if (is_missing(n)) return;
  if (!n->IsUint64() || n->GetUint64() == 0) refuse("n must be a positive integer");
  if (n->GetUint64() > 1) refuse("n > 1 (several choices) is not supported by Anthropic");
}

const Value* number_member(const Value& root, const char* name) {
  const Value* v = find_member(root, name);
  if (is_missing(v)) return nullptr;
  if (!v->IsNumber()) refuse(std::string(name) + " must be a number");
  return v;
}

// OpenAI's temperature spans 0..2, Anthropic's 0..1.
void write_sampling(JsonWriter& out, const Value& root) {
  if (const Value* temperature = number_member(root, "temperature")) {
    out.Key("temperature");
    out.Double(std::clamp(temperature->GetDouble(), 0.0, 1.0));
  }
  if (const Value* top_p = number_member(root, "top_p")) {
    out.Key("top_p");
    out.Double(top_p->GetDouble());
  }
}

void write_stop_sequences(JsonWriter& out, const Value& root) {
  const Value* stop = find_member(root, "stop");
  if (is_missing(stop)) return;
  std::vector<std::string_view> sequences;
  if (stop->IsString()) {
    sequences.push_back(string_of(*stop));
  } else if (stop->IsArray()) {
    for (const Value& s : stop->GetArray()) {
      if (!s.IsString()) refuse("stop must be a string or an array of strings");
      sequences.push_back(string_of(s));
    }
  } else {
    refuse("stop must be a string or an array of strings");
  }
  sequences.erase(std::remove(sequences.begin(), sequences.end(), std::string_view()), sequences.end());
  if (sequences.empty()) return;
  out.Key("stop_sequences");
  out.StartArray();
  for (std::string_view s : sequences) write_string(out, s);
  out.EndArray();
}

void write_tool(JsonWriter& out, const Value& tool, size_t index) {
  std::string where = "tools[" + std::to_string(index) + "]";
  std::optional<std::string_view> type = string_member(tool, "type");
  if (type && *type != "function") refuse(where + " is not a function tool");
  const Value* function = find_member(tool, "function");
  std::optional<std::string_view> name = function ? string_member(*function, "name") : std::nullopt;
  if (!name || name->empty()) refuse(where + " needs a string function.name");
  const Value* description = find_member(*function, "description");
  const Value* parameters = find_member(*function, "parameters");
  if (!is_missing(description) && !description->IsString()) refuse(where + " has a description that is not a string");
  if (!is_missing(parameters) && !parameters->IsObject()) refuse(where + " has parameters that are not an object");
  out.StartObject();
  out.Key("name");
  write_string(out, *name);
  if (!is_missing(description)) {
    out.Key("description");
    write_string(out, string_of(*description));
  }
  // Anthropic requires a schema; a function without parameters takes none.
  out.Key("input_schema");
  if (!is_missing(parameters)) {
    parameters->Accept(out);
  } else {
    out.StartObject();
    out.Key("type");
    out.String("object");
    out.Key("properties");
    out.StartObject();
    out.EndObject();
    out.EndObject();
  }
  out.EndObject();
}

struct ToolChoice {
  std::string_view type;  // auto, any, none, tool
  std::string_view name;  // for "tool"
};

ToolChoice read_tool_choice(const Value* choice) {
  if (is_missing(choice)) return {"auto", {}};
  if (choice->IsString()) {
    std::string_view s = string_of(*choice);
    if (s == "auto") return {"auto", {}};
    if (s == "required") return {"any", {}};
    if (s == "none") return {"none", {}};
    refuse("tool_choice must be auto, required, none or a function");
  }
  const Value* function = find_member(*choice, "function");
  std::optional<std::string_view> name = function ? string_member(*function, "name") : std::nullopt;
  if (string_member(*choice, "type") != "function" || !name || name->empty())
    refuse("tool_choice must be auto, required, none or a function");
  return {"tool", *name};
}

void write_tool_choice(JsonWriter& out, const Value& root) {
  const Value* choice = find_member(root, "tool_choice");
  const Value* parallel = find_member(root, "parallel_tool_calls");
  if (!is_missing(parallel) && !parallel->IsBool()) refuse("parallel_tool_calls must be a boolean");
  bool one_call_at_most = !is_missing(parallel) && !parallel->GetBool();
  if (is_missing(choice) && !one_call_at_most) return;
  ToolChoice c = read_tool_choice(choice);
  out.Key("tool_choice");
  out.StartObject();
  out.Key("type");
  write_string(out, c.type);
  if (!c.name.empty()) {
    out.Key("name");
    write_string(out, c.name);
  }
  if (one_call_at_most && c.type != "none") {
    out.Key("disable_parallel_tool_use");
    out.Bool(true);
  }
  out.EndObject();
}

// Anthropic refuses tool_choice without tools, so both go only when there are tools.
void write_tools(JsonWriter& out, const Value& root) {
  const Value* tools = find_member(root, "tools");
  if (is_missing(tools)) return;
  if (!tools->IsArray()) refuse("tools must be an array");
  if (tools->Empty()) return;
  out.Key("tools");
  out.StartArray();
  size_t index = 0;
  for (const Value& tool : tools->GetArray()) write_tool(out, tool, index++);
  out.EndArray();
  write_tool_choice(out, root);
}

void write_metadata(JsonWriter& out, const Value& root) {
  const Value* user = find_member(root, "user");
  if (is_missing(user)) return;
  if (!user->IsString()) refuse("user must be a string");
  if (user->GetStringLength() == 0) return;
  out.Key("metadata");
  out.StartObject();
  out.Key("user_id");
  write_string(out, string_of(*user));
  out.EndObject();
}

void write_stream(JsonWriter& out, const Value& root, bool host_streams) {
  const Value* stream = find_member(root, "stream");
  if (!is_missing(stream) && !stream->IsBool()) refuse("stream must be a boolean");
  if (!host_streams && (is_missing(stream) || !stream->GetBool())) return;
  out.Key("stream");
  out.Bool(true);
}

}  // namespace chat_request

std::string chat_to_messages(std::string_view chat_body, const MessagesRequestOptions& options) {
  using namespace chat_request;
  rapidjson::Document doc;
  if (auto why = parse_untrusted_json(chat_body, doc)) refuse("the body " + *why);
  const Value& root = doc;
  if (!root.IsObject()) refuse("the body is not a JSON object");
  refuse_several_choices(root);
  Translator translator;
  translator.read_messages(root);

  rapidjson::StringBuffer buffer;
  JsonWriter out(buffer);
  out.StartObject();
  out.Key("model");
  write_string(out, model_of(root, options));
  out.Key("max_tokens");
  out.Uint64(max_tokens_of(root, options.default_max_tokens));
  translator.write_system(out);
  translator.write_messages(out);
  write_sampling(out, root);
  write_stop_sequences(out, root);
  write_tools(out, root);
  write_metadata(out, root);
  write_stream(out, root, options.stream);
  out.EndObject();
  return std::string(written(buffer));
}

}  // namespace anthropic
