// Server-sent events arrive in pieces that need not end where an event ends. A relay that
// forwards whole events only can end a broken stream cleanly: the client never receives
// half an event followed by the gateway's error event.
#pragma once

#include <cstddef>
#include <string_view>

namespace apiproxy {

// The largest event a relay holds while it waits for the event's end.
inline constexpr size_t kMaxSseEventBytes = 1024 * 1024;

// How many leading bytes of `text` are complete events: up to and including the last blank
// line (an event ends with "\n\n", "\r\n\r\n" or "\r\r"). 0 when no event has ended.
inline size_t complete_sse_events(std::string_view text) {
  for (size_t i = text.size(); i >= 2; --i) {
    char last = text[i - 1], before = text[i - 2];
    if ((last == '\n' && before == '\n') || (last == '\r' && before == '\r')) return i;
    // "\r\n\r\n": the second "\r\n" follows another line end.
    if (last == '\n' && before == '\r' && i >= 3 && (text[i - 3] == '\n' || text[i - 3] == '\r')) return i;
  }
  return 0;
}

}  // namespace apiproxy
