// The gateway's own request metrics, recorded by the data plane and rendered by
// GET /metrics (server/api/metrics_api.cpp, which adds what other parts of the process
// count: plugin faults, Redis errors, upstream health).
//
// Series (all prefixed apiproxy_):
//   requests_total{route,logical_model,provider,status}       one per finished data-plane request
//   request_duration_seconds{logical_model,provider}          histogram, request in to answer done
//   first_byte_seconds{logical_model,provider}                histogram, request in to first body byte out
//   upstream_attempts_total{logical_model,provider,outcome}   one per upstream attempt
//   failovers_total{logical_model}                            an attempt after a failed one
//   rate_limited_requests_total{logical_model}                answered 429 because of MAX_QPS
//   tokens_total{direction,logical_model,provider,model}      tokens the upstream's usage reported,
//                                                             direction prompt or completion
//   cost_total{logical_model,provider,model}                  their cost (COST_INPUT/COST_OUTPUT)
//   in_flight_requests, in_flight_streams                     gauges
// `logical_model` and `provider` are "none" when the request never got that far; `model` is
// the upstream's model id. Token usage is also summed per logical model and provider in
// `usage` (usage_summary.hpp), for GET /providers/{id}/metrics.
#pragma once

#include <optional>
#include <string_view>

#include "core/telemetry/counter.hpp"
#include "core/telemetry/gauge.hpp"
#include "core/telemetry/histogram.hpp"
#include "core/telemetry/token_usage.hpp"
#include "core/telemetry/usage_summary.hpp"

namespace apiproxy::telemetry {

inline constexpr std::string_view kNone = "none";

// Values of the `outcome` label of apiproxy_upstream_attempts_total.
namespace outcome {
inline constexpr std::string_view kSuccess = "success";                  // answer relayed, 2xx
inline constexpr std::string_view kErrorStatus = "error_status";         // non-retryable error relayed as is
inline constexpr std::string_view kRetryableStatus = "retryable_status"; // e.g. 429/503: failed over
inline constexpr std::string_view kTransportError = "transport_error";   // connect, timeout, reset before the answer
inline constexpr std::string_view kAdapterError = "adapter_error";       // the adapter could not build the request
inline constexpr std::string_view kStreamError = "stream_error";         // a stream broke off midway
inline constexpr std::string_view kClientClosed = "client_closed";       // the client went away first
inline constexpr std::string_view kKeyRejected = "key_rejected";         // 401/403/429 for one key: another key tried
inline constexpr std::string_view kNoKey = "no_key";                     // every key of the provider was backing off
}  // namespace outcome

struct RequestRecord {
  std::string_view route;          // the route pattern, e.g. /v1/chat/completions
  std::string_view logical_model;  // kNone before one was resolved
  std::string_view provider;       // the provider whose answer was relayed, else kNone
  int status = 0;                  // the HTTP status sent
  double duration_seconds = 0;
  std::optional<double> first_byte_seconds;
};

// One answered data-plane request, for the token and cost accounting.
struct UsageRecord {
  std::string_view logical_model;
  std::string_view provider;
  std::string_view model;             // the upstream's model id
  const TokenUsage* usage = nullptr;  // null: the upstream reported no usage that passed the checks
  double cost = 0;
};

class Telemetry {
 public:
  Telemetry();
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  void record_request(const RequestRecord& r);
  void record_attempt(std::string_view logical_model, std::string_view provider, std::string_view outcome);
  void record_failover(std::string_view logical_model) { failovers.with({logical_model}).inc(); }
  void record_rate_limited(std::string_view logical_model) { rate_limited.with({logical_model}).inc(); }
  // `now`: the caller's reading of the clock, if it has one.
  void record_usage(const UsageRecord& r, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // Seconds since the epoch when this object was made (≈ process start).
  double start_time_seconds() const { return start_time_seconds_; }

  // Writes the families above, in the order listed there.
  void write(TextWriter& out) const;

  CounterFamily requests;
  HistogramFamily request_duration;
  HistogramFamily first_byte;
  CounterFamily upstream_attempts;
  CounterFamily failovers;
  CounterFamily rate_limited;
  TokenCounterFamily tokens;
  AmountCounterFamily cost;
  Gauge in_flight_requests;
  Gauge in_flight_streams;
  UsageSummary usage;

 private:
  double start_time_seconds_;
};

}  // namespace apiproxy::telemetry
