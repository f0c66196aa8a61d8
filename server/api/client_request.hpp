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

// What the HTTP layer knows about a request besides its body.
struct ClientRequestContext {
  ClientRequestContext(std::string_view session = {}) : session_header(session) {}  // NOLINT: implicit on purpose
  std::string_view session_header;  // X-Session-Id ("" if absent)
  bool accepts_event_stream = false;  // Accept names text/event-stream
  Headers native_headers;             // client headers for an upstream that speaks its API
};

// Reads `text` (taken: it becomes the request's body) for operation `op`. The body must be
// a JSON object, valid as core/common/json_parse.hpp checks it, with no top-level key twice;
// `conversation_id` is the gateway's and is cut from what goes upstream; a body without
// `stream` from a client that accepts only an event stream streams; and a chat stream that
// does not ask for token usage is made to (core/dataplane/usage_request.hpp). A Messages or
// Responses request is also translated to chat completions, for upstreams that speak only
// that (core/translate): a body the translation refuses is refused here.
std::variant<ProxyRequest, RequestProblem> read_client_request(std::string text, apx_operation op,
                                                               ClientRequestContext context);

}  // namespace apiproxy
