// Reading a client's OpenAI-style JSON body into a data-plane request, validating in one
// place everything the gateway reads from it before any of it reaches a header, a log
// line, a metric label or a store key.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "apiproxy/abi.h"
#include "core/dataplane/proxy_request.hpp"

namespace apiproxy {

// Why a body was refused; always answered as a 400 in OpenAI's envelope.
struct RequestProblem {
  std::string message, code, param;
};

// Reads `text` (taken: it becomes the request's body) for operation `op`.
// `session_header` is X-Session-Id ("" if absent). The body must be a JSON object, valid as
// core/common/json_parse.hpp checks it, with no top-level key twice; `conversation_id` is
// the gateway's and is cut from what goes upstream, and a stream that does not ask for
// token usage is made to (core/dataplane/usage_request.hpp).
std::variant<ProxyRequest, RequestProblem> read_client_request(std::string text, apx_operation op,
                                                               std::string_view session_header);

}  // namespace apiproxy
