// The parts of an API request body the mock looks at (OpenAI chat, completions, embeddings
// and Responses; Anthropic Messages). Parsed in situ from the request
// buffer; the object is kept per connection and reused, so parsing rarely allocates.
#pragma once

#include "misbehaviour.hpp"
#include "routes.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace mock {

struct ApiRequest {
    std::string model;            // "model" field (Azure: the caller uses the deployment)
    bool stream = false;
    bool include_usage = false;   // stream_options.include_usage
    bool base64 = false;          // embeddings: encoding_format "base64" (the openai SDKs' default)
    std::string prompt;           // chat: last message's text; completions: the prompt;
                                  // messages/responses: the last user turn's text, or the
                                  // returned tool result's text when `tool_result`
    std::size_t prompt_chars = 0; // all input text, for the token estimate
    std::vector<std::string> inputs;  // embeddings; only the first input_count are valid
    std::size_t input_count = 0;
    Misbehaviour mock;            // the body's "mock" object (see misbehaviour.hpp)

    // Messages and Responses only.
    std::string tool_name;        // the first tool offered; empty: none
    bool tool_result = false;     // the last turn hands back a tool's result
    bool has_instructions = false;  // Responses: "instructions" was a string
    std::string instructions;
};

// The mock's deterministic tool trigger: tools are offered, the last turn is not a tool
// result, and the user's text mentions the weather.
bool wants_tool_call(const ApiRequest& req);

struct ParseFailure {
    std::string message;
    std::string param;  // the offending field, empty if none
};

// Parses `body` (modified in place) for `endpoint`. Returns false with `failure` set for a
// malformed body; the caller answers 400 invalid_request_error.
bool parse_api_request(std::string& body, Endpoint endpoint, ApiRequest& out, ParseFailure& failure);

}  // namespace mock
