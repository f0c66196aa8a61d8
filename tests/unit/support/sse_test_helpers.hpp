// Reading the named-event SSE streams the client-API translations write (Anthropic Messages,
// OpenAI Responses): "event: NAME\ndata: {json}\n\n", whose JSON repeats NAME as its "type".
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/unit/support/json_test_helpers.hpp"

namespace test_support {

struct NamedEvent {
  std::string name;
  rapidjson::Document data;
};

// Splits `stream` into its events, checking each one's framing, that its data is JSON and
// that the data's "type" is the event's name.
inline std::vector<NamedEvent> named_events(std::string_view stream) {
  std::vector<NamedEvent> events;
  size_t at = 0;
  while (at < stream.size()) {
    size_t end = stream.find("\n\n", at);
    EXPECT_NE(end, std::string_view::npos) << "unterminated event at " << at;
    if (end == std::string_view::npos) break;
    std::string_view event = stream.substr(at, end - at);
    at = end + 2;
    size_t newline = event.find('\n');
    if (event.substr(0, 7) != "event: " || newline == std::string_view::npos ||
        event.substr(newline + 1, 6) != "data: ") {
      ADD_FAILURE() << "not an `event:` line and a `data:` line: " << event;
      continue;
    }
    NamedEvent e{std::string(event.substr(7, newline - 7)), parsed_json(event.substr(newline + 7))};
    EXPECT_TRUE(e.data.IsObject() && e.data.HasMember("type") && e.data["type"].IsString() &&
                e.name == e.data["type"].GetString())
        << "type differs from the event name: " << event;
    events.push_back(std::move(e));
  }
  return events;
}

inline std::vector<std::string> names_of(const std::vector<NamedEvent>& events) {
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(e.name);
  return names;
}

// What a stream translator writes for `input` fed in one call, then finished.
template <class StreamTranslator>
std::string fed_whole(StreamTranslator& translator, std::string_view input) {
  std::string out;
  translator.feed(input, out);
  translator.finish(out);
  return out;
}

// A stream that ends once: it has events, the last is one of `endings`, and none before it is.
inline void expect_one_ending(const std::vector<NamedEvent>& events, const std::vector<std::string>& endings) {
  auto is_ending = [&](const std::string& name) {
    for (const auto& ending : endings)
      if (name == ending) return true;
    return false;
  };
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(is_ending(events.back().name)) << "the stream ends with " << events.back().name;
  for (size_t i = 0; i + 1 < events.size(); ++i)
    EXPECT_FALSE(is_ending(events[i].name)) << "an event after the end: " << events[i + 1].name;
}

}  // namespace test_support
