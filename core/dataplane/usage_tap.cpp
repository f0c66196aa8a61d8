#include "core/dataplane/usage_tap.hpp"

namespace apiproxy {

namespace {

bool line_end(char c) { return c == '\n' || c == '\r'; }

// Past the line end at `at` ("\r\n" is one).
size_t past_line_end(std::string_view text, size_t at) {
  return text[at] == '\r' && at + 1 < text.size() && text[at + 1] == '\n' ? at + 2 : at + 1;
}

}  // namespace

size_t end_of_event(std::string_view text, size_t from) {
  for (size_t i = from; i < text.size(); ++i) {
    if (!line_end(text[i])) continue;
    size_t next = past_line_end(text, i);
    if (next < text.size() && line_end(text[next])) return past_line_end(text, next);
    i = next - 1;
  }
  return text.size();
}

bool has_no_choices(std::string_view event) {
  constexpr std::string_view kChoices = "\"choices\"";
  size_t key = event.find(kChoices);
  if (key == std::string_view::npos) return false;
  size_t at = skip_json_blanks(event, key + kChoices.size());
  if (at >= event.size() || event[at] != ':') return false;
  at = skip_json_blanks(event, at + 1);
  if (at >= event.size() || event[at] != '[') return false;
  at = skip_json_blanks(event, at + 1);
  return at < event.size() && event[at] == ']';
}

std::string_view UsageTap::pass(std::string_view events) {
  size_t key = events.find(kUsageKey);
  if (key == std::string_view::npos) return events;  // the usual piece
  size_t copied = 0;       // events before this offset are in kept_ (or were cut)
  size_t event_start = 0;  // the start of the event holding `key`, or of one before it
  bool cut_any = false;
  while (key != std::string_view::npos) {
    auto object = usage_object_at(events, key);
    if (!object) {  // "usage":null, as in every chunk of a stream that asked for usage
      key = events.find(kUsageKey, key + kUsageKey.size());
      continue;
    }
    // Events are walked on from the last one found: a piece is walked once at most.
    size_t event_end = end_of_event(events, event_start);
    while (event_end <= key) {
      event_start = event_end;
      event_end = end_of_event(events, event_start);
    }
    if (auto u = read_usage_object(events.substr(object->begin, object->end - object->begin))) {
      // Anthropic's stream counts the input in its first event and only the output in its
      // last: a later count without input keeps the earlier input.
      if (usage_ && u->prompt_tokens == 0) {
        u->prompt_tokens = usage_->prompt_tokens;
        u->total_tokens = u->prompt_tokens + u->completion_tokens;
      }
      usage_ = u;
    }
    if (cut_ && has_no_choices(events.substr(event_start, event_end - event_start))) {
      if (!cut_any) kept_.clear();
      kept_.append(events.substr(copied, event_start - copied));
      copied = event_end;
      cut_any = true;
    }
    event_start = event_end;  // one usage per event: go on with the next event
    key = events.find(kUsageKey, event_end);
  }
  if (!cut_any) return events;
  kept_.append(events.substr(copied));
  return kept_;
}

}  // namespace apiproxy
