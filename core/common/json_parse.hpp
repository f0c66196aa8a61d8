// Parsing JSON that comes from outside the process (clients, upstreams, the store): without
// recursion (RapidJSON's iterative parser), with a nesting limit (the writer and the code
// that walks a document do recurse), and with UTF-8 validated, so no input can exhaust the
// stack or hand malformed text on.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace apiproxy {

// Deeper than any real request, answer or configuration; shallow enough for recursion.
inline constexpr unsigned kMaxJsonDepth = 64;

// Fills `doc` from `text`. Returns the reason when `text` is not JSON or nests deeper than
// kMaxJsonDepth; `doc` is then unspecified.
std::optional<std::string> parse_json(rapidjson::Document& doc, std::string_view text);

// The same, parsing `text` in place: the document's strings point into `text`, which must
// outlive it. Bytes after a NUL are ignored (as RapidJSON's in-situ parser does).
std::optional<std::string> parse_json_in_place(rapidjson::Document& doc, std::string& text);

}  // namespace apiproxy
