// Reading the `usage` object of an upstream's answer — a JSON body or one event of a stream
// — without parsing the rest of the text: only the object itself goes through the JSON
// parser. A large answer costs one search for the key, not a parse.
//
// The counts come from an upstream and are checked, not trusted: a usage object is taken
// only when each count it has is a whole number from 0 to kMaxTokensPerRequest and it has
// prompt_tokens or completion_tokens (or, in the Messages and Responses APIs, input_tokens
// or output_tokens). A missing completion_tokens (embeddings) is 0; a missing total_tokens
// is their sum.
#pragma once

#include <optional>
#include <string_view>

#include "core/common/json_parse.hpp"
#include "core/telemetry/token_usage.hpp"

namespace apiproxy {

using telemetry::TokenUsage;

// Where the value of the key `"usage"` found at `key` (the offset of its opening quote)
// sits, when that value is an object: from its `{` to its matching `}` inclusive.
std::optional<Span> usage_object_at(std::string_view text, size_t key);

// The counts of one usage object's text (`{...}`), if they pass the checks above.
std::optional<TokenUsage> read_usage_object(std::string_view object);

// The last `"usage":{...}` of a JSON text (where OpenAI-style answers put it) read as above.
std::optional<TokenUsage> find_usage(std::string_view json);

// The first offset from `at` that is not JSON whitespace (space, tab, CR, LF).
size_t skip_json_blanks(std::string_view text, size_t at);

// The key as it appears in the text.
inline constexpr std::string_view kUsageKey = "\"usage\"";

}  // namespace apiproxy
