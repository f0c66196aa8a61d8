// Response bodies in OpenAI's shapes (what the official clients expect), each appended to
// a caller-owned string so connections can reuse their buffers.
#pragma once

#include "api_request.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace mock {

// Everything one completion answer (plain or streamed) needs.
struct Completion {
    std::string_view fingerprint;  // "mock-NAME" (system_fingerprint)
    std::string_view id;     // chatcmpl-... / cmpl-...
    std::string_view model;
    std::string_view reply;  // the full assistant text
    long long created = 0;
    int prompt_tokens = 0;
    int completion_tokens = 0;
    std::string_view usage;  // not empty: the usage object to report instead, as JSON text

    // Anthropic Messages and OpenAI Responses only.
    std::string_view item_id{};       // Responses: the output message's id (msg_...)
    std::string_view tool_name{};     // not empty: the answer ends with a call of this tool
    std::string_view tool_call_id{};  // toolu_... / call_...
    std::string_view tool_item_id{};  // Responses: the function_call item's id (fc_...)
    const std::string* instructions = nullptr;  // Responses: echoed back; null: none
};

// The arguments the mock always calls its tool with.
inline constexpr std::string_view kToolArguments = R"({"city":"Paris"})";

// A fresh, process-unique id such as "chatcmpl-6f1c09a2000000000001".
void make_id(std::string& out, std::string_view prefix);

// The simple token estimate used everywhere: chars / 4, at least 1.
int estimate_tokens(std::size_t chars);

// {"error":{"message":..,"type":..,"param":..,"code":..}} with type/code chosen by status.
void error_body(std::string& out, int status, std::string_view message, std::string_view param = {});

void models_openai_body(std::string& out, const std::vector<std::string>& models, std::string_view owner);
void models_azure_body(std::string& out, const std::vector<std::string>& models);

void chat_body(std::string& out, const Completion& c);
void completion_body(std::string& out, const Completion& c);
// `usage`: as Completion::usage.
void embeddings_body(std::string& out, const ApiRequest& req, std::string_view model, std::string_view usage = {});

// Server-sent events ("data: <json>\n\n"), appended to `out`.
void chat_role_event(std::string& out, const Completion& c);
void chat_delta_event(std::string& out, const Completion& c, std::string_view piece);
void chat_finish_event(std::string& out, const Completion& c);
void completion_text_event(std::string& out, const Completion& c, std::string_view piece, bool finish);
void usage_event(std::string& out, const Completion& c, bool chat);
void done_event(std::string& out);

// Piece `i` of `n` roughly equal pieces of `text`, never splitting a UTF-8 sequence.
std::string_view reply_piece(std::string_view text, int i, int n);

}  // namespace mock
