// One request to an upstream over a pooled connection, with the response body read piece
// by piece as the caller asks for it — which is how a stream is relayed without ever
// holding it whole, and how a slow client slows the upstream read (back-pressure).
//
// Timeouts: connecting (pool), the first byte of the response, the gap between two pieces
// of the body, and a total deadline over all of it. A request on a reused connection that
// the server had closed is retried once on a fresh connection, since nothing of it was
// processed. Interim 1xx responses are read and skipped: the caller sees the final one.
//
// A connection goes back to the pool only when its response was read exactly to the end
// (nothing unread, nothing buffered past it) and both sides want to keep it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/upstream/connection_pool.hpp"
#include "core/upstream/http_types.hpp"

namespace apiproxy {

struct ExchangeTimeouts {
  std::chrono::milliseconds connect{0};  // 0: the pool's own
  std::chrono::milliseconds first_byte{60000};
  std::chrono::milliseconds idle{60000};    // between body pieces
  std::chrono::milliseconds total{600000};  // from sending to the last byte
};

class UpstreamExchange : public std::enable_shared_from_this<UpstreamExchange> {
 public:
  using Started = std::function<void(Result<std::shared_ptr<UpstreamExchange>>)>;

  // Sends `request` and completes once the final response head has arrived (or failed
  // before it). The exchange is returned at once, so the caller can cancel() it meanwhile.
  // `now`: the caller's reading of the clock, if it has one; the total deadline runs from it.
  static std::shared_ptr<UpstreamExchange> start(ConnectionPool& pool, UpstreamRequest request,
                                                 ExchangeTimeouts timeouts, Started done,
                                                 std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  ~UpstreamExchange();

  int status() const { return parser_->status(); }
  // The response's header fields, in order; valid while the exchange lives.
  const FlatFields& fields() const { return parser_->fields(); }
  // The first field named `name` ("" when absent); valid while the exchange lives.
  std::string_view header(std::string_view name) const;
  std::chrono::milliseconds time_to_first_byte() const { return ttfb_; }
  // The whole body has been read (the last piece handed out was the last).
  bool body_complete() const { return parser_->is_done(); }

  // The next piece of the body; an empty piece means the body is complete. One read at a
  // time; the view is valid until the next read.
  void read(std::function<void(Result<std::string_view>)> done);
  // The next piece if it can be had without waiting (its bytes came with the head, say),
  // else nullopt; the same rules and lifetime as read()'s.
  std::optional<Result<std::string_view>> take_buffered();
  // The rest of the body, up to `limit` bytes.
  void read_all(size_t limit, std::function<void(Result<std::string>)> done);
  // Abandons the exchange: the connection is closed, a pending read fails.
  void cancel();

 private:
  // Only start() makes one (the key is private), in one allocation with its shared count.
  struct Key {};
 public:
  UpstreamExchange(Key, ConnectionPool& pool, std::shared_ptr<const Url> url, UpstreamRequest request,
                   ExchangeTimeouts t);

 private:
  void write_head(const UpstreamRequest& request);
  void send(bool fresh, Started done, std::chrono::steady_clock::time_point now);
  void write_request(Started done);
  void read_head(Started done);
  void on_head(const boost::system::error_code& ec, Started done);
  // Sets the connection's deadline to `step` from now, or to the total deadline if sooner.
  void expire_within(std::chrono::milliseconds step,
                     std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  std::string timeout_reason(std::string_view step) const;
  std::string read_failure(const boost::system::error_code& ec) const;
  // How much of the connection's chunk the parser has filled with body bytes.
  size_t chunk_filled() const;
  void reset_parser();
  void read_all_step();

  ConnectionPool& pool_;
  std::shared_ptr<const Url> url_;  // shared with the thread's parsed URLs
  ExchangeTimeouts timeouts_;
  std::string head_;  // the request line and headers, written once, sent again on a retry
  std::string body_;
  std::unique_ptr<UpstreamConnection> conn_;
  std::optional<UpstreamParser> parser_;  // re-made for a retry on a fresh connection
  bool retried_ = false;
  int interim_responses_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  bool cancelled_ = false;
  bool reading_ = false;
  std::chrono::steady_clock::time_point sent_at_;
  std::chrono::milliseconds ttfb_{0};
  // read_all's progress.
  size_t read_all_limit_ = 0;
  std::string read_all_body_;
  std::function<void(Result<std::string>)> read_all_done_;
};

}  // namespace apiproxy
