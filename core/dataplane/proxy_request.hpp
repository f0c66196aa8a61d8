// One client request as the data plane takes it: already read and validated by the API
// layer that received it (names and ids checked, body well-formed).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "apiproxy/abi.h"
#include "core/dataplane/request_body.hpp"
#include "core/dataplane/usage_request.hpp"
#include "core/translate/client_translation.hpp"
#include "core/upstream/http_types.hpp"

namespace apiproxy {

struct ProxyRequest {
  apx_operation op = APX_OP_CHAT_COMPLETIONS;
  std::string model;       // the name the client asked for: a logical model or provider/model
  bool stream = false;
  StreamUsage stream_usage = StreamUsage::Declined;  // a stream's usage event: see usage_request.hpp
  std::string session_id;  // the conversation to keep on one upstream; "" when none
  std::optional<uint64_t> max_output_tokens;
  RequestBody body;
  std::string request_id;  // for log lines about this request
  // The API the client called. For Messages and Responses (op APX_OP_MESSAGES or
  // APX_OP_RESPONSES): `chat_body` is the same request as chat completions, sent to an
  // upstream whose adapter does not speak the client's API, with `translator` for its
  // answers; `native_headers` are the client's headers that go along when the adapter does
  // speak it (anthropic-version and the like).
  ClientApi api = ClientApi::OpenAIChat;
  std::optional<RequestBody> chat_body;
  std::shared_ptr<const ClientTranslator> translator;
  Headers native_headers;
};

}  // namespace apiproxy
