#include "server/api/proxy_call.hpp"

#include <random>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "core/catalog/model_resolution.hpp"
#include "core/routing/sessions.hpp"
#include "core/upstream/sse_events.hpp"
#include "server/api/client_request.hpp"
#include "server/api/errors.hpp"
#include "server/app/gateway_state.hpp"

namespace apiproxy {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxWholeResponse = 64 * 1024 * 1024;
constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr size_t kUsageTail = 4096;
constexpr unsigned kClientClosedRequest = 499;  // nginx's status for a client that hung up

std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

std::string label(const Candidate& c) { return c.upstream.provider_id + "/" + c.upstream.model_id; }

// Headers of an upstream answer worth passing to the client.
bool passes_through(std::string_view name) {
  auto starts = [&](std::string_view p) {
    return name.size() >= p.size() && boost::beast::iequals(name.substr(0, p.size()), p);
  };
  return starts("openai-") || starts("x-ratelimit-") || boost::beast::iequals(name, "retry-after");
}

// A token count in a usage object, found without parsing the whole body.
long long usage_field(std::string_view text, std::string_view field) {
  auto at = text.rfind(field);
  if (at == std::string_view::npos) return -1;
  at = text.find(':', at);
  if (at == std::string_view::npos) return -1;
  ++at;
  while (at < text.size() && text[at] == ' ') ++at;
  long long v = 0;
  bool any = false;
  for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, any = true) v = v * 10 + (text[at] - '0');
  return any ? v : -1;
}

// Problems with the provider count against it; a client's own mistakes (400, 404, 422...)
// do not.
bool provider_fault(int status) { return status >= 500 || status == 401 || status == 403; }

// The `route` label: the route pattern, not the raw path, so the label set stays fixed.
std::string_view route_of(apx_operation op) {
  switch (op) {
    case APX_OP_CHAT_COMPLETIONS: return "/v1/chat/completions";
    case APX_OP_COMPLETIONS: return "/v1/completions";
    case APX_OP_EMBEDDINGS: return "/v1/embeddings";
    default: return "other";
  }
}

}  // namespace

ProxyCall::ProxyCall(Worker& worker, std::shared_ptr<Exchange> ex, apx_operation op)
    : w_(worker), ex_(std::move(ex)), op_(op), in_flight_(worker.state.telemetry.in_flight_requests) {
  // Counted when the answer is complete, before its last bytes go out: a client that
  // scrapes /metrics right after its answer finds its request counted.
  ex_->on_complete([this] { record_request(); });
}

ProxyCall::~ProxyCall() {
  ex_->on_complete(nullptr);  // the exchange may outlive this object
  record_request();           // no answer yet: the exchange is about to answer 500 itself
}

void ProxyCall::record_request() {
  if (recorded_) return;
  recorded_ = true;
  try {
    using Seconds = std::chrono::duration<double>;
    telemetry::RequestRecord r;
    r.route = route_of(op_);
    r.logical_model = model_ ? std::string_view(model_->logical_id) : telemetry::kNone;
    r.provider = answered_ ? std::string_view(answered_->upstream.provider_id) : telemetry::kNone;
    r.status = ex_->status() ? ex_->status() : 500;
    r.duration_seconds = Seconds(ex_->completed_at().value_or(Clock::now()) - ex_->started()).count();
    if (auto first = ex_->first_byte_at()) r.first_byte_seconds = Seconds(*first - ex_->started()).count();
    w_.state.telemetry.record_request(r);
  } catch (...) {
    // Counting must never fail a request, nor a destructor.
  }
  in_flight_.release();
  streaming_.release();
}

void ProxyCall::count_attempt(const Candidate& c, std::string_view outcome) {
  w_.state.telemetry.record_attempt(model_->logical_id, c.upstream.provider_id, outcome);
}

double ProxyCall::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(Clock::now() - attempt_started_).count();
}

void ProxyCall::respond_error(http::status status, const std::string& message, const std::string& type,
                              const std::string& code) {
  ex_->respond(status, openai_error_body(message, type, code));
}

bool ProxyCall::parse_body() {
  auto read = read_client_request(ex_->request().body(), op_, ex_->request()["X-Session-Id"]);
  if (auto* problem = std::get_if<RequestProblem>(&read)) {
    ex_->respond(http::status::bad_request,
                 openai_error_body(problem->message, "invalid_request_error", problem->code, problem->param));
    return false;
  }
  request_ = std::move(std::get<ClientRequest>(read));
  ex_->note("model", request_.model);
  return true;
}

void ProxyCall::run() {
  if (!parse_body()) return;
  ex_->on_client_gone([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->on_client_hangup();
  });
  GatewayState& s = w_.state;
  plugins_ = s.plugins.get();
  ResolvedModel resolved = resolve_model(request_.model, s.catalog, plugins_->providers, s.last_good_models);
  if (!resolved.model) {
    return ex_->respond(http::status::not_found,
                        openai_error_body("The model '" + request_.model + "' does not exist or you do not have access to it.",
                                          "invalid_request_error", "model_not_found", "model"));
  }
  model_ = std::move(resolved.model);
  ex_->note("logical_model", model_->logical_id);
  if (request_.session_id.empty()) return route(std::nullopt);
  auto self = shared_from_this();
  load_session(*w_.store, request_.session_id, [self](Result<std::optional<Session>> session) {
    if (!session) {
      // Stickiness is best effort on the data plane: answer the request anyway.
      spdlog::warn("session lookup for '{}' failed: {}", self->request_.session_id, session.error());
      return self->route(std::nullopt);
    }
    self->route(std::move(*session));
  });
}

void ProxyCall::route(std::optional<Session> session) {
  session_ = std::move(session);
  RouteRequest req;
  req.session = session_;
  req.exact_qps_limits = true;
  req.explain = false;
  req.stream = request_.stream;
  req.estimated_input_tokens = ex_->request().body().size() / 4;
  if (request_.max_output_tokens) req.estimated_output_tokens = *request_.max_output_tokens;
  RouteOutcome outcome = w_.state.router->decide(*plugins_, *model_, req, thread_rng());
  if (!outcome.decision) {
    auto status = static_cast<http::status>(outcome.status);
    return respond_error(status, outcome.error,
                         outcome.status == 400 ? "invalid_request_error" : "api_error", outcome.code);
  }
  order_ = std::move(outcome.decision->order);
  try_next();
}

std::string ProxyCall::upstream_body(const Candidate& c) const {
  auto& doc = const_cast<rapidjson::Document&>(request_.body);
  doc["model"].SetString(c.upstream.model_id.data(), static_cast<rapidjson::SizeType>(c.upstream.model_id.size()),
                         doc.GetAllocator());
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

void ProxyCall::on_client_hangup() {
  client_hung_up_ = true;
  if (upstream_) upstream_->cancel();  // its callback then finds client_hung_up_ set
}

bool ProxyCall::stop_if_client_gone(const Candidate* c) {
  if (!client_hung_up_) return false;
  if (c) {
    count_attempt(*c, telemetry::outcome::kClientClosed);
    w_.state.metrics.abandon(model_->logical_id, c->upstream.provider_id);
  }
  upstream_.reset();
  // Nobody reads this answer; it gives the access log and the metrics nginx's status for it.
  respond_error(static_cast<http::status>(kClientClosedRequest), "the client closed the connection",
                "api_error", "client_closed_request");
  return true;
}

void ProxyCall::try_next() {
  if (stop_if_client_gone(nullptr)) return;
  if (next_ >= order_.size() || attempts_.size() >= w_.state.settings.max_attempts) return all_failed();
  // Admission: the first remaining candidate under its MAX_QPS limits, in one store trip.
  std::vector<AdmissionCandidate> remaining;
  for (size_t i = next_; i < order_.size(); ++i) {
    const Candidate& c = order_[i];
    AdmissionCandidate a;
    a.limits.push_back({rate_limit_keys::provider(c.upstream.provider_id), c.provider->config.max_qps});
    if (c.upstream.max_qps)
      a.limits.push_back({rate_limit_keys::upstream(model_->logical_id, c.upstream.provider_id, c.upstream.model_id),
                          *c.upstream.max_qps});
    remaining.push_back(std::move(a));
  }
  auto self = shared_from_this();
  w_.state.limiter.admit(*w_.store, std::move(remaining), [self](Admission admission) {
    if (self->stop_if_client_gone(nullptr)) return;
    if (!admission.admitted) {
      self->rate_limited_for_ = admission.retry_after;
      self->next_ = self->order_.size();
      return self->all_failed();
    }
    self->next_ += *admission.admitted;
    self->attempt(self->order_[self->next_++]);
  });
}

void ProxyCall::attempt(const Candidate& c) {
  const auto& settings = w_.state.settings;
  std::string body = upstream_body(c);
  auto request = c.provider->adapter->build_request(UpstreamCall{op_, c.upstream.model_id, body, request_.stream});
  if (!attempts_.empty()) w_.state.telemetry.record_failover(model_->logical_id);
  if (!request) {
    attempts_.push_back({label(c), request.error()});
    count_attempt(c, telemetry::outcome::kAdapterError);
    return try_next();
  }
  attempt_started_ = Clock::now();
  w_.state.metrics.begin(model_->logical_id, c.upstream.provider_id);
  ExchangeTimeouts t{settings.upstream_first_byte_timeout, settings.upstream_idle_timeout,
                     settings.upstream_total_timeout};
  auto self = shared_from_this();
  upstream_ = UpstreamExchange::start(*w_.pool, std::move(request.value()), t,
                                      [self, &c](Result<std::shared_ptr<UpstreamExchange>> started) {
                                        self->on_head(c, std::move(started));
                                      });
}

void ProxyCall::fail_attempt(const Candidate& c, const std::string& why, Nudge nudge, double latency_ms,
                             std::string_view outcome) {
  attempts_.push_back({label(c), why});
  count_attempt(c, outcome);
  w_.state.metrics.end(model_->logical_id, c.upstream.provider_id, Observation{latency_ms, false});
  w_.state.weights.nudge(model_->logical_id, c.upstream.provider_id, nudge);
  spdlog::debug("request {}: attempt on {} failed: {}", ex_->request_id(), label(c), why);
  try_next();
}

void ProxyCall::on_head(const Candidate& c, Result<std::shared_ptr<UpstreamExchange>> started) {
  if (stop_if_client_gone(&c)) return;
  if (!started)
    return fail_attempt(c, started.error(), Nudge::RetryableFailure, elapsed_ms(), telemetry::outcome::kTransportError);
  auto up = std::move(started.value());
  int status = up->status();
  Outcome outcome = c.provider->adapter->classify(status, {});
  if (outcome == Outcome::Retryable) {
    auto cooldown = Cooldowns::parse_retry_after(up->header("retry-after"));
    w_.state.cooldowns.cool(c.upstream.provider_id, c.upstream.model_id, cooldown);
    auto self = shared_from_this();
    // Read the error body so the connection can be reused, then move on.
    up->read_all(kMaxErrorBody, [self, &c, up, status](Result<std::string>) {
      self->fail_attempt(c, "HTTP " + std::to_string(status), Nudge::RetryableFailure, self->elapsed_ms(),
                         telemetry::outcome::kRetryableStatus);
    });
    return;
  }
  if (outcome == Outcome::Success && request_.stream &&
      up->header("content-type").find("text/event-stream") != std::string::npos)
    return relay_stream(c, std::move(up));
  relay_whole(c, std::move(up), outcome == Outcome::Success);
}

void ProxyCall::set_attribution(http::fields& headers, const Candidate& c) {
  answered_ = &c;
  ex_->note("provider", c.upstream.provider_id);
  ex_->note("upstream_model", c.upstream.model_id);
  ex_->note_number("attempts", static_cast<long long>(attempts_.size() + 1));
  headers.set("X-APIProxy-Provider", c.upstream.provider_id);
  headers.set("X-APIProxy-Model", c.upstream.model_id);
  headers.set("X-APIProxy-Attempts", std::to_string(attempts_.size() + 1));
}

void ProxyCall::relay_whole(const Candidate& c, std::shared_ptr<UpstreamExchange> up, bool success) {
  auto self = shared_from_this();
  size_t limit = success ? kMaxWholeResponse : kMaxErrorBody * 16;
  up->read_all(limit, [self, &c, up, success](Result<std::string> body) {
    if (self->stop_if_client_gone(&c)) return;
    auto& metrics = self->w_.state.metrics;
    const std::string& logical = self->model_->logical_id;
    if (!body) {
      // The answer broke off: nothing was sent to the client yet, so another upstream may try.
      return self->fail_attempt(c, body.error(), Nudge::RetryableFailure, self->elapsed_ms(),
                                telemetry::outcome::kTransportError);
    }
    int status = up->status();
    Exchange::Response res{static_cast<http::status>(status), self->ex_->request().version()};
    res.set(http::field::content_type, up->header("content-type").empty() ? "application/json"
                                                                          : up->header("content-type"));
    for (const auto& f : up->head())
      if (passes_through(f.name_string())) res.set(f.name_string(), f.value());
    self->set_attribution(res, c);
    res.body() = std::move(body.value());
    if (success) {
      auto out = std::make_shared<Exchange::Response>(std::move(res));
      return self->finish_success(c, out->body(), self->elapsed_ms(),
                                  [self, out] { self->ex_->respond(std::move(*out)); });
    } else {
      bool fault = provider_fault(status);
      self->count_attempt(c, telemetry::outcome::kErrorStatus);
      metrics.end(logical, c.upstream.provider_id, Observation{self->elapsed_ms(), !fault});
      if (fault) self->w_.state.weights.nudge(logical, c.upstream.provider_id, Nudge::FatalFailure);
    }
    self->ex_->respond(std::move(res));
  });
}

void ProxyCall::finish_success(const Candidate& c, std::string_view tail_for_usage, double latency_ms,
                               std::function<void()> then) {
  const std::string& logical = model_->logical_id;
  count_attempt(c, telemetry::outcome::kSuccess);
  w_.state.metrics.end(logical, c.upstream.provider_id, Observation{latency_ms, true});
  w_.state.weights.nudge(logical, c.upstream.provider_id, Nudge::Success);
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("request {}: {} via {} in {:.1f} ms after {} attempt(s); tokens in {} out {}",
                  ex_->request_id(), request_.model, label(c), elapsed_ms(), attempts_.size() + 1,
                  usage_field(tail_for_usage, "\"prompt_tokens\""),
                  usage_field(tail_for_usage, "\"completion_tokens\""));
  }
  if (request_.session_id.empty() || bound_) return then();
  bind_session_to(c, std::move(then));
}

void ProxyCall::bind_session_to(const Candidate& c, std::function<void()> then) {
  bound_ = true;
  std::string id = request_.session_id;
  bind_session(*w_.store, id, model_->logical_id, session_, c, w_.state.settings.stickiness_ttl,
               [id, then = std::move(then)](Result<Session> bound) {
                 if (!bound) spdlog::warn("could not record session '{}': {}", id, bound.error());
                 then();
               });
}

void ProxyCall::relay_stream(const Candidate& c, std::shared_ptr<UpstreamExchange> up) {
  Exchange::StreamHead head{static_cast<http::status>(up->status()), ex_->request().version()};
  head.set(http::field::content_type, "text/event-stream");
  head.set(http::field::cache_control, "no-cache");
  head.set("X-Accel-Buffering", "no");
  set_attribution(head, c);
  auto self = shared_from_this();
  auto start = [self, &c, up, head = std::move(head)]() mutable {
    self->streaming_ = telemetry::GaugeGuard(self->w_.state.telemetry.in_flight_streams);
    self->ex_->start_stream(std::move(head), [self, &c, up](bool ok) {
      if (!ok) return self->client_gone(c, *up);
      self->pump(c, up);
    });
  };
  // Bound before the first byte: a client may send its next message as soon as it sees [DONE].
  if (request_.session_id.empty()) return start();
  bind_session_to(c, std::move(start));
}

void ProxyCall::pump(const Candidate& c, std::shared_ptr<UpstreamExchange> up) {
  auto self = shared_from_this();
  up->read([self, &c, up](Result<std::string_view> piece) {
    if (!piece) return self->end_stream_with_error(c, piece.error());  // a partial event is dropped
    if (piece->empty()) return self->end_stream_at_upstream_end(c, *up);
    // Keep the end of the stream: `usage` arrives in its last event.
    self->usage_tail_.append(*piece);
    if (self->usage_tail_.size() > kUsageTail) self->usage_tail_.erase(0, self->usage_tail_.size() - kUsageTail);
    auto events = self->whole_events(*piece);
    if (!events)
      return self->end_stream_with_error(c, "an event exceeds " + std::to_string(kMaxSseEventBytes) + " bytes");
    if (events->empty()) return self->pump(c, up);  // no event has ended yet
    self->ex_->stream_write(*events, [self, &c, up](bool ok) {
      if (!ok) return self->client_gone(c, *up);
      self->pump(c, up);
    });
  });
}

std::optional<std::string_view> ProxyCall::whole_events(std::string_view piece) {
  if (sse_partial_.empty()) {
    size_t whole = complete_sse_events(piece);
    if (whole == piece.size()) return piece;  // the usual case: the piece ends an event
    sse_partial_.assign(piece.substr(whole));
    return sse_partial_.size() > kMaxSseEventBytes ? std::nullopt : std::optional(piece.substr(0, whole));
  }
  sse_partial_.append(piece);
  size_t whole = complete_sse_events(sse_partial_);
  sse_whole_.assign(sse_partial_, 0, whole);
  sse_partial_.erase(0, whole);
  if (sse_partial_.size() > kMaxSseEventBytes) return std::nullopt;
  return std::string_view(sse_whole_);
}

void ProxyCall::end_stream_at_upstream_end(const Candidate& c, UpstreamExchange& up) {
  auto self = shared_from_this();
  auto finish = [self, &c, ttfb = static_cast<double>(up.time_to_first_byte().count())] {
    self->finish_success(c, self->usage_tail_, ttfb, [self] { self->ex_->end_stream([](bool) {}); });
  };
  if (sse_partial_.empty()) return finish();
  // The upstream ended without the blank line that ends its last event; a client's SSE
  // parser would drop that event, so it gets its end.
  sse_whole_ = std::move(sse_partial_);
  sse_whole_ += sse_whole_.back() == '\n' ? "\n" : "\n\n";
  sse_partial_.clear();
  ex_->stream_write(sse_whole_, [self, finish](bool ok) {
    if (ok) finish();
  });
}

void ProxyCall::client_gone(const Candidate& c, UpstreamExchange& up) {
  up.cancel();  // stop reading, free the upstream connection
  count_attempt(c, telemetry::outcome::kClientClosed);
  w_.state.metrics.abandon(model_->logical_id, c.upstream.provider_id);
}

void ProxyCall::end_stream_with_error(const Candidate& c, const std::string& why) {
  // Bytes already reached the client, so there is no failing over: tell it in-band.
  count_attempt(c, telemetry::outcome::kStreamError);
  w_.state.metrics.end(model_->logical_id, c.upstream.provider_id, Observation{elapsed_ms(), false});
  w_.state.weights.nudge(model_->logical_id, c.upstream.provider_id, Nudge::RetryableFailure);
  spdlog::warn("request {}: stream from {} broke off: {}", ex_->request_id(), label(c), why);
  auto tail = std::make_shared<std::string>(
      "data: " + openai_error_body("the upstream stream broke off: " + why, "api_error", "upstream_stream_error") +
      "\n\ndata: [DONE]\n\n");
  auto self = shared_from_this();
  ex_->stream_write(*tail, [self, tail](bool ok) {
    if (ok) self->ex_->end_stream([](bool) {});
  });
}

void ProxyCall::all_failed() {
  ex_->note_number("attempts", static_cast<long long>(attempts_.size()));
  if (attempts_.empty() && rate_limited_for_.count() > 0) {
    w_.state.telemetry.record_rate_limited(model_->logical_id);
    auto seconds = std::max<long long>(1, (rate_limited_for_.count() + 999) / 1000);
    Exchange::Response res{http::status::too_many_requests, ex_->request().version()};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::retry_after, std::to_string(seconds));
    res.body() = openai_error_body("every upstream of '" + request_.model + "' is at its MAX_QPS limit; retry in " +
                                       std::to_string(seconds) + " s",
                                   "rate_limit_error", "rate_limit_exceeded");
    return ex_->respond(std::move(res));
  }
  if (attempts_.empty())
    return respond_error(http::status::service_unavailable,
                         "no upstream of '" + request_.model + "' is available", "api_error", "no_upstream_available");
  std::string tried;
  for (const auto& a : attempts_) tried += (tried.empty() ? "" : "; ") + a.label + ": " + a.outcome;
  if (rate_limited_for_.count() > 0) tried += "; the remaining upstreams are at their MAX_QPS limit";
  respond_error(http::status::bad_gateway,
                "all " + std::to_string(attempts_.size()) + " attempt(s) failed: " + tried, "api_error",
                "upstream_error");
}

}  // namespace apiproxy
