#include "core/dataplane/proxied_request.hpp"

#include <random>

#include <spdlog/spdlog.h>

#include "core/catalog/model_resolution.hpp"
#include "core/common/text.hpp"
#include "core/dataplane/answer_policy.hpp"
#include "core/dataplane/usage_accounting.hpp"
#include "core/routing/sessions.hpp"

namespace apiproxy {

using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxWholeResponse = 64 * 1024 * 1024;
constexpr size_t kMaxErrorBody = 64 * 1024;

std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}


}  // namespace

ExchangeTimeouts attempt_timeouts(const DataPlaneLimits& limits, const ProviderConfig& provider, bool stream) {
  ExchangeTimeouts t = limits.timeouts;
  if (provider.total_timeout.count() > 0) t.total = provider.total_timeout;
  if (provider.connect_timeout.count() > 0) t.connect = provider.connect_timeout;
  if (provider.idle_timeout.count() > 0) t.idle = provider.idle_timeout;
  if (provider.first_byte_timeout.count() > 0) t.first_byte = provider.first_byte_timeout;
  else if (!stream && !limits.first_byte_set) t.first_byte = t.total;
  return t;
}

void DataPlane::serve(ProxyRequest request, std::shared_ptr<ClientChannel> client) {
  std::make_shared<ProxiedRequest>(*this, std::move(request), std::move(client))->run();
}

ProxiedRequest::ProxiedRequest(const DataPlane& plane, ProxyRequest request, std::shared_ptr<ClientChannel> client)
    : shared_(plane.shared()),
      store_(plane.store()),
      pool_(plane.pool()),
      request_(std::move(request)),
      client_(std::move(client)) {}

void ProxiedRequest::count_attempt(std::string_view outcome) {
  shared_.telemetry.record_attempt(model_->logical_id, current().upstream->provider_id, outcome);
}

double ProxiedRequest::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(Clock::now() - attempt_started_).count();
}

Attribution ProxiedRequest::attribution() const {
  return {current().upstream->provider_id, current().upstream->model_id, attempts_.size() + 1};
}

void ProxiedRequest::run() {
  client_->on_hangup([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->on_client_hangup();
  });
  plugins_ = shared_.plugins.get();
  ResolvedModel resolved = resolve_model(request_.model, shared_.catalog, plugins_->providers, shared_.discovered);
  if (!resolved.model) {
    return client_->refuse({RefusalKind::ModelNotFound,
                            "The model '" + request_.model + "' does not exist or you do not have access to it."});
  }
  model_ = std::move(resolved.model);
  client_->note("logical_model", model_->logical_id);
  if (request_.session_id.empty()) return route(std::nullopt);
  load_session(*store_, request_.session_id, [self = shared_from_this()](Result<std::optional<Session>> s) {
    if (!s) {
      // Stickiness is best effort on the data plane: answer the request anyway.
      spdlog::warn("session lookup for '{}' failed: {}", self->request_.session_id, s.error());
      return self->route(std::nullopt);
    }
    self->route(std::move(*s));
  });
}

void ProxiedRequest::route(std::optional<Session> session) {
  session_ = std::move(session);
  RouteRequest req;
  req.session = session_;
  req.exact_qps_limits = true;
  req.explain = false;
  req.probe = true;
  req.stream = request_.stream;
  req.estimated_input_tokens = request_.body.size() / 4;
  if (request_.max_output_tokens) req.estimated_output_tokens = *request_.max_output_tokens;
  RouteOutcome outcome = shared_.router.decide(*plugins_, *model_, req, thread_rng());
  if (!outcome.decision) {
    Refusal r{RefusalKind::Unroutable, std::move(outcome.error)};
    r.route_error = outcome.error_kind;
    return client_->refuse(r);
  }
  order_ = std::move(outcome.decision->order);
  try_next();
}

void ProxiedRequest::on_client_hangup() {
  client_hung_up_ = true;
  if (upstream_) upstream_->cancel();  // its callback then finds client_hung_up_ set
}

bool ProxiedRequest::stop_if_client_gone(bool attempt_in_flight) {
  if (!client_hung_up_) return false;
  if (attempt_in_flight) {
    count_attempt(telemetry::outcome::kClientClosed);
    shared_.metrics.abandon(model_->logical_id, current().upstream->provider_id);
  }
  upstream_.reset();
  client_->refuse({RefusalKind::ClientGone, "the client closed the connection"});
  return true;
}

void ProxiedRequest::try_next() {
  if (stop_if_client_gone(false)) return;
  if (next_ >= order_.size() || attempts_.size() >= shared_.limits.max_attempts) return all_failed();
  if (order_[next_].max_qps <= 0) {  // no MAX_QPS (the usual case): nothing to ask the limiter
    current_ = next_++;
    return attempt();
  }
  // Admission: the first remaining candidate under its MAX_QPS limits, in one store trip.
  std::vector<AdmissionCandidate> remaining;
  remaining.reserve(order_.size() - next_);
  for (size_t i = next_; i < order_.size(); ++i) {
    const Candidate& c = order_[i];
    AdmissionCandidate a;
    if (c.provider->config.max_qps > 0)
      a.limits.push_back({rate_limit_keys::provider(c.upstream->provider_id), c.provider->config.max_qps});
    if (c.upstream->max_qps && *c.upstream->max_qps > 0)
      a.limits.push_back({rate_limit_keys::upstream(model_->logical_id, c.upstream->provider_id, c.upstream->model_id),
                          *c.upstream->max_qps});
    remaining.push_back(std::move(a));
  }
  shared_.limiter.admit(*store_, std::move(remaining), [self = shared_from_this()](Admission admission) {
    if (self->stop_if_client_gone(false)) return;
    if (!admission.admitted) {
      self->rate_limited_for_ = admission.retry_after;
      self->next_ = self->order_.size();
      return self->all_failed();
    }
    self->next_ += *admission.admitted;
    self->current_ = self->next_++;
    self->attempt();
  });
}

void ProxiedRequest::attempt() {
  keys_ = shared_.keys.find(current().upstream->provider_id);
  keys_tried_.clear();
  pick_key();
}

void ProxiedRequest::pick_key() {
  key_ = 0;
  // One key and no limit of its own (the usual case): nothing to choose or admit.
  if (!keys_ || (keys_->size() == 1 && !keys_->has_key_limits())) return send();
  auto now = Clock::now();
  keys_->refresh(*store_, now);
  keys_->order(thread_rng(), now, keys_tried_, key_order_);
  if (key_order_.empty()) {
    attempts_.push_back({candidate_label(current()), "every API key of the provider is backing off"});
    count_attempt(telemetry::outcome::kNoKey);
    return try_next();
  }
  if (!keys_->has_key_limits()) {
    key_ = key_order_.front();
    return send();
  }
  // Per-key MAX_QPS: the first key, in this order, with room — in one store trip.
  std::vector<AdmissionCandidate> candidates(key_order_.size());
  for (size_t i = 0; i < key_order_.size(); ++i)
    if (double qps = keys_->key(key_order_[i]).max_qps; qps > 0)
      candidates[i].limits.push_back({keys_->limit_key(key_order_[i]), qps});
  shared_.limiter.admit(*store_, std::move(candidates), [self = shared_from_this()](Admission admission) {
    if (self->stop_if_client_gone(false)) return;
    if (!admission.admitted) {  // every usable key is at its MAX_QPS: this provider cannot take it now
      if (self->rate_limited_for_.count() == 0 || admission.retry_after < self->rate_limited_for_)
        self->rate_limited_for_ = admission.retry_after;
      return self->try_next();
    }
    self->key_ = self->key_order_[*admission.admitted];
    self->send();
  });
}

std::optional<KeyOutcome> ProxiedRequest::record_key(int status, const UpstreamExchange* up) {
  KeyOutcome outcome;
  if (status >= 200 && status < 300) outcome = KeyOutcome::Success;
  else if (status == 401 || status == 403) outcome = KeyOutcome::AuthFailure;
  else if (status == 429) outcome = KeyOutcome::RateLimited;
  else if (status >= 500 || !up) outcome = KeyOutcome::OtherFailure;
  else return std::nullopt;  // the client's own mistake (400, 404, 422...) says nothing about the key
  auto retry_after = up && status == 429 ? Cooldowns::parse_retry_after(up->header("retry-after"))
                                         : std::chrono::milliseconds(0);
  keys_->record(key_, outcome, retry_after, Clock::now(), *store_);
  return outcome;
}

bool ProxiedRequest::rotate_key(UpstreamExchange& up, int status, std::optional<KeyOutcome> outcome) {
  if (outcome != KeyOutcome::AuthFailure && outcome != KeyOutcome::RateLimited) return false;
  if (keys_->size() < 2 || attempts_.size() + 1 >= shared_.limits.max_attempts) return false;
  keys_tried_.push_back(static_cast<uint16_t>(key_));
  keys_->order(thread_rng(), Clock::now(), keys_tried_, key_order_);
  if (key_order_.empty()) return false;
  // The key failed, not the upstream: nothing is learnt about the upstream from it.
  const Candidate& c = current();
  attempts_.push_back({candidate_label(c) + " with key " + keys_->key(key_).label, "HTTP " + std::to_string(status)});
  count_attempt(telemetry::outcome::kKeyRejected);
  shared_.metrics.abandon(model_->logical_id, c.upstream->provider_id);
  up.read_all(kMaxErrorBody, [self = shared_from_this()](Result<std::string>) {
    if (self->stop_if_client_gone(false)) return;
    self->pick_key();
  });
  return true;
}

void ProxiedRequest::send() {
  const Candidate& c = current();
  if (!attempts_.empty()) shared_.telemetry.record_failover(model_->logical_id);
  if (keys_) keys_->count_request(key_);
  auto request = build_call(c);
  if (!request) {
    attempts_.push_back({candidate_label(c), request.error()});
    count_attempt(telemetry::outcome::kAdapterError);
    return try_next();
  }
  attempt_started_ = Clock::now();
  shared_.metrics.begin(model_->logical_id, c.upstream->provider_id);
  upstream_ = UpstreamExchange::start(pool_, std::move(request.value()),
                                      attempt_timeouts(shared_.limits, c.provider->config, request_.stream),
                                      [self = shared_from_this()](Result<std::shared_ptr<UpstreamExchange>> started) {
                                        self->on_head(std::move(started));
                                      },
                                      attempt_started_);
}

Result<UpstreamRequest> ProxiedRequest::build_call(const Candidate& c) {
  translation_.reset();
  if (!request_.chat_body) return build_with(c, request_.op, request_.body, nullptr);
  // Messages or Responses: natively when the adapter speaks the client's API.
  bool unsupported = false;
  auto native = build_with(c, request_.op, request_.body, &unsupported);
  if (!unsupported) {
    if (native) pass_native_headers(native->headers);
    return native;
  }
  translation_ = request_.translator->for_attempt();
  return build_with(c, APX_OP_CHAT_COMPLETIONS, *request_.chat_body, nullptr);
}

void ProxiedRequest::pass_native_headers(Headers& headers) const {
  // The client's own (anthropic-version, say) win over the adapter's defaults.
  for (const auto& client_header : request_.native_headers) {
    std::erase_if(headers, [&](const auto& h) { return iequals(h.first, client_header.first); });
    headers.push_back(client_header);
  }
}

Result<UpstreamRequest> ProxiedRequest::build_with(const Candidate& c, apx_operation op, const RequestBody& body,
                                                   bool* unsupported) {
  const ProviderAdapter& adapter = *c.provider->adapter;
  std::string text = body.for_model(c.upstream->model_id);
  call_op_ = op;
  // Only an adapter that transforms its answers reads the call again later.
  if (adapter.transforms_answers()) call_body_ = text;
  else call_body_.clear();
  return adapter.build_request(UpstreamCall{op, c.upstream->model_id, {}, request_.stream, key_}, std::move(text),
                               unsupported);
}

UpstreamCall ProxiedRequest::call() const {
  return UpstreamCall{call_op_, current().upstream->model_id, call_body_, request_.stream, key_};
}

Status ProxiedRequest::shape_answer(UpstreamAnswer& answer, std::optional<TokenUsage>& usage) {
  const ProviderAdapter& adapter = *current().provider->adapter;
  if (adapter.transforms_answers()) {
    auto transformed = adapter.transform_answer(call(), answer.status, answer.body);
    if (!transformed) return Error{transformed.error()};
    if (*transformed) {
      answer.body = std::move(**transformed);
      answer.content_type = "application/json";
    }
  }
  if (answer.status >= 200 && answer.status < 300) usage = find_usage(answer.body);
  if (translation_) {
    auto translated = translation_->answer(answer.status, answer.body);
    answer.status = translated.status;
    answer.body = std::move(translated.body);
    answer.content_type = "application/json";
  }
  return ok_status();
}

Result<std::string_view> ProxiedRequest::shape_stream(std::string_view piece) {
  if (adapter_stream_) {
    adapter_out_.clear();
    if (auto fed = adapter_stream_->feed(piece, adapter_out_); !fed) return Error{fed.error()};
    piece = adapter_out_;
  }
  auto events = framer_.next(piece);
  if (!events) return Error{"an event exceeds " + std::to_string(kMaxSseEventBytes) + " bytes"};
  std::string_view relayed = usage_tap_.pass(*events);
  if (!translation_ || relayed.empty()) return relayed;
  client_out_.clear();
  translation_->stream(relayed, client_out_);
  return std::string_view(client_out_);
}

Result<std::string_view> ProxiedRequest::shape_stream_end() {
  std::string owed;
  if (adapter_stream_) {
    adapter_out_.clear();
    if (auto finished = adapter_stream_->finish(adapter_out_); !finished) return Error{finished.error()};
    auto events = framer_.next(adapter_out_);
    if (!events) return Error{"an event exceeds " + std::to_string(kMaxSseEventBytes) + " bytes"};
    owed = usage_tap_.pass(*events);
  }
  owed += usage_tap_.pass(framer_.finish());
  if (!translation_) {
    client_out_ = std::move(owed);
    return std::string_view(client_out_);
  }
  client_out_.clear();
  if (!owed.empty()) translation_->stream(owed, client_out_);
  translation_->finish(client_out_);
  return std::string_view(client_out_);
}

void ProxiedRequest::fail_attempt(const std::string& why, Nudge nudge, double latency_ms, std::string_view outcome) {
  const Candidate& c = current();
  attempts_.push_back({candidate_label(c), why});
  count_attempt(outcome);
  shared_.metrics.end(model_->logical_id, c.upstream->provider_id, Observation{latency_ms, false});
  shared_.weights.nudge(model_->logical_id, c.upstream->provider_id, nudge);
  spdlog::debug("request {}: attempt on {} failed: {}", request_.request_id, candidate_label(c), why);
  try_next();
}

void ProxiedRequest::on_head(Result<std::shared_ptr<UpstreamExchange>> started) {
  if (stop_if_client_gone(true)) return;
  if (!started) {
    if (keys_) record_key(0, nullptr);
    return fail_attempt(started.error(), Nudge::RetryableFailure, elapsed_ms(), telemetry::outcome::kTransportError);
  }
  auto up = std::move(started.value());
  const Candidate& c = current();
  int status = up->status();
  if (keys_ && rotate_key(*up, status, record_key(status, up.get()))) return;
  Outcome outcome = c.provider->adapter->classify(status, {});
  if (outcome == Outcome::Retryable) {
    shared_.cooldowns.cool(c.upstream->provider_id, c.upstream->model_id,
                           Cooldowns::parse_retry_after(up->header("retry-after")));
    // Read the error body so the connection can be reused, then move on.
    up->read_all(kMaxErrorBody, [self = shared_from_this(), status](Result<std::string>) {
      self->fail_attempt("HTTP " + std::to_string(status), Nudge::RetryableFailure, self->elapsed_ms(),
                         telemetry::outcome::kRetryableStatus);
    });
    return;
  }
  if (outcome == Outcome::Success && request_.stream && is_event_stream(up->header("content-type")))
    return relay_stream(std::move(up));
  relay_whole(std::move(up), outcome == Outcome::Success);
}

void ProxiedRequest::relay_whole(std::shared_ptr<UpstreamExchange> up, bool success) {
  size_t limit = success ? kMaxWholeResponse : kMaxErrorBody * 16;
  UpstreamExchange& exchange = *up;
  exchange.read_all(limit, [self = shared_from_this(), up = std::move(up), success](Result<std::string> body) {
    if (self->stop_if_client_gone(true)) return;
    if (!body) {
      // The answer broke off: nothing was sent to the client yet, so another upstream may try.
      return self->fail_attempt(body.error(), Nudge::RetryableFailure, self->elapsed_ms(),
                                telemetry::outcome::kTransportError);
    }
    UpstreamAnswer answer = relayable_answer(*up, std::move(body.value()));
    answer.from = self->attribution();
    std::optional<TokenUsage> usage;
    if (auto shaped = self->shape_answer(answer, usage); !shaped) {
      // The adapter could not read its upstream's answer: as if the answer broke off.
      return self->fail_attempt(shaped.error(), Nudge::RetryableFailure, self->elapsed_ms(),
                                telemetry::outcome::kAdapterError);
    }
    if (success) {
      auto now = Clock::now();  // one reading for the latency, the metrics and the usage window
      double latency_ms = std::chrono::duration<double, std::milli>(now - self->attempt_started_).count();
      return self->finish_success(
          usage, latency_ms, [self, answer = std::move(answer)]() mutable { self->client_->answer(std::move(answer)); },
          now);
    }
    const Candidate& c = self->current();
    bool fault = provider_fault(answer.status);
    self->count_attempt(telemetry::outcome::kErrorStatus);
    self->shared_.metrics.end(self->model_->logical_id, c.upstream->provider_id, Observation{self->elapsed_ms(), !fault});
    if (fault) self->shared_.weights.nudge(self->model_->logical_id, c.upstream->provider_id, Nudge::FatalFailure);
    self->client_->answer(std::move(answer));
  });
}

template <class Then>
void ProxiedRequest::finish_success(const std::optional<TokenUsage>& usage, double latency_ms, Then then,
                                    Clock::time_point now) {
  const Candidate& c = current();
  const std::string& logical = model_->logical_id;
  count_attempt(telemetry::outcome::kSuccess);
  shared_.metrics.end(logical, c.upstream->provider_id, Observation{latency_ms, true}, now);
  shared_.weights.nudge(logical, c.upstream->provider_id, Nudge::Success);
  account_usage(shared_.telemetry, *client_, logical, c, usage, now);
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("request {}: {} via {} in {:.1f} ms after {} attempt(s); tokens in {} out {}", request_.request_id,
                  request_.model, candidate_label(c), elapsed_ms(), attempts_.size() + 1,
                  usage ? std::to_string(usage->prompt_tokens) : "-",
                  usage ? std::to_string(usage->completion_tokens) : "-");
  }
  if (request_.session_id.empty() || bound_) return then();
  bind_session(std::function<void()>(std::move(then)));
}

void ProxiedRequest::bind_session(std::function<void()> then) {
  bound_ = true;
  const std::string& id = request_.session_id;
  apiproxy::bind_session(*store_, id, model_->logical_id, session_, current(), shared_.limits.stickiness_ttl,
                         [self = shared_from_this(), then = std::move(then)](Result<Session> bound) {
                           if (!bound)
                             spdlog::warn("could not record session '{}': {}", self->request_.session_id, bound.error());
                           then();
                         });
}

void ProxiedRequest::relay_stream(std::shared_ptr<UpstreamExchange> up) {
  usage_tap_ = UsageTap(request_.stream_usage == StreamUsage::Added);
  adapter_stream_ = current().provider->adapter->open_stream(call());
  // Bound before the first byte: a client may send its next message as soon as it sees [DONE].
  if (request_.session_id.empty()) return open_stream(std::move(up));
  bind_session([self = shared_from_this(), up = std::move(up)]() mutable { self->open_stream(std::move(up)); });
}

ProxiedRequest::StreamStep ProxiedRequest::next_step(const Result<std::string_view>& piece,
                                                     const UpstreamExchange& up) {
  if (!piece) return {{}, false, piece.error()};  // a partial event is dropped
  if (piece->empty()) return {{}, true, {}};
  auto relayed = shape_stream(*piece);
  if (!relayed) return {{}, false, relayed.error()};
  return {*relayed, up.body_complete(), {}};
}

void ProxiedRequest::open_stream(std::shared_ptr<UpstreamExchange> up) {
  streaming_ = telemetry::GaugeGuard(shared_.telemetry.in_flight_streams);
  // What came with the upstream's head (usually its first event) goes out with the
  // client's head, in one write. The head never waits for more.
  StreamStep first;
  if (auto piece = up->take_buffered()) first = next_step(*piece, *up);
  int status = up->status();
  client_->start_stream(status, attribution(), first.bytes,
                        [self = shared_from_this(), up = std::move(up), broke = std::move(first.broke),
                         last = first.last](bool ok) mutable {
                          if (!ok) return self->client_gone(*up);
                          if (broke) return self->end_stream_with_error(*broke);
                          if (last) return self->end_stream_at_upstream_end(std::move(up), {});
                          self->pump(std::move(up));
                        });
}

void ProxiedRequest::pump(std::shared_ptr<UpstreamExchange> up) {
  UpstreamExchange& exchange = *up;
  exchange.read([self = shared_from_this(), up = std::move(up)](Result<std::string_view> piece) mutable {
    StreamStep step = self->next_step(piece, *up);
    if (step.broke) return self->end_stream_with_error(*step.broke);
    // The upstream's last piece goes out with the end of the stream, in one write.
    if (step.last) return self->end_stream_at_upstream_end(std::move(up), step.bytes);
    if (step.bytes.empty()) return self->pump(std::move(up));  // no event has ended yet, or it was cut
    self->client_->stream_write(step.bytes, [self, up = std::move(up)](bool ok) mutable {
      if (!ok) return self->client_gone(*up);
      self->pump(std::move(up));
    });
  });
}

void ProxiedRequest::end_stream_at_upstream_end(std::shared_ptr<UpstreamExchange> up, std::string_view relayed) {
  // `relayed` may be in the buffers the end reuses: it is copied first.
  if (!relayed.empty()) stream_tail_.assign(relayed);
  // Usually nothing is owed. When something is: the upstream ended without the blank line
  // that ends its last event (a client's SSE parser would drop that event, so it gets its
  // end), or a transform or translation closes its stream.
  auto owed = shape_stream_end();
  if (!owed) {
    if (relayed.empty()) return end_stream_with_error(owed.error());
    return client_->stream_write(stream_tail_, [self = shared_from_this(), up, why = owed.error()](bool ok) {
      if (ok) self->end_stream_with_error(why);
    });
  }
  std::string_view last = relayed.empty() ? *owed : std::string_view(stream_tail_.append(*owed));
  double ttfb = static_cast<double>(up->time_to_first_byte().count());
  // `last` lives in this request's buffers or the upstream's: both stay until it is written.
  finish_success(usage_tap_.usage(), ttfb, [self = shared_from_this(), up = std::move(up), last] {
    self->client_->end_stream(last, [self, up](bool) {});
  });
}

void ProxiedRequest::client_gone(UpstreamExchange& up) {
  up.cancel();  // stop reading, free the upstream connection
  count_attempt(telemetry::outcome::kClientClosed);
  shared_.metrics.abandon(model_->logical_id, current().upstream->provider_id);
}

void ProxiedRequest::end_stream_with_error(const std::string& why) {
  // Bytes already reached the client, so there is no failing over: it is told in-band.
  const Candidate& c = current();
  count_attempt(telemetry::outcome::kStreamError);
  shared_.metrics.end(model_->logical_id, c.upstream->provider_id, Observation{elapsed_ms(), false});
  shared_.weights.nudge(model_->logical_id, c.upstream->provider_id, Nudge::RetryableFailure);
  spdlog::warn("request {}: stream from {} broke off: {}", request_.request_id, candidate_label(c), why);
  client_->end_stream_with_error("the upstream stream broke off: " + why);
}

void ProxiedRequest::all_failed() {
  client_->note_number("attempts", static_cast<long long>(attempts_.size()));
  if (attempts_.empty() && rate_limited_for_.count() > 0) {
    shared_.telemetry.record_rate_limited(model_->logical_id);
    auto seconds = std::max<long long>(1, (rate_limited_for_.count() + 999) / 1000);
    Refusal r{RefusalKind::RateLimited, "every upstream of '" + request_.model + "' is at its MAX_QPS limit; retry in " +
                                            std::to_string(seconds) + " s"};
    r.retry_after = std::chrono::seconds(seconds);
    return client_->refuse(r);
  }
  if (attempts_.empty())
    return client_->refuse({RefusalKind::NoUpstream, "no upstream of '" + request_.model + "' is available"});
  std::string tried;
  for (const auto& a : attempts_) tried += (tried.empty() ? "" : "; ") + a.label + ": " + a.outcome;
  if (rate_limited_for_.count() > 0) tried += "; the remaining upstreams are at their MAX_QPS limit";
  client_->refuse({RefusalKind::AttemptsFailed,
                   "all " + std::to_string(attempts_.size()) + " attempt(s) failed: " + tried});
}

}  // namespace apiproxy
