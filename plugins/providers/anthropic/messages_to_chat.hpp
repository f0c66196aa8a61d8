// plugins/providers/anthropic/messages_to_chat.hpp — an Anthropic Messages answer (or error)
// as an OpenAI chat-completions answer (or error).
#ifndef APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_MESSAGES_TO_CHAT_HPP
#define APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_MESSAGES_TO_CHAT_HPP

#include <cstdint>
#include <string>
#include <string_view>

namespace anthropic {

// A successful Messages answer as a chat.completion: id "chatcmpl-" + the message id, the
// text blocks joined as the content (null without any), tool_use blocks as tool_calls
// (arguments = the input as JSON text), the stop reason as finish_reason, usage with cached
// input counted in prompt_tokens. `fallback_model` names the model when the answer does
// not. Throws apx::InvalidInput when `body` is not a Messages answer.
std::string messages_answer_to_chat(std::string_view body, std::string_view fallback_model, int64_t created);

// An Anthropic error body ({"type":"error","error":{"type","message"}}) as OpenAI's error
// envelope {"error":{"message","type","param":null,"code":null}}; any other body as an
// envelope saying the upstream's error could not be read, quoting at most 200 printable
// bytes of it.
std::string messages_error_to_chat(int http_status, std::string_view body);

}  // namespace anthropic

#endif  // APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_MESSAGES_TO_CHAT_HPP
