// What the data plane reads from a client's JSON body, validated in one place before any of
// it reaches a header, a log line, a metric label or a store key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <rapidjson/document.h>

#include "apiproxy/abi.h"

namespace apiproxy {

struct ClientRequest {
  rapidjson::Document body;  // the parsed body, `conversation_id` removed
  std::string model;         // a valid model name (core/common/identifiers.hpp)
  bool stream = false;
  std::string session_id;    // X-Session-Id header, else conversation_id; "" when none
  std::optional<uint64_t> max_output_tokens;  // max_tokens / max_completion_tokens
};

// Why a body was refused; always answered as a 400 in OpenAI's envelope.
struct RequestProblem {
  std::string message, code, param;
};

// Parses `text` in place (the body's strings point into it: it must outlive the result) and
// validates everything the gateway reads. `session_header` is X-Session-Id ("" if absent).
std::variant<ClientRequest, RequestProblem> read_client_request(std::string& text, apx_operation op,
                                                                std::string_view session_header);

}  // namespace apiproxy
