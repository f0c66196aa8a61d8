// Maps a request target to the API endpoint it names, in both the OpenAI shape
// (/v1/chat/completions, also without /v1) and the Azure OpenAI shape
// (/openai/deployments/{deployment}/chat/completions?api-version=...).
#pragma once

#include <string_view>

namespace mock {

enum class Endpoint { models, chat, completions, embeddings, unknown };

struct Route {
    Endpoint endpoint = Endpoint::unknown;
    bool azure = false;
    bool has_api_version = false;  // Azure requires ?api-version=...
    std::string_view path;         // target without the query string
    std::string_view deployment;   // Azure: the model named in the path
};

// Views into `target`, which must outlive the Route.
Route route_api(std::string_view target);

// True for /__mock/... paths: the control API, never counted or disturbed.
bool is_control_path(std::string_view path);

inline bool is_inference(Endpoint e) {
    return e == Endpoint::chat || e == Endpoint::completions || e == Endpoint::embeddings;
}

}  // namespace mock
