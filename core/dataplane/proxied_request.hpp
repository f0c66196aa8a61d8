// One request going through the data plane: route, then try upstreams in the router's order
// until one answers — relaying its answer, streamed or whole — or every attempt failed.
// Lives as long as its callbacks hold it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dataplane/data_plane.hpp"
#include "core/dataplane/sse_framer.hpp"
#include "core/dataplane/usage_tap.hpp"
#include "core/telemetry/gauge.hpp"

namespace apiproxy {

class ProxiedRequest : public std::enable_shared_from_this<ProxiedRequest> {
 public:
  ProxiedRequest(const DataPlane& plane, ProxyRequest request, std::shared_ptr<ClientChannel> client);
  void run();

 private:
  struct Attempt {
    std::string label;  // provider/model
    std::string outcome;
  };

  void route(std::optional<Session> session);
  void try_next();
  void attempt();
  // Picks the key of the current candidate's pool for the next call (admitting it under the
  // key's own MAX_QPS), then sends; with no usable key, moves on to the next candidate.
  void pick_key();
  void send();
  // The request for the current candidate: in the client's API when its adapter speaks it,
  // else translated to chat completions (translation_ is then set for the answer).
  Result<UpstreamRequest> build_call(const Candidate& c);
  Result<UpstreamRequest> build_with(const Candidate& c, apx_operation op, const RequestBody& body,
                                     bool* unsupported);
  // Adds the client's headers for an upstream that speaks the client's API.
  void pass_native_headers(Headers& headers) const;
  // The call as the adapter built it, for its answer transforms.
  UpstreamCall call() const;
  // An answer turned into the client's format: the adapter's transform (ABI 1.3), then the
  // client API's translation. Sets `usage` from the chat-format answer. An error when the
  // adapter failed.
  Status shape_answer(UpstreamAnswer& answer, std::optional<TokenUsage>& usage);
  // Stream bytes from the upstream through the adapter's transform, the framer, the usage
  // tap and the client API's translation: what the client gets now (valid until the next
  // call), or an error.
  Result<std::string_view> shape_stream(std::string_view piece);
  // The same at the upstream's end: everything still owed.
  Result<std::string_view> shape_stream_end();
  // After a key was refused (401/403) or rate-limited (429): true when the request goes on
  // with another key of the same provider (the answer's body is drained first).
  bool rotate_key(UpstreamExchange& up, int status, std::optional<KeyOutcome> outcome);
  // What the answer (status 0 and no `up`: none came) says about the key, recorded in its
  // pool; nullopt when it says nothing.
  std::optional<KeyOutcome> record_key(int status, const UpstreamExchange* up);
  void on_head(Result<std::shared_ptr<UpstreamExchange>> started);
  void fail_attempt(const std::string& why, Nudge nudge, double latency_ms, std::string_view outcome);
  void count_attempt(std::string_view outcome);
  void relay_whole(std::shared_ptr<UpstreamExchange> up, bool success);
  void relay_stream(std::shared_ptr<UpstreamExchange> up);
  // What one piece of the upstream's body (or its failure) means for the client: bytes to
  // send now (valid until the next piece is shaped), whether the stream ends with them, or
  // why it broke off.
  struct StreamStep {
    std::string_view bytes;
    bool last = false;
    std::optional<std::string> broke;
  };
  StreamStep next_step(const Result<std::string_view>& piece, const UpstreamExchange& up);
  // The client's head, with whatever of the stream is already here, then the pump.
  void open_stream(std::shared_ptr<UpstreamExchange> up);
  void pump(std::shared_ptr<UpstreamExchange> up);
  // The upstream's body ended; `relayed` is its last piece, shaped (may be empty). Records
  // the success, then sends it, whatever is still owed and the end, in one write.
  void end_stream_at_upstream_end(std::shared_ptr<UpstreamExchange> up, std::string_view relayed);
  // The client went away mid-stream: the upstream is cancelled and the attempt counted.
  void client_gone(UpstreamExchange& up);
  void on_client_hangup();
  // After a hang-up: counts the attempt in flight (if any) as the client's doing, tells the
  // channel, and returns true; otherwise false.
  bool stop_if_client_gone(bool attempt_in_flight);
  void end_stream_with_error(const std::string& why);
  // latency_ms: what routing learns from — the whole wait for a JSON answer, the time to
  // the first byte for a stream (a long stream is not a slow upstream). Records the
  // success, binds the conversation (if any), then runs `then` — so the binding is stored
  // before the client can send its next message. `usage`: what the upstream reported.
  // `then` runs at once when nothing is to be bound (no allocation for it), else after.
  // `now`: when the answer was complete (the latency's end).
  template <class Then>
  void finish_success(const std::optional<TokenUsage>& usage, double latency_ms, Then then,
                      std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  void all_failed();
  void bind_session(std::function<void()> then);
  Attribution attribution() const;
  const Candidate& current() const { return order_[current_]; }
  double elapsed_ms() const;

  const DataPlaneShared& shared_;
  std::shared_ptr<Store> store_;  // the worker's: shared, so the request never outlives it
  ConnectionPool& pool_;
  ProxyRequest request_;
  std::shared_ptr<ClientChannel> client_;
  // The plugins this request started on: its candidates and adapters live in it, so a
  // reload cannot unload them before the request ends.
  PluginGenerationPtr plugins_;
  std::shared_ptr<const LogicalModel> model_;
  std::optional<Session> session_;
  std::vector<Candidate> order_;
  size_t next_ = 0;     // the next candidate to consider
  size_t current_ = 0;  // the candidate of the attempt in flight
  KeyPool* keys_ = nullptr;          // the current candidate's provider's key pool
  size_t key_ = 0;                   // the key of the attempt in flight
  std::vector<uint16_t> keys_tried_;  // keys of the current candidate that failed this request
  std::vector<uint16_t> key_order_;
  std::vector<Attempt> attempts_;
  std::chrono::steady_clock::time_point attempt_started_;
  bool bound_ = false;  // this request's conversation binding is written
  std::chrono::milliseconds rate_limited_for_{0};  // every remaining candidate was at MAX_QPS
  UsageTap usage_tap_;  // reads a stream's usage; cuts the usage event the gateway asked for
  telemetry::GaugeGuard streaming_;  // apiproxy_in_flight_streams once a stream is relayed
  bool client_hung_up_ = false;
  std::shared_ptr<UpstreamExchange> upstream_;  // the attempt in flight, to cancel on a hang-up
  SseFramer framer_;
  // The attempt's formats: what the adapter was asked for and with which body (kept only for
  // an adapter with answer transforms), and the client API's translation when the request
  // went up as chat completions.
  apx_operation call_op_ = APX_OP_CHAT_COMPLETIONS;
  std::string call_body_;
  std::unique_ptr<ClientTranslation> translation_;
  std::unique_ptr<AdapterStream> adapter_stream_;
  std::string adapter_out_;  // the adapter's transformed stream bytes
  std::string client_out_;   // the translated stream bytes
  std::string stream_tail_;  // the upstream's last piece and what the end owes
};

}  // namespace apiproxy
