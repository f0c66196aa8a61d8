// plugins/providers/anthropic/anthropic_json.hpp — reading untrusted JSON and writing JSON
// for the anthropic adapter.
//
// A plugin may not use core's parse_json, so this is its equivalent: iterative parsing (no
// stack exhaustion), validated UTF-8, no NUL, a nesting limit and a size limit, and no value
// RapidJSON would read but could not write back (see openai_shape's has_unwritable_value).
#ifndef APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_JSON_HPP
#define APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_JSON_HPP

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace anthropic {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Larger than any request the host accepts (images travel base64 in the body).
inline constexpr size_t kMaxJsonBytes = 64u * 1024 * 1024;
inline constexpr size_t kMaxJsonNesting = 128;

// Parses `text` into `doc`. Returns why it is unusable (no quote of the text), or nullopt.
std::optional<std::string> parse_untrusted_json(std::string_view text, rapidjson::Document& doc);

// The member `name` of `object`, or nullptr when `object` is not an object or lacks it.
const rapidjson::Value* find_member(const rapidjson::Value& object, const char* name);

// The string member `name`, or nullopt when absent or of another type.
std::optional<std::string_view> string_member(const rapidjson::Value& object, const char* name);

inline std::string_view string_of(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// True when `v` is absent or JSON null: optional request fields may be either.
inline bool is_missing(const rapidjson::Value* v) { return v == nullptr || v->IsNull(); }

void write_string(JsonWriter& out, std::string_view s);
void write_key(JsonWriter& out, std::string_view key);

inline std::string_view written(const rapidjson::StringBuffer& buffer) {
  return {buffer.GetString(), buffer.GetSize()};
}

// At most `max_bytes` of `bytes` fit to quote in a message: printable ASCII kept, every
// other byte shown as '?' (so the result is valid UTF-8 whatever the input was).
std::string printable_excerpt(std::string_view bytes, size_t max_bytes);

}  // namespace anthropic

#endif  // APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_JSON_HPP
