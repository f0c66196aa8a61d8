// What an upstream said one request used, in tokens, once the data plane has checked it
// (core/dataplane/usage_parse.hpp): counts an upstream reports are not trusted as they come.
#pragma once

#include <cstdint>

namespace apiproxy::telemetry {

// More tokens than any model's context holds by two orders of magnitude: a count above it is
// a broken or hostile upstream, and is not recorded. Summing up to 2^64 at this size takes
// 10^11 requests, so no total can overflow in a process's life.
inline constexpr uint64_t kMaxTokensPerRequest = 100'000'000;

struct TokenUsage {
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  uint64_t total_tokens = 0;
};

}  // namespace apiproxy::telemetry
