// Asking an upstream for a stream's token usage. OpenAI-style upstreams report usage in a
// stream only when the request says `"stream_options":{"include_usage":true}`; they then send
// one more event before [DONE] whose `choices` is empty and whose `usage` holds the counts.
// For accounting the gateway wants that event on every stream, so when a client did not ask
// for it the gateway asks in its place — editing the client's bytes, not re-serialising them
// — and cuts the event from what the client receives (usage_tap.hpp).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/common/json_parse.hpp"
#include "core/dataplane/request_body.hpp"

namespace apiproxy {

enum class StreamUsage {
  Asked,     // the client set include_usage true itself: it gets the usage event as it came
  Added,     // the gateway asks for usage: the usage event is read, then cut from the stream
  Declined,  // the client set include_usage to something else (false), or sent stream_options
             // that is not an object: left as it is, so usage comes only if the upstream
             // sends it anyway
};

struct StreamUsagePlan {
  StreamUsage usage = StreamUsage::Declined;
  std::optional<BodyEdit> edit;  // set for Added: what asks the upstream for usage
};

// For a streamed request: `text` is the client's body, `members` its top-level members
// (scan_members).
StreamUsagePlan plan_stream_usage(std::string_view text, const std::vector<JsonMember>& members);

}  // namespace apiproxy
