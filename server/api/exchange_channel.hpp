// The data plane's ClientChannel over an HTTP exchange, in OpenAI's wire format: domain
// refusals become statuses and OpenAI error envelopes, answers get the gateway's
// attribution headers, streams are SSE with the error event OpenAI clients understand.
// It also keeps the request's HTTP-level telemetry (apiproxy_requests_total and friends).
#pragma once

#include <memory>
#include <string>

#include "apiproxy/abi.h"
#include "core/dataplane/client_channel.hpp"
#include "core/telemetry/gauge.hpp"
#include "core/telemetry/telemetry.hpp"
#include "server/http/exchange.hpp"

namespace apiproxy {

class ExchangeChannel : public ClientChannel, public std::enable_shared_from_this<ExchangeChannel> {
 public:
  ExchangeChannel(std::shared_ptr<Exchange> ex, telemetry::Telemetry& telemetry, apx_operation op);
  // Records the request if its answer did not already (the exchange then answers 500).
  ~ExchangeChannel() override;

  void note(std::string_view key, std::string_view value) override;
  void note_number(std::string_view key, long long value) override;
  void note_decimal(std::string_view key, double value) override;
  void on_hangup(std::function<void()> f) override;
  void refuse(const Refusal& why) override;
  void answer(UpstreamAnswer answer) override;
  void start_stream(int status, const Attribution& from, std::string_view first, Done done) override;
  void stream_write(std::string_view bytes, Done done) override;
  void end_stream(std::string_view last, Done done) override;
  void end_stream_with_error(std::string_view why) override;

  Exchange& exchange() { return *ex_; }

 private:
  // The X-APIProxy-* fields of whose answer it is, on a streamed head or a whole answer.
  void attribute(Exchange::Answer& head, const Attribution& from);
  // The request's apiproxy_requests_total and latency records, once.
  void record_request();

  std::shared_ptr<Exchange> ex_;
  telemetry::Telemetry& telemetry_;
  apx_operation op_;
  std::string logical_model_;
  std::string provider_;  // whose answer the client got
  telemetry::GaugeGuard in_flight_;  // apiproxy_in_flight_requests until the answer is complete
  bool recorded_ = false;
  std::string error_tail_;  // the in-band error event of a broken stream, while it is written
};

}  // namespace apiproxy
