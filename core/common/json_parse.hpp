// Parsing JSON that comes from outside the process (clients, upstreams, the store): without
// recursion (RapidJSON's iterative parser), with a nesting limit (the writer and the code
// that walks a document do recurse), and with UTF-8 validated, so no input can exhaust the
// stack or hand malformed text on.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

namespace apiproxy {

// Deeper than any real request, answer or configuration; shallow enough for recursion.
inline constexpr unsigned kMaxJsonDepth = 64;

// Fills `doc` from `text`. Returns the reason when `text` is not JSON (a NUL byte outside a
// string included: the whole text must be the one value) or nests deeper than
// kMaxJsonDepth; `doc` is then unspecified.
std::optional<std::string> parse_json(rapidjson::Document& doc, std::string_view text);

// A byte range [begin, end) of a text.
struct Span {
  size_t begin = 0, end = 0;
};

enum class JsonKind { Null, Bool, Number, String, Object, Array };

// One top-level member of a JSON object, located in the text it was scanned from.
struct JsonMember {
  std::string key;                // decoded
  JsonKind kind = JsonKind::Null;
  Span value;                     // the value's bytes (a string's quotes included)
  Span member;                    // from the end of the previous member's value (or the `{`)
                                  // to the end of this one: cutting it removes the member
  bool boolean = false;           // a Bool's value
  std::optional<uint64_t> uint;   // a Number's value when it is a non-negative integer
  std::string string;             // a String's decoded value
};

// What scan_members answers for valid JSON that is not an object.
inline constexpr std::string_view kJsonNotAnObject = "the JSON text is not an object";

// Checks `text` exactly as parse_json does and, when it is an object, lists its top-level
// members in order, without building a document: for a caller that reads a few fields and
// passes the text on as it came.
std::optional<std::string> scan_members(std::string_view text, std::vector<JsonMember>& members);

}  // namespace apiproxy
