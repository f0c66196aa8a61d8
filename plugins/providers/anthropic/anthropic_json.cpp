#include "anthropic_json.hpp"

#include "../common/openai_shape.hpp"

namespace anthropic {

std::optional<std::string> parse_untrusted_json(std::string_view text, rapidjson::Document& doc) {
  if (text.size() > kMaxJsonBytes) return "is larger than " + std::to_string(kMaxJsonBytes / (1024 * 1024)) + " MiB";
  // RapidJSON would stop at a NUL and take what came before it; valid JSON has none.
  if (text.find('\0') != std::string_view::npos) return "is not valid JSON (a NUL byte)";
  // Checked before parsing: copying a value to the output recurses.
  if (apx::shape::nests_deeper_than(text, kMaxJsonNesting))
    return "nests deeper than " + std::to_string(kMaxJsonNesting) + " levels";
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError()) return "is not valid JSON (offset " + std::to_string(doc.GetErrorOffset()) + ")";
  const rapidjson::Value& root = doc;
  if (apx::shape::has_unwritable_value(root))
    return "has a number too large for a double or an unpaired UTF-16 surrogate";
  return std::nullopt;
}

const rapidjson::Value* find_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string_view> string_member(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = find_member(object, name);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return string_of(*v);
}

void write_string(JsonWriter& out, std::string_view s) {
  out.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_key(JsonWriter& out, std::string_view key) {
  out.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

std::string printable_excerpt(std::string_view bytes, size_t max_bytes) {
  std::string out;
  size_t n = bytes.size() < max_bytes ? bytes.size() : max_bytes;
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (n < bytes.size()) out.append("...");
  return out;
}

}  // namespace anthropic
