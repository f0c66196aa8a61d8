// Reading untrusted JSON and writing JSON for the completions_bridge example.
//
// Client bodies and upstream answers are untrusted: a plugin may not use the gateway's own
// parser, so these checks stand in for it. Input is bounded in size and in nesting before
// RapidJSON sees it, then parsed without recursion (kParseIterativeFlag) and with its
// UTF-8 validated. RapidJSON rejects raw control characters in strings and NaN/Infinity, so
// every value it reads can be written back with rapidjson::Writer.
#ifndef EXAMPLE_COMPLETIONS_BRIDGE_JSON_HPP
#define EXAMPLE_COMPLETIONS_BRIDGE_JSON_HPP

#include <apiproxy/plugin.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace completions_bridge {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Far above any chat request or completion the gateway relays (it bounds bodies itself).
constexpr size_t kMaxJsonBytes = 64u * 1024 * 1024;
constexpr int kMaxJsonNesting = 64;

// True when arrays/objects in `text` nest deeper than `limit`; brackets inside strings
// (escapes included) do not count.
inline bool nests_deeper_than(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

// `text` as a JSON object, or apx::InvalidInput naming `what` (never quoting the input,
// which may hold anything).
inline rapidjson::Document parse_object(std::string_view text, const std::string& what) {
  if (text.size() > kMaxJsonBytes) throw apx::InvalidInput(what + " is larger than 64 MiB");
  if (nests_deeper_than(text, kMaxJsonNesting)) throw apx::InvalidInput(what + " nests too deeply");
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) throw apx::InvalidInput(what + " is not a JSON object");
  return doc;
}

// The member `name` of `object`; nullptr when `object` is no object, lacks it, or it is
// null (optional fields may be either).
inline const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
}

// The string member `name`, or `fallback` when it is absent or not a string.
inline std::string_view string_member(const rapidjson::Value& object, const char* name,
                                      std::string_view fallback = {}) {
  const rapidjson::Value* v = member(object, name);
  return v && v->IsString() ? std::string_view(v->GetString(), v->GetStringLength()) : fallback;
}

// Inputs are bounded by kMaxJsonBytes, so every length fits RapidJSON's 32-bit SizeType.
inline void write_string(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

inline std::string_view written(const rapidjson::StringBuffer& buffer) {
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace completions_bridge

#endif  // EXAMPLE_COMPLETIONS_BRIDGE_JSON_HPP
