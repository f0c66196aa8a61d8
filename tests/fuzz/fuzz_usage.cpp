// Fuzzes how the data plane reads token usage from an untrusted upstream
// (core/dataplane/usage_parse.hpp, usage_tap.hpp): a whole JSON answer through find_usage(),
// and a stream through the SseFramer and the UsageTap, in pieces the input chooses.
//
// Input: one control byte (bit 0: the tap cuts the usage event; the rest: the piece size,
// 1..128), then the upstream's bytes. Checked: every usage taken is within its bounds and
// adds up; a tap that cuts nothing relays exactly the framed events; a cutting tap relays
// only events it received, in order, and never more bytes than it got.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/dataplane/sse_framer.hpp"
#include "core/dataplane/usage_parse.hpp"
#include "core/dataplane/usage_tap.hpp"

namespace {

using namespace apiproxy;

void require(bool ok) {
  if (!ok) __builtin_trap();  // a broken promise: libFuzzer saves the input
}

void check(const std::optional<TokenUsage>& u) {
  if (!u) return;
  require(u->prompt_tokens <= telemetry::kMaxTokensPerRequest);
  require(u->completion_tokens <= telemetry::kMaxTokensPerRequest);
  require(u->total_tokens <= 3 * telemetry::kMaxTokensPerRequest);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool cut = data[0] & 1;
  const size_t piece = 1 + (data[0] >> 1);
  std::string_view upstream(reinterpret_cast<const char*>(data + 1), size - 1);

  check(find_usage(upstream));

  SseFramer framer;
  UsageTap tap(cut);
  std::string framed, relayed;
  for (size_t at = 0; at < upstream.size(); at += piece) {
    auto events = framer.next(upstream.substr(at, piece));
    if (!events) return 0;  // an event over the size limit: the stream ends there
    framed.append(*events);
    std::string_view out = tap.pass(*events);
    require(out.size() <= events->size());
    relayed.append(out);
  }
  check(tap.usage());
  if (!cut) require(relayed == framed);
  else require(relayed.size() <= framed.size());
  return 0;
}
