// One client connection: reads requests (HTTP/1.1 keep-alive, body and header limits,
// timeouts), hands each to its route, writes the answer, then reads the next one.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "server/http/connection_set.hpp"
#include "server/http/exchange.hpp"
#include "server/http/http_router.hpp"

namespace apiproxy {

struct ServerLimits {
  size_t max_body_bytes = 10 * 1024 * 1024;
  // The request line and headers; also what a connection may hold unparsed at any time
  // (a chunk header with its extensions, trailers), so no byte sequence grows memory.
  size_t max_header_bytes = 64 * 1024;
  size_t max_connections = 10000;  // open client connections, whole process
  std::chrono::seconds header_timeout{30};
  std::chrono::seconds idle_timeout{75};
};

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  using Executor = boost::asio::io_context::executor_type;
  using Socket = boost::asio::ip::tcp::socket::rebind_executor<Executor>::other;
  using Clock = std::chrono::steady_clock;

  ClientConnection(Socket socket,
                   const HttpRouter& router, const ServerLimits& limits, ConnectionSet& set,
                   ConnectionLimit::Slot slot);
  ~ClientConnection();
  void start();
  // Shutting down: closes the connection if it is waiting for a request that has not
  // begun to arrive; a connection in the middle of a request is left to finish it.
  void close_if_idle();

  // Called by Exchange: writes the answer to the current request, with Content-Length
  // `content_length` (the body's size, or what a GET would get for HEAD) and the
  // Connection field that `keep_alive` calls for, in HTTP/`version` (10 or 11).
  void write(Exchange::Answer answer, size_t content_length, unsigned version, bool keep_alive);
  // Called by Exchange for a streamed answer: the head (chunked) with the first chunk when
  // `first` is not empty, then chunks, then the end. `done(false)` means the client is gone.
  // One write at a time.
  void write_stream_head(Exchange::Answer head, unsigned version, bool keep_alive, std::string_view first,
                         std::function<void(bool)> done);
  void write_chunk(std::string_view data, std::function<void(bool)> done);
  // `last` (may be empty) as a chunk, then the end of the body, in one write.
  void write_last_chunk(std::string_view last, bool keep_alive, std::function<void(bool)> done);
  // Called by Exchange: give up on the connection (a stream that cannot be finished).
  void abort();
  // Called by Exchange: `f` runs once if the client hangs up (or half-closes) before the
  // answer starts, so the work done for it can stop. Noticed once the request has waited
  // for its answer since `busy_since` (see watch_if_waiting_since).
  void on_hangup(std::function<void()> f) { on_hangup_ = std::move(f); }
  // Called every so often by the worker: a request that has waited for its answer since
  // `cutoff` or longer starts watching its socket for a hang-up. Quick answers never pay
  // for the watch (it costs a system call).
  void watch_if_waiting_since(Clock::time_point cutoff);
  // Called every so often by the worker: a connection past its deadline (reading a request,
  // writing an answer, idle between requests) is closed. Client timeouts are seconds long,
  // so checking them on the worker's tick costs nothing per request, where a timer armed
  // at every read and write would cost a timer update, and often a system call.
  void close_if_past_deadline(Clock::time_point now);

 private:
  void read_header();
  void on_header(const boost::system::error_code& ec);
  void read_body();
  void on_request(const boost::system::error_code& ec);
  void dispatch(Exchange::Request request, bool keep_alive);
  void reject(boost::beast::http::status status, std::string_view message);
  // Puts the head of `answer` in out_ and its body in body_.
  void prepare_answer(Exchange::Answer answer, size_t content_length, unsigned version, bool keep_alive);
  // out_ = the status line and the answer's fields; end_head adds Connection (if needed) and
  // the blank line.
  void start_head(const Exchange::Answer& answer, unsigned version);
  void end_head(unsigned version, bool keep_alive);
  // Writes out_, then `data` as one chunk (nothing more when empty), then the end of the
  // body when `last`; then done(ok) (and, when `last`, reads the next request or closes).
  void send_chunk(std::string_view data, std::function<void(bool)> done, bool last = false, bool keep_alive = false);
  // Writes out_ and body_ (one gather write), then reads the next request unless `close_after`.
  void send_response(bool close_after, std::chrono::steady_clock::duration timeout);
  void on_written(const boost::system::error_code& ec, bool close);
  void close();
  // While a handler works on a request, notice the client hanging up (see on_hangup).
  void watch_for_hangup();
  void on_readable(const boost::system::error_code& ec);
  void stop_watching();

  // The coarse clock (a few ms of resolution, far cheaper to read): deadlines are seconds
  // long and checked on a 200 ms tick.
  static Clock::time_point coarse_now();
  void expires_after(Clock::duration d) { deadline_ = coarse_now() + d; }
  void expires_never() { deadline_ = Clock::time_point::max(); }

  Socket socket_;
  Clock::time_point deadline_ = Clock::time_point::max();
  const HttpRouter& router_;
  const ServerLimits& limits_;
  ConnectionSet& set_;
  bool waiting_for_request_ = false;
  boost::beast::flat_buffer buffer_;
  std::optional<HttpRequestParser> parser_;
  std::string body_;  // the body of the answer being written
  std::string out_;  // the head (or a chunk's size line) being written; reused, so it keeps its capacity
  bool first_request_ = true;
  bool watching_ = false;
  bool waiting_for_answer_ = false;  // a handler has the request and has not answered yet
  Clock::time_point dispatched_at_;
  std::function<void()> on_hangup_;
  ConnectionLimit::Slot slot_;
};

}  // namespace apiproxy
