// Cuts a relayed event stream at event boundaries: what arrives is handed on up to the end
// of its last whole event, and the start of an unfinished one waits for the rest. So a
// stream that breaks off never leaves half an event at the client.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/upstream/sse_events.hpp"

namespace apiproxy {

class SseFramer {
 public:
  // The whole events to relay now, given the next piece (empty: none has ended yet); valid
  // until the next call. nullopt when an unfinished event has grown past kMaxSseEventBytes.
  std::optional<std::string_view> next(std::string_view piece);
  // At the end of the stream: the unfinished last event with the blank line a client's
  // parser needs to see it (an upstream may end without it), or empty.
  std::string_view finish();

 private:
  std::string partial_;  // the start of an event whose end has not arrived
  std::string whole_;    // whole events being relayed, when they had to be joined
};

}  // namespace apiproxy
