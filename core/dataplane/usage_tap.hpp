// Watches a relayed event stream for the upstream's token usage and, when the gateway asked
// for usage in the client's place (usage_request.hpp), cuts the usage event from what the
// client receives, so the client gets the stream it asked for.
//
// It sits after the SseFramer, so it always sees whole events, however the upstream's bytes
// were split. Cheap on the hot path: a piece without the text `"usage"` is passed on after
// one search. Every chunk of a stream that asked for usage carries `"usage":null`; only a
// usage whose value is an object is located in its event and parsed (the usage_parse.hpp
// checks apply), which happens once per stream.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/dataplane/usage_parse.hpp"

namespace apiproxy {

class UsageTap {
 public:
  // `cut_usage_event`: the client did not ask for usage; the event that carries it (OpenAI's
  // shape: `choices` is `[]`) is cut. Usage that rides on an event with choices is read but
  // never cut, since the event carries content too.
  explicit UsageTap(bool cut_usage_event = false) : cut_(cut_usage_event) {}

  // Whole events in; what the client gets out: the same bytes, less a cut event. Valid until
  // the next call (the input itself, unless an event was cut).
  std::string_view pass(std::string_view events);

  // The last usage the stream reported and that passed the checks, if any.
  const std::optional<TokenUsage>& usage() const { return usage_; }

 private:
  bool cut_;
  std::optional<TokenUsage> usage_;
  std::string kept_;  // the events left when one was cut
};

// The offset just past the blank line that ends the event starting at `from` (a blank line
// is two line ends in a row; a line ends with "\n", "\r\n" or "\r"), or text.size().
size_t end_of_event(std::string_view text, size_t from);

// Whether an event's JSON has `"choices":[]` (OpenAI's usage-only chunk).
bool has_no_choices(std::string_view event);

}  // namespace apiproxy
