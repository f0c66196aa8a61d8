#include "openai_responses_request.hpp"

#include "request_json.hpp"

#include <string>
#include <string_view>

namespace mock {

namespace openai_responses_request {

using rapidjson::Value;
using namespace request_json;

const char* type_name(const Value& v) {
    if (v.IsString()) return "a string";
    if (v.IsArray()) return "an array";
    if (v.IsObject()) return "an object";
    if (v.IsBool()) return "a boolean";
    if (v.IsNumber()) return v.IsInt64() ? "an integer" : "a decimal";
    return "null";
}

bool missing(ParseFailure& failure, const std::string& param) {
    return fail(failure, "Missing required parameter: '" + param + "'.", param);
}

bool wrong_type(ParseFailure& failure, const std::string& param, std::string_view expected, const Value& got) {
    return fail(failure,
                "Invalid type for '" + param + "': expected " + std::string(expected) + ", but got " + type_name(got) +
                    " instead.",
                param);
}

// Message content: a string, or a list of parts whose "text" (input_text, output_text) counts.
void append_text(const Value& content, std::string& out) {
    if (content.IsString()) {
        out.append(text_of(content));
        return;
    }
    if (!content.IsArray()) return;
    for (const auto& part : content.GetArray()) {
        const Value* text = part.IsObject() ? member(part, "text") : nullptr;
        if (text && text->IsString()) out.append(text_of(*text));
    }
}

// An item's type; a bare {"role", "content"} is a message, as the API treats it.
std::string_view item_type(const Value& item) {
    const Value* type = member(item, "type");
    return type && type->IsString() ? text_of(*type) : std::string_view("message");
}

bool check_item(const Value& item, const std::string& at, ParseFailure& failure) {
    if (!item.IsObject()) return wrong_type(failure, at, "an object", item);
    std::string_view type = item_type(item);
    if (type == "message") {
        const Value* role = member(item, "role");
        if (!role || !role->IsString()) return missing(failure, at + ".role");
        const Value* content = member(item, "content");
        if (!content) return missing(failure, at + ".content");
        if (!content->IsString() && !content->IsArray())
            return wrong_type(failure, at + ".content", "one of a string or array of input content", *content);
    }
    if (type == "function_call_output") {
        const Value* output = member(item, "output");
        if (!output) return missing(failure, at + ".output");
        if (!output->IsString() && !output->IsArray()) return wrong_type(failure, at + ".output", "a string", *output);
    }
    return true;
}

// Reads one valid item into `out`: messages and tool outputs count for the token estimate;
// a user message becomes the prompt, a function_call_output the tool result (the last wins).
void read_item(const Value& item, ApiRequest& out) {
    std::string_view type = item_type(item);
    std::string text;
    if (type == "message") append_text(item["content"], text);
    else if (type == "function_call_output") append_text(item["output"], text);
    else return;  // function_call, reasoning, ...: nothing to answer
    out.prompt_chars += text.size();
    bool user = type == "message" && text_of(item["role"]) == "user";
    if (!user && type != "function_call_output") return;
    out.tool_result = !user;
    out.prompt = std::move(text);
}

bool read_input(const Value& root, ApiRequest& out, ParseFailure& failure) {
    const Value* input = member(root, "input");
    if (!input) return missing(failure, "input");
    if (input->IsString()) {
        out.prompt.assign(text_of(*input));
        out.prompt_chars += out.prompt.size();
        return true;
    }
    if (!input->IsArray()) return wrong_type(failure, "input", "one of a string or array of input items", *input);
    rapidjson::SizeType i = 0;
    for (const auto& item : input->GetArray())
        if (!check_item(item, "input[" + std::to_string(i++) + "]", failure)) return false;
    for (const auto& item : input->GetArray()) read_item(item, out);
    return true;
}

bool read_model(const Value& root, ApiRequest& out, ParseFailure& failure) {
    const Value* model = member(root, "model");
    if (!model) return missing(failure, "model");
    if (!model->IsString()) return wrong_type(failure, "model", "a string", *model);
    out.model.assign(text_of(*model));
    return true;
}

bool read_instructions(const Value& root, ApiRequest& out, ParseFailure& failure) {
    const Value* instructions = member(root, "instructions");
    if (!instructions || instructions->IsNull()) return true;
    if (!instructions->IsString()) return wrong_type(failure, "instructions", "a string", *instructions);
    out.has_instructions = true;
    out.instructions.assign(text_of(*instructions));
    out.prompt_chars += out.instructions.size();
    return true;
}

// Function tools are flat: {"type": "function", "name": ..., "parameters": ...}. The first
// one is the one the mock calls; other tool types (web_search, ...) are accepted and ignored.
bool read_tools(const Value& root, ApiRequest& out, ParseFailure& failure) {
    const Value* tools = member(root, "tools");
    if (!tools) return true;
    if (!tools->IsArray()) return wrong_type(failure, "tools", "an array", *tools);
    rapidjson::SizeType i = 0;
    for (const auto& tool : tools->GetArray()) {
        std::string at = "tools[" + std::to_string(i++) + "]";
        if (!tool.IsObject()) return wrong_type(failure, at, "an object", tool);
        const Value* type = member(tool, "type");
        if (!type || !type->IsString()) return missing(failure, at + ".type");
        if (text_of(*type) != "function") continue;
        const Value* name = member(tool, "name");
        if (!name || !name->IsString()) return missing(failure, at + ".name");
        if (out.tool_name.empty()) out.tool_name.assign(text_of(*name));
    }
    return true;
}

}  // namespace openai_responses_request

bool read_responses_request(const rapidjson::Value& root, ApiRequest& out, ParseFailure& failure) {
    using namespace openai_responses_request;
    return read_model(root, out, failure) && read_input(root, out, failure) && read_instructions(root, out, failure) &&
           read_tools(root, out, failure);
}

}  // namespace mock
