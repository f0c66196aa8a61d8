#include "core/dataplane/usage_parse.hpp"

#include <algorithm>
#include <vector>

namespace apiproxy {

namespace {

// A real usage object is a few hundred bytes; one that runs on further is not read.
constexpr size_t kMaxUsageObjectBytes = 16 * 1024;
// `"usage"` keys tried from the end of a JSON answer before giving up (a `"usage":null`
// in a nested object is passed over).
constexpr int kMaxUsageKeysTried = 8;

// The offset just past the `}` that closes the object opening at `open`, or npos. Strings
// are stepped over (a brace in a string does not count), escapes included.
size_t object_end(std::string_view text, size_t open) {
  size_t limit = std::min(text.size(), open + kMaxUsageObjectBytes);
  int depth = 0;
  bool in_string = false;
  for (size_t i = open; i < limit; ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// A count of the object: absent or null (nullopt, with ok kept), or a whole number in range
// (anything else clears ok).
std::optional<uint64_t> count_of(const std::vector<JsonMember>& members, std::string_view name, bool& ok) {
  for (const auto& m : members) {
    if (m.key != name) continue;
    if (m.kind == JsonKind::Null) return std::nullopt;
    if (m.kind != JsonKind::Number || !m.uint || *m.uint > telemetry::kMaxTokensPerRequest) {
      ok = false;
      return std::nullopt;
    }
    return m.uint;
  }
  return std::nullopt;
}

}  // namespace

size_t skip_json_blanks(std::string_view text, size_t at) {
  while (at < text.size() && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r')) ++at;
  return at;
}

std::optional<Span> usage_object_at(std::string_view text, size_t key) {
  size_t at = skip_json_blanks(text, key + kUsageKey.size());
  if (at >= text.size() || text[at] != ':') return std::nullopt;
  at = skip_json_blanks(text, at + 1);
  if (at >= text.size() || text[at] != '{') return std::nullopt;
  size_t end = object_end(text, at);
  if (end == std::string_view::npos) return std::nullopt;
  return Span{at, end};
}

std::optional<TokenUsage> read_usage_object(std::string_view object) {
  // Its members are listed without building a document (a document's first allocation is a
  // 64 KiB block); the list keeps its capacity on this thread.
  thread_local std::vector<JsonMember> members;
  if (scan_members(object, members)) return std::nullopt;
  bool ok = true;
  auto prompt = count_of(members, "prompt_tokens", ok);
  auto completion = count_of(members, "completion_tokens", ok);
  if (!prompt && !completion) {  // the Anthropic Messages and OpenAI Responses names
    prompt = count_of(members, "input_tokens", ok);
    completion = count_of(members, "output_tokens", ok);
  }
  auto total = count_of(members, "total_tokens", ok);
  if (!ok || (!prompt && !completion)) return std::nullopt;
  TokenUsage u;
  u.prompt_tokens = prompt.value_or(0);
  u.completion_tokens = completion.value_or(0);
  u.total_tokens = total.value_or(u.prompt_tokens + u.completion_tokens);
  return u;
}

std::optional<TokenUsage> find_usage(std::string_view json) {
  size_t before = json.size();
  for (int tried = 0; tried < kMaxUsageKeysTried && before > 0; ++tried) {
    size_t key = json.rfind(kUsageKey, before - 1);
    if (key == std::string_view::npos) return std::nullopt;
    if (auto object = usage_object_at(json, key))
      return read_usage_object(json.substr(object->begin, object->end - object->begin));
    before = key;
  }
  return std::nullopt;
}

}  // namespace apiproxy
