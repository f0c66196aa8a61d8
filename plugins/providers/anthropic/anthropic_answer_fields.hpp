// plugins/providers/anthropic/anthropic_answer_fields.hpp — what a Messages answer's stop
// reason and usage mean in chat-completions terms; shared by the whole-answer and the stream
// translation so both say the same.
#ifndef APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_ANSWER_FIELDS_HPP
#define APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_ANSWER_FIELDS_HPP

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace anthropic {

// end_turn / stop_sequence / pause_turn -> stop, max_tokens -> length, tool_use -> tool_calls,
// refusal -> content_filter. A reason this adapter does not know reads as "stop": the answer
// ended normally as far as the client can tell.
std::string_view chat_finish_reason(std::string_view stop_reason);

// Token counts of a Messages `usage` object; absent counts are nullopt.
struct MessagesUsage {
  std::optional<uint64_t> input_tokens;           // input_tokens + cache creation + cache reads
  std::optional<uint64_t> cache_read_input_tokens;
  std::optional<uint64_t> output_tokens;
};

// Anthropic counts cached input apart from input_tokens; OpenAI's prompt_tokens includes it.
MessagesUsage read_messages_usage(const rapidjson::Value& usage);

}  // namespace anthropic

#endif  // APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_ANSWER_FIELDS_HPP
