// A quick first pass for scan_members (json_parse.hpp): one loop over the bytes that
// recognises the JSON that clients and upstreams actually send, and answers "valid, and
// these are the members" for it. Anything it does not fully vouch for -- an error, an
// exponent, a long number, a lone surrogate escape, deep nesting -- it leaves undecided,
// and scan_members then runs the RapidJSON path, which also words the error. So it can
// only be slower than RapidJSON, never more lenient: tests/fuzz/fuzz_json_scan.cpp holds
// the two to the same answers.
#pragma once

#include <string_view>
#include <vector>

#include "core/common/json_parse.hpp"

namespace apiproxy {

// Integers with more digits than this might not fit a double; RapidJSON decides those.
inline constexpr size_t kMaxFastScanDigits = 300;

// True when `text` is a JSON object that scan_members' RapidJSON path would accept, with
// `members` filled exactly as that path fills them. False: undecided (`members` is then
// unspecified).
bool fast_scan_members(std::string_view text, std::vector<JsonMember>& members);

// scan_members without the quick pass: RapidJSON only (for tests and the fuzz harness).
std::optional<std::string> exact_scan_members(std::string_view text, std::vector<JsonMember>& members);

}  // namespace apiproxy
