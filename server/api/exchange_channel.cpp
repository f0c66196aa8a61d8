#include "server/api/exchange_channel.hpp"

#include <charconv>

#include "core/translate/anthropic_messages.hpp"
#include "server/api/errors.hpp"
#include "server/api/json_writer.hpp"

namespace apiproxy {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr unsigned kClientClosedRequest = 499;  // nginx's status for a client that hung up

// The `route` label: the route pattern, not the raw path, so the label set stays fixed.
std::string_view route_of(apx_operation op) {
  switch (op) {
    case APX_OP_CHAT_COMPLETIONS: return "/v1/chat/completions";
    case APX_OP_COMPLETIONS: return "/v1/completions";
    case APX_OP_EMBEDDINGS: return "/v1/embeddings";
    case APX_OP_MESSAGES: return "/v1/messages";
    case APX_OP_RESPONSES: return "/v1/responses";
    default: return "other";
  }
}

struct ErrorShape {
  unsigned status;
  std::string_view type, code, param;
};

ErrorShape shape_of(const Refusal& r) {
  switch (r.kind) {
    case RefusalKind::ModelNotFound: return {404, "invalid_request_error", "model_not_found", "model"};
    case RefusalKind::Unroutable: {
      auto status = route_error_status(r.route_error);
      return {static_cast<unsigned>(status),
              status == http::status::bad_request ? "invalid_request_error" : "api_error",
              route_error_code(r.route_error), ""};
    }
    case RefusalKind::NoUpstream: return {503, "api_error", "no_upstream_available", ""};
    case RefusalKind::RateLimited: return {429, "rate_limit_error", "rate_limit_exceeded", ""};
    case RefusalKind::AttemptsFailed: return {502, "api_error", "upstream_error", ""};
    case RefusalKind::ClientGone: return {kClientClosedRequest, "api_error", "client_closed_request", ""};
  }
  return {500, "api_error", "internal_error", ""};
}

}  // namespace

ExchangeChannel::ExchangeChannel(std::shared_ptr<Exchange> ex, telemetry::Telemetry& telemetry, apx_operation op)
    : ex_(std::move(ex)), telemetry_(telemetry), op_(op), in_flight_(telemetry.in_flight_requests) {
  // Counted when the answer is complete, before its last bytes go out: a client that
  // scrapes /metrics right after its answer finds its request counted.
  ex_->on_complete([this] { record_request(); });
}

ExchangeChannel::~ExchangeChannel() {
  ex_->on_complete(nullptr);  // the exchange may outlive this object
  record_request();
}

void ExchangeChannel::record_request() {
  if (recorded_) return;
  recorded_ = true;
  try {
    using Seconds = std::chrono::duration<double>;
    telemetry::RequestRecord r;
    r.route = route_of(op_);
    r.logical_model = logical_model_.empty() ? telemetry::kNone : std::string_view(logical_model_);
    r.provider = provider_.empty() ? telemetry::kNone : std::string_view(provider_);
    r.status = ex_->status() ? ex_->status() : 500;
    r.duration_seconds = Seconds(ex_->completed_at().value_or(Clock::now()) - ex_->started()).count();
    if (auto first = ex_->first_byte_at()) r.first_byte_seconds = Seconds(*first - ex_->started()).count();
    telemetry_.record_request(r);
  } catch (...) {
    // Counting must never fail a request, nor a destructor.
  }
  in_flight_.release();
}

void ExchangeChannel::note(std::string_view key, std::string_view value) {
  if (key == "logical_model") logical_model_ = value;
  ex_->note(key, value);
}

void ExchangeChannel::note_number(std::string_view key, long long value) { ex_->note_number(key, value); }

void ExchangeChannel::note_decimal(std::string_view key, double value) { ex_->note_decimal(key, value); }

void ExchangeChannel::on_hangup(std::function<void()> f) { ex_->on_client_gone(std::move(f)); }

void ExchangeChannel::refuse(const Refusal& why) {
  ErrorShape shape = shape_of(why);
  Exchange::Response res{static_cast<http::status>(shape.status), ex_->request().version()};
  res.set(http::field::content_type, "application/json");
  if (why.kind == RefusalKind::RateLimited) res.set(http::field::retry_after, std::to_string(why.retry_after.count()));
  res.body() = op_ == APX_OP_MESSAGES ? translate::anthropic_error_body(static_cast<int>(shape.status), why.message)
                                      : openai_error_body(why.message, shape.type, shape.code, shape.param);
  ex_->respond(std::move(res));
}

void ExchangeChannel::attribute(Exchange::Answer& head, const Attribution& from) {
  provider_ = from.provider_id;
  ex_->note("provider", provider_);
  ex_->note("upstream_model", from.model_id);
  ex_->note_number("attempts", static_cast<long long>(from.attempts));
  char attempts[24];
  auto end = std::to_chars(attempts, attempts + sizeof attempts, from.attempts).ptr;
  head.add("X-APIProxy-Provider", from.provider_id);
  head.add("X-APIProxy-Model", from.model_id);
  head.add("X-APIProxy-Attempts", std::string_view(attempts, static_cast<size_t>(end - attempts)));
}

void ExchangeChannel::answer(UpstreamAnswer answer) {
  Exchange::Answer res{static_cast<unsigned>(answer.status), {}, std::move(answer.body)};
  res.fields.reserve(256);
  res.add("Content-Type", answer.content_type);
  for (const auto& [name, value] : answer.headers) res.add(name, value);
  attribute(res, answer.from);
  ex_->respond(std::move(res));
}

void ExchangeChannel::start_stream(int status, const Attribution& from, std::string_view first, Done done) {
  Exchange::Answer head{static_cast<unsigned>(status), {}, {}};
  head.fields.reserve(256);
  head.add("Content-Type", "text/event-stream");
  head.add("Cache-Control", "no-cache");
  head.add("X-Accel-Buffering", "no");
  attribute(head, from);
  ex_->start_stream(std::move(head), first, std::move(done));
}

void ExchangeChannel::stream_write(std::string_view bytes, Done done) { ex_->stream_write(bytes, std::move(done)); }

void ExchangeChannel::end_stream(std::string_view last, Done done) { ex_->end_stream(last, std::move(done)); }

namespace {

// The in-band error event each client API's readers understand.
std::string stream_error_event(apx_operation op, std::string_view why) {
  if (op == APX_OP_MESSAGES) return translate::ChatStreamToMessages::error_event(why);
  if (op == APX_OP_RESPONSES) {
    JsonOut j;
    j.w().StartObject();
    j.field("type", "error").field("code", "upstream_stream_error").field("message", why).null_field("param");
    j.w().EndObject();
    return "event: error\ndata: " + j.take() + "\n\n";
  }
  return "data: " + openai_error_body(why, "api_error", "upstream_stream_error") + "\n\ndata: [DONE]\n\n";
}

}  // namespace

void ExchangeChannel::end_stream_with_error(std::string_view why) {
  error_tail_ = stream_error_event(op_, why);
  end_stream(error_tail_, [self = shared_from_this()](bool) {});
}

}  // namespace apiproxy
