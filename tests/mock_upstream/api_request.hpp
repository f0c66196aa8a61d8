// The parts of an OpenAI request body the mock looks at. Parsed in situ from the request
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
    std::string prompt;           // chat: last message's text; completions: the prompt
    std::size_t prompt_chars = 0; // all input text, for the token estimate
    std::vector<std::string> inputs;  // embeddings; only the first input_count are valid
    std::size_t input_count = 0;
    Misbehaviour mock;            // the body's "mock" object (see misbehaviour.hpp)
};

struct ParseFailure {
    std::string message;
    std::string param;  // the offending field, empty if none
};

// Parses `body` (modified in place) for `endpoint`. Returns false with `failure` set for a
// malformed body; the caller answers 400 invalid_request_error.
bool parse_api_request(std::string& body, Endpoint endpoint, ApiRequest& out, ParseFailure& failure);

}  // namespace mock
