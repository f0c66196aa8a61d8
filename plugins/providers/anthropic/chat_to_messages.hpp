// plugins/providers/anthropic/chat_to_messages.hpp — an OpenAI chat-completions request
// body as an Anthropic Messages request body.
#ifndef APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_CHAT_TO_MESSAGES_HPP
#define APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_CHAT_TO_MESSAGES_HPP

#include <cstdint>
#include <string>
#include <string_view>

namespace anthropic {

struct MessagesRequestOptions {
  std::string_view model;             // the physical model; empty: the body's `model`
  uint64_t default_max_tokens = 4096; // Anthropic requires max_tokens, chat clients may omit it
  bool stream = false;                // the host streams this call (also without a `stream` field)
};

// The Messages body for `chat_body`:
//  * system/developer messages -> `system` (their texts joined with a blank line);
//  * user/assistant text and image parts -> content blocks (an image data: URL -> a base64
//    source, an http(s) URL -> a url source); assistant tool_calls -> tool_use blocks;
//    tool messages -> tool_result blocks of a user turn; consecutive turns of one role merge
//    (Anthropic requires the roles to alternate);
//  * max_completion_tokens / max_tokens (else the default), temperature (clamped to 0..1),
//    top_p, stop -> stop_sequences, tools, tool_choice with parallel_tool_calls, user ->
//    metadata.user_id, stream. Fields Anthropic has no counterpart for are left out.
// Throws apx::InvalidInput saying what cannot be translated (never quoting the body).
std::string chat_to_messages(std::string_view chat_body, const MessagesRequestOptions& options);

}  // namespace anthropic

#endif  // APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_CHAT_TO_MESSAGES_HPP
