#include "anthropic_answer_fields.hpp"

#include "anthropic_json.hpp"

namespace anthropic {

namespace answer_fields {

// Far above any real count; keeps the sums below from wrapping.
constexpr uint64_t kMaxTokenCount = uint64_t{1} << 40;

std::optional<uint64_t> token_count(const rapidjson::Value& usage, const char* name) {
  const rapidjson::Value* v = find_member(usage, name);
  if (v == nullptr || !v->IsUint64() || v->GetUint64() > kMaxTokenCount) return std::nullopt;
  return v->GetUint64();
}

}  // namespace answer_fields

std::string_view chat_finish_reason(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  return "stop";
}

MessagesUsage read_messages_usage(const rapidjson::Value& usage) {
  MessagesUsage out;
  auto input = answer_fields::token_count(usage, "input_tokens");
  auto created = answer_fields::token_count(usage, "cache_creation_input_tokens");
  out.cache_read_input_tokens = answer_fields::token_count(usage, "cache_read_input_tokens");
  if (input || created || out.cache_read_input_tokens)
    out.input_tokens = input.value_or(0) + created.value_or(0) + out.cache_read_input_tokens.value_or(0);
  out.output_tokens = answer_fields::token_count(usage, "output_tokens");
  return out;
}

}  // namespace anthropic
