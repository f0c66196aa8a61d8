#include "anthropic_request.hpp"

#include "request_json.hpp"

#include <string>
#include <string_view>

namespace mock {

namespace anthropic_request {

using rapidjson::Value;
using namespace request_json;

bool is_block(const Value& block, std::string_view type) {
    const Value* t = block.IsObject() ? member(block, "type") : nullptr;
    return t && t->IsString() && text_of(*t) == type;
}

// The text of a content value: the string itself, or its text blocks one after another.
void append_text(const Value& content, std::string& out) {
    if (content.IsString()) {
        out.append(text_of(content));
        return;
    }
    if (!content.IsArray()) return;
    for (const auto& block : content.GetArray()) {
        if (!is_block(block, "text")) continue;
        const Value* text = member(block, "text");
        if (text && text->IsString()) out.append(text_of(*text));
    }
}

// The last tool_result block of a content array; null when there is none.
const Value* last_tool_result(const Value& content) {
    if (!content.IsArray()) return nullptr;
    const Value* found = nullptr;
    for (const auto& block : content.GetArray())
        if (is_block(block, "tool_result")) found = &block;
    return found;
}

// The text a message contributes to the token estimate: its text and its tool results.
std::size_t message_chars(const Value& content) {
    std::string text;
    append_text(content, text);
    if (!content.IsArray()) return text.size();
    for (const auto& block : content.GetArray()) {
        const Value* result = is_block(block, "tool_result") ? member(block, "content") : nullptr;
        if (result) append_text(*result, text);
    }
    return text.size();
}

bool check_model(const Value& root, ApiRequest& out, ParseFailure& failure) {
    const Value* model = member(root, "model");
    if (!model) return fail(failure, "model: Field required", "model");
    if (!model->IsString()) return fail(failure, "model: Input should be a valid string", "model");
    out.model.assign(text_of(*model));
    return true;
}

bool check_max_tokens(const Value& root, ParseFailure& failure) {
    const Value* max_tokens = member(root, "max_tokens");
    if (!max_tokens) return fail(failure, "max_tokens: Field required", "max_tokens");
    if (!max_tokens->IsInt64()) return fail(failure, "max_tokens: Input should be a valid integer", "max_tokens");
    if (max_tokens->GetInt64() < 1)
        return fail(failure, "max_tokens: Input should be greater than or equal to 1", "max_tokens");
    return true;
}

// Content is a string or a list of blocks, each an object with a string "type".
bool check_content(const Value& content, const std::string& where, ParseFailure& failure) {
    if (content.IsString()) return true;
    if (!content.IsArray()) return fail(failure, where + ": Input should be a valid string or list", "messages");
    rapidjson::SizeType i = 0;
    for (const auto& block : content.GetArray()) {
        std::string at = where + "." + std::to_string(i++);
        if (!block.IsObject()) return fail(failure, at + ": Input should be a valid dictionary", "messages");
        const Value* type = member(block, "type");
        if (!type || !type->IsString()) return fail(failure, at + ".type: Field required", "messages");
    }
    return true;
}

bool check_message(const Value& message, rapidjson::SizeType index, ParseFailure& failure) {
    std::string at = "messages." + std::to_string(index);
    if (!message.IsObject()) return fail(failure, at + ": Input should be a valid dictionary", "messages");
    const Value* role = member(message, "role");
    if (!role) return fail(failure, at + ".role: Field required", "messages");
    if (!role->IsString() || (text_of(*role) != "user" && text_of(*role) != "assistant"))
        return fail(failure, at + ".role: Input should be 'user' or 'assistant'", "messages");
    const Value* content = member(message, "content");
    if (!content) return fail(failure, at + ".content: Field required", "messages");
    return check_content(*content, at + ".content", failure);
}

// What the answer is made of: the last user message's text, or, when the last message hands
// back a tool result, that result's text.
void read_last_turn(const Value& messages, ApiRequest& out) {
    for (const auto& message : messages.GetArray()) {
        const Value& content = message["content"];
        out.prompt_chars += message_chars(content);
        if (text_of(message["role"]) != "user") continue;
        out.prompt.clear();
        append_text(content, out.prompt);
    }
    const Value& last = messages[messages.Size() - 1];
    const Value* result = last_tool_result(last["content"]);
    if (!result) return;
    out.tool_result = true;
    out.prompt.clear();
    if (const Value* content = member(*result, "content")) append_text(*content, out.prompt);
}

bool read_messages(const Value& root, ApiRequest& out, ParseFailure& failure) {
    const Value* messages = member(root, "messages");
    if (!messages) return fail(failure, "messages: Field required", "messages");
    if (!messages->IsArray()) return fail(failure, "messages: Input should be a valid list", "messages");
    if (messages->Empty()) return fail(failure, "messages: at least one message is required", "messages");
    rapidjson::SizeType i = 0;
    for (const auto& message : messages->GetArray())
        if (!check_message(message, i++, failure)) return false;
    read_last_turn(*messages, out);
    return true;
}

// "system": a string or a list of text blocks; it only counts for the token estimate.
bool read_system(const Value& root, ApiRequest& out, ParseFailure& failure) {
    const Value* system = member(root, "system");
    if (!system) return true;
    if (!check_content(*system, "system", failure)) return false;
    std::string text;
    append_text(*system, text);
    out.prompt_chars += text.size();
    return true;
}

// "tools": a list of {"name": ..., "input_schema": ...}; the first one is the one the mock calls.
bool read_tools(const Value& root, ApiRequest& out, ParseFailure& failure) {
    const Value* tools = member(root, "tools");
    if (!tools) return true;
    if (!tools->IsArray()) return fail(failure, "tools: Input should be a valid list", "tools");
    rapidjson::SizeType i = 0;
    for (const auto& tool : tools->GetArray()) {
        std::string at = "tools." + std::to_string(i++);
        if (!tool.IsObject()) return fail(failure, at + ": Input should be a valid dictionary", "tools");
        const Value* name = member(tool, "name");
        if (!name || !name->IsString()) return fail(failure, at + ".name: Field required", "tools");
        if (out.tool_name.empty()) out.tool_name.assign(text_of(*name));
    }
    return true;
}

}  // namespace anthropic_request

bool read_messages_request(const rapidjson::Value& root, ApiRequest& out, ParseFailure& failure) {
    using namespace anthropic_request;
    return check_model(root, out, failure) && check_max_tokens(root, failure) && read_messages(root, out, failure) &&
           read_system(root, out, failure) && read_tools(root, out, failure);
}

}  // namespace mock
