// plugins/providers/anthropic/sse_event_reader.hpp — server-sent events from bytes split
// anywhere.
#ifndef APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_SSE_EVENT_READER_HPP
#define APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_SSE_EVENT_READER_HPP

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace anthropic {

// Splits a text/event-stream into events as the WHATWG spec reads it: lines end with CRLF,
// LF or CR (also when a CRLF is split between two feeds); `event:` names the event, `data:`
// lines are joined with LF, a blank line ends the event, comments and other fields are
// skipped. An event with no data line is not reported.
class SseEventReader {
 public:
  // Returns false to stop reading: the rest of the stream is of no interest.
  using OnEvent = std::function<bool(std::string_view name, std::string_view data)>;

  // An event (its data plus the line being read) larger than `max_event_bytes` throws
  // apx::InvalidInput: memory stays bounded whatever the upstream sends.
  explicit SseEventReader(size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

  // Reads `bytes`, calling `on_event` for each event it completes, until one returns false;
  // after that the reader ignores everything.
  void feed(std::string_view bytes, const OnEvent& on_event);

  // The stream ended: an event whose lines all arrived but whose blank line did not is
  // reported; a line cut short is dropped.
  void finish(const OnEvent& on_event);

 private:
  bool take_line(const OnEvent& on_event);
  bool dispatch(const OnEvent& on_event);
  void check_size() const;

  size_t max_event_bytes_;
  std::string line_;  // the line being read
  std::string name_;  // `event:` of the event being read
  std::string data_;  // its `data:` lines, joined with LF
  bool has_data_ = false;
  bool stopped_ = false;   // on_event returned false
  bool after_cr_ = false;  // the last byte was a CR: an LF next ends no further line
};

}  // namespace anthropic

#endif  // APIPROXY_PLUGINS_PROVIDERS_ANTHROPIC_SSE_EVENT_READER_HPP
