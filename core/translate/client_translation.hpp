// The client APIs besides OpenAI Chat Completions, served by upstreams that speak only chat
// completions: the request goes up translated, and its answer — whole or streamed — comes
// back in the client's API. One object per attempt that was translated.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace apiproxy {

// The API a client called.
enum class ClientApi {
  OpenAIChat,         // /v1/chat/completions, /v1/completions, /v1/embeddings: the gateway's own format
  AnthropicMessages,  // /v1/messages
  OpenAIResponses,    // /v1/responses
};

class ClientTranslation {
 public:
  virtual ~ClientTranslation() = default;
  // A whole chat answer (any status) in the client's API, with the status to send: an
  // upstream success that is not a chat completion becomes the client API's error, 502.
  struct Answer {
    int status;
    std::string body;
  };
  virtual Answer answer(int status, std::string_view chat_body) = 0;
  // Whole chat SSE events in; the client's events appended to `out`.
  virtual void stream(std::string_view chat_events, std::string& out) = 0;
  // The chat stream ended: what the client is still owed.
  virtual void finish(std::string& out) = 0;
};

// One client request in another API, read once: it makes each translated attempt's
// ClientTranslation with what the request said (a Response repeats its instructions and
// tools, say), so an attempt never reads the client's body again.
class ClientTranslator {
 public:
  virtual ~ClientTranslator() = default;
  virtual std::unique_ptr<ClientTranslation> for_attempt() const = 0;
};

struct TranslatedRequest {
  std::string chat_body;                               // the request as chat completions
  std::shared_ptr<const ClientTranslator> translator;  // null for OpenAIChat (nothing to translate)
};

// The request body in chat completions form, and its translator; an error is the client's
// (a 400).
Result<TranslatedRequest> translate_request_to_chat(ClientApi api, std::string_view body);

}  // namespace apiproxy
