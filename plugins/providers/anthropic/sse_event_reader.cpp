#include "sse_event_reader.hpp"

#include <apiproxy/plugin.hpp>

namespace anthropic {

void SseEventReader::feed(std::string_view bytes, const OnEvent& on_event) {
  while (!bytes.empty() && !stopped_) {
    if (after_cr_ && bytes.front() == '\n') bytes.remove_prefix(1);
    after_cr_ = false;
    size_t end = bytes.find_first_of("\r\n");
    line_.append(bytes.substr(0, end));
    check_size();
    if (end == std::string_view::npos) return;
    after_cr_ = bytes[end] == '\r';
    bytes.remove_prefix(end + 1);
    stopped_ = !take_line(on_event);
  }
}

void SseEventReader::finish(const OnEvent& on_event) {
  line_.clear();
  if (!stopped_) stopped_ = !dispatch(on_event);
}

void SseEventReader::check_size() const {
  if (line_.size() + data_.size() > max_event_bytes_)
    throw apx::InvalidInput("an event of the upstream's stream is larger than " +
                            std::to_string(max_event_bytes_) + " bytes");
}

bool SseEventReader::take_line(const OnEvent& on_event) {
  std::string_view line = line_;
  if (line.empty()) return dispatch(on_event);
  if (line.front() != ':') {  // a line starting with ':' is a comment
    size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "event") {
      name_.assign(value);
    } else if (field == "data") {
      if (has_data_) data_.push_back('\n');
      data_.append(value);
      has_data_ = true;
    }
  }
  line_.clear();
  return true;
}

bool SseEventReader::dispatch(const OnEvent& on_event) {
  // Cleared after the call so the buffers keep their capacity; if on_event throws, the
  // stream has failed and what is left here does not matter.
  bool go_on = !has_data_ || on_event(name_, data_);
  name_.clear();
  data_.clear();
  has_data_ = false;
  return go_on;
}

}  // namespace anthropic
