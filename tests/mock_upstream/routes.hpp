// Maps a request target to the API endpoint it names, in both the OpenAI shape
// (/v1/chat/completions, also without /v1) and the Azure OpenAI shape
// (/openai/deployments/{deployment}/chat/completions?api-version=...). The Anthropic
// Messages API (/v1/messages) and the OpenAI Responses API (/v1/responses) exist only in
// the first shape.
#pragma once

#include <string_view>

namespace mock {

enum class Endpoint { models, chat, completions, embeddings, messages, responses, unknown };
inline constexpr int kEndpointCount = int(Endpoint::unknown) + 1;

struct Route {
    Endpoint endpoint = Endpoint::unknown;
    bool azure = false;
    bool has_api_version = false;  // Azure requires ?api-version=...
    std::string_view path;         // target without the query string
    std::string_view deployment;   // Azure: the model named in the path
};

// Views into `target`, which must outlive the Route.
Route route_api(std::string_view target);

// The endpoint's name in the statistics ("chat", "messages", ...).
std::string_view endpoint_name(Endpoint e);

// True for /__mock/... paths: the control API, never counted or disturbed.
bool is_control_path(std::string_view path);

inline bool is_inference(Endpoint e) {
    return e == Endpoint::chat || e == Endpoint::completions || e == Endpoint::embeddings || e == Endpoint::messages ||
           e == Endpoint::responses;
}

}  // namespace mock
