// The client side of one proxied request, as the data plane sees it. The API layer that
// received the request implements it in its own wire format: statuses, error envelopes and
// SSE framing are its business, not the data plane's.
#pragma once

#include <functional>
#include <string_view>

#include "core/dataplane/results.hpp"

namespace apiproxy {

class ClientChannel {
 public:
  // ok=false: the client is gone.
  using Done = std::function<void(bool ok)>;
  virtual ~ClientChannel() = default;

  // Facts for the access log; never a secret.
  virtual void note(std::string_view key, std::string_view value) = 0;
  virtual void note_number(std::string_view key, long long value) = 0;
  // A real number (a cost); one that is not finite is left out.
  virtual void note_decimal(std::string_view key, double value) = 0;
  // `f` runs once if the client hangs up before its answer starts.
  virtual void on_hangup(std::function<void()> f) = 0;

  // Exactly one of: refuse, answer, or a stream (start, writes, then an end).
  virtual void refuse(const Refusal& why) = 0;
  virtual void answer(UpstreamAnswer answer) = 0;
  // `first`: stream bytes that go out with the head (may be empty), valid until `done` runs.
  virtual void start_stream(int status, const Attribution& from, std::string_view first, Done done) = 0;
  // `bytes` (whole SSE events) stay valid until `done` runs.
  virtual void stream_write(std::string_view bytes, Done done) = 0;
  // The stream's last bytes (may be empty) and its end, in one write; `last` stays valid
  // until `done` runs.
  virtual void end_stream(std::string_view last, Done done) = 0;
  // The stream broke after bytes reached the client: tell it in-band, then end.
  virtual void end_stream_with_error(std::string_view why) = 0;
};

}  // namespace apiproxy
