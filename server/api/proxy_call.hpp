// One proxied request: resolve the model, route, then try upstreams in the router's order
// until one answers — relaying its answer, streamed or whole — or every attempt failed.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "core/routing/router.hpp"
#include "core/telemetry/gauge.hpp"
#include "core/upstream/upstream_exchange.hpp"
#include "server/api/client_request.hpp"
#include "server/app/worker.hpp"
#include "server/http/exchange.hpp"

namespace apiproxy {

class ProxyCall : public std::enable_shared_from_this<ProxyCall> {
 public:
  ProxyCall(Worker& worker, std::shared_ptr<Exchange> ex, apx_operation op);
  // Records the request in the gateway's telemetry if its answer did not already.
  ~ProxyCall();
  void run();

 private:
  struct Attempt {
    std::string label;  // provider/model
    std::string outcome;
  };

  bool parse_body();
  void route(std::optional<Session> session);
  void try_next();
  void attempt(const Candidate& c);
  void on_head(const Candidate& c, Result<std::shared_ptr<UpstreamExchange>> started);
  void fail_attempt(const Candidate& c, const std::string& why, Nudge nudge, double latency_ms,
                    std::string_view outcome);
  // The request's apiproxy_requests_total and latency records, once (see the constructor).
  void record_request();
  // One apiproxy_upstream_attempts_total count (outcomes: core/telemetry/telemetry.hpp).
  void count_attempt(const Candidate& c, std::string_view outcome);
  void relay_whole(const Candidate& c, std::shared_ptr<UpstreamExchange> up, bool success);
  void relay_stream(const Candidate& c, std::shared_ptr<UpstreamExchange> up);
  void pump(const Candidate& c, std::shared_ptr<UpstreamExchange> up);
  // The whole events among what has arrived, to relay now (an incomplete last event waits
  // for its end); nullopt when an incomplete event has grown past kMaxSseEventBytes.
  std::optional<std::string_view> whole_events(std::string_view piece);
  void end_stream_at_upstream_end(const Candidate& c, UpstreamExchange& up);
  // The client went away mid-stream: the upstream is cancelled and the attempt counted.
  void client_gone(const Candidate& c, UpstreamExchange& up);
  // The client hung up before its answer started (Exchange::on_client_gone).
  void on_client_hangup();
  // After a hang-up: counts the attempt on `c` (if any) as the client's doing, answers for
  // the access log, and returns true; otherwise false.
  bool stop_if_client_gone(const Candidate* c);
  void end_stream_with_error(const Candidate& c, const std::string& why);
  // latency_ms: what routing learns from — the whole wait for a JSON answer, the time to
  // the first byte for a stream (a long stream is not a slow upstream).
  // Records the success, binds the conversation (if any), then runs `then` — so the binding
  // is stored before the client can send its next message.
  void finish_success(const Candidate& c, std::string_view tail_for_usage, double latency_ms,
                      std::function<void()> then);
  void all_failed();
  void bind_session_to(const Candidate& c, std::function<void()> then);
  void set_attribution(boost::beast::http::fields& headers, const Candidate& c);
  void respond_error(boost::beast::http::status status, const std::string& message,
                     const std::string& type, const std::string& code);
  std::string upstream_body(const Candidate& c) const;
  double elapsed_ms() const;

  Worker& w_;
  std::shared_ptr<Exchange> ex_;
  apx_operation op_;
  ClientRequest request_;
  // The plugins this request started on: its candidates and adapters live in it, so a
  // reload cannot unload them before the request ends.
  PluginGenerationPtr plugins_;
  std::shared_ptr<const LogicalModel> model_;
  std::optional<Session> session_;
  std::vector<Candidate> order_;
  size_t next_ = 0;
  std::vector<Attempt> attempts_;
  std::chrono::steady_clock::time_point attempt_started_;
  bool bound_ = false;  // this request's conversation binding is written
  std::string usage_tail_;
  std::chrono::milliseconds rate_limited_for_{0};  // every remaining candidate was at MAX_QPS  // the last bytes of a stream, where `usage` arrives
  const Candidate* answered_ = nullptr;  // whose answer the client got (points into order_)
  telemetry::GaugeGuard in_flight_;      // apiproxy_in_flight_requests while this object lives
  telemetry::GaugeGuard streaming_;      // apiproxy_in_flight_streams once a stream is relayed
  bool recorded_ = false;
  bool client_hung_up_ = false;
  std::shared_ptr<UpstreamExchange> upstream_;  // the attempt in flight, to cancel on a hang-up
  std::string sse_partial_;  // the start of an event whose end has not arrived
  std::string sse_whole_;    // whole events being written, when they had to be joined
};

}  // namespace apiproxy
