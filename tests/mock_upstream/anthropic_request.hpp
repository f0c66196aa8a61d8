// Reads an Anthropic Messages request body (POST /v1/messages) and validates it the way the
// real API does, briefly: the fields a client can get wrong are checked, and the messages
// follow the API's "field: problem" style, so a gateway's translation errors show up as the
// same 400 invalid_request_error a real Anthropic upstream would give.
#pragma once

#include "api_request.hpp"

#include <rapidjson/document.h>

namespace mock {

// `root` is the body, already known to be an object. Fills out.model, prompt, prompt_chars,
// tool_name and tool_result; returns false with `failure` set when the body is invalid.
bool read_messages_request(const rapidjson::Value& root, ApiRequest& out, ParseFailure& failure);

}  // namespace mock
