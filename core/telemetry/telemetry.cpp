#include "core/telemetry/telemetry.hpp"

#include <charconv>
#include <chrono>

namespace apiproxy::telemetry {

Telemetry::Telemetry()
    : requests("apiproxy_requests_total",
               "Data-plane requests answered, by route, logical model, the provider whose answer was "
               "relayed (none: no upstream answered) and HTTP status sent.",
               {"route", "logical_model", "provider", "status"}),
      request_duration("apiproxy_request_duration_seconds",
                       "Data-plane request time, from the request read to the answer (or the end of the "
                       "stream) handed to the client connection.",
                       {"logical_model", "provider"}, latency_buckets()),
      first_byte("apiproxy_first_byte_seconds",
                 "Time from the request read to the first byte of the answer body sent: the whole answer "
                 "for JSON, the first event for a stream (time to first token).",
                 {"logical_model", "provider"}, latency_buckets()),
      upstream_attempts("apiproxy_upstream_attempts_total",
                        "Upstream attempts by logical model, provider and outcome (success, error_status, "
                        "retryable_status, transport_error, adapter_error, stream_error, client_closed).",
                        {"logical_model", "provider", "outcome"}),
      failovers("apiproxy_failovers_total", "Upstream attempts made after a failed attempt of the same request.",
                {"logical_model"}),
      rate_limited("apiproxy_rate_limited_requests_total",
                   "Requests answered 429 because every upstream was at its MAX_QPS limit.", {"logical_model"}),
      tokens("apiproxy_tokens_total",
             "Tokens of answered data-plane requests as the upstream's usage reported them, by direction "
             "(prompt, completion), logical model, provider and upstream model.",
             {"logical_model", "provider", "model"}),  // and `direction` (counter.hpp)
      cost("apiproxy_cost_total",
           "Cost of those tokens: prompt tokens / 1000 x the provider's COST_INPUT plus completion tokens / "
           "1000 x its COST_OUTPUT, by logical model, provider and upstream model.",
           {"logical_model", "provider", "model"}),
      start_time_seconds_(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()) {}

void Telemetry::record_request(const RequestRecord& r) {
  char status[12];
  auto end = std::to_chars(status, status + sizeof status, r.status).ptr;
  requests.with({r.route, r.logical_model, r.provider, std::string_view(status, end - status)}).inc();
  request_duration.with({r.logical_model, r.provider}).observe(r.duration_seconds);
  if (r.first_byte_seconds) first_byte.with({r.logical_model, r.provider}).observe(*r.first_byte_seconds);
}

void Telemetry::record_attempt(std::string_view logical_model, std::string_view provider, std::string_view outcome) {
  upstream_attempts.with({logical_model, provider, outcome}).inc();
}

void Telemetry::record_usage(const UsageRecord& r, std::chrono::steady_clock::time_point now) {
  usage.record(r.logical_model, r.provider, r.usage, r.cost, now);
  if (!r.usage) return;
  TokenCounters& t = tokens.with({r.logical_model, r.provider, r.model});
  t.prompt.inc(r.usage->prompt_tokens);
  t.completion.inc(r.usage->completion_tokens);
  cost.with({r.logical_model, r.provider, r.model}).add(r.cost);
}

void Telemetry::write(TextWriter& out) const {
  telemetry::write(out, requests);
  telemetry::write(out, request_duration);
  telemetry::write(out, first_byte);
  telemetry::write(out, upstream_attempts);
  telemetry::write(out, failovers);
  telemetry::write(out, rate_limited);
  telemetry::write(out, tokens);
  telemetry::write(out, cost);
  out.family("apiproxy_in_flight_requests", "Data-plane requests being served.", "gauge");
  out.sample("apiproxy_in_flight_requests", {}, in_flight_requests.value());
  out.family("apiproxy_in_flight_streams", "Streamed (SSE) answers being relayed.", "gauge");
  out.sample("apiproxy_in_flight_streams", {}, in_flight_streams.value());
}

}  // namespace apiproxy::telemetry
