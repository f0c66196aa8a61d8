// The token counts an Anthropic Messages or OpenAI Responses answer reports. Both APIs name
// them input_tokens / output_tokens; the configured `usage` object (Behaviour::usage) may
// override them in either naming, with any JSON values at all, so tests can make the
// upstream report absurd counts and check what a gateway does with them.
#pragma once

#include <string>
#include <string_view>

namespace mock {

class JsonWriter;

// Each count as the JSON text of its value (usually a number).
struct TokenCounts {
    std::string input, output, total;
};

// `usage`: the configured object as JSON text, or empty. Per count, its input_tokens /
// output_tokens win, else prompt_tokens / completion_tokens, else the counted value.
// total: total_tokens if given, else the sum when both counts are integers, else the
// counted sum.
TokenCounts token_counts(std::string_view usage, int counted_input, int counted_output);

// Writes a count as a JSON value.
void write_count(JsonWriter& w, const std::string& count);

}  // namespace mock
