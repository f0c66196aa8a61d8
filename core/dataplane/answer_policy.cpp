#include "core/dataplane/answer_policy.hpp"

#include <boost/beast/core/string.hpp>

namespace apiproxy {

namespace {

// Headers of an upstream answer worth passing to the client: rate-limit hints and the
// provider's own request metadata.
bool passes_through(std::string_view name) {
  auto starts = [&](std::string_view p) {
    return name.size() >= p.size() && boost::beast::iequals(name.substr(0, p.size()), p);
  };
  return starts("openai-") || starts("x-ratelimit-") || boost::beast::iequals(name, "retry-after");
}

}  // namespace

bool is_event_stream(std::string_view content_type) {
  return content_type.find("text/event-stream") != std::string_view::npos;
}

UpstreamAnswer relayable_answer(const UpstreamExchange& up, std::string body) {
  UpstreamAnswer a;
  a.status = up.status();
  std::string_view type = up.header("content-type");
  a.content_type = type.empty() ? "application/json" : type;
  for (const auto& f : up.fields())
    if (passes_through(f.name)) a.headers.emplace_back(f.name, f.value);
  a.body = std::move(body);
  return a;
}

}  // namespace apiproxy
