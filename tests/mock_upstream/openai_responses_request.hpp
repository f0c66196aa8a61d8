// Reads an OpenAI Responses API request body (POST /v1/responses): "model", "input" (a
// string, or a list of items: messages and function_call_output results), "instructions"
// and function "tools". Wrong types get the API's own 400 wording and `param`.
#pragma once

#include "api_request.hpp"

#include <rapidjson/document.h>

namespace mock {

// `root` is the body, already known to be an object. Fills out.model, prompt, prompt_chars,
// instructions, tool_name and tool_result; returns false with `failure` set when invalid.
bool read_responses_request(const rapidjson::Value& root, ApiRequest& out, ParseFailure& failure);

}  // namespace mock
