#include "server/http/client_connection.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <ctime>
#include <random>

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "core/common/http_head.hpp"
#include "core/common/http_read.hpp"
#include "core/common/identifiers.hpp"
#include "server/http/error_body.hpp"

namespace apiproxy {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

namespace {

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  uint64_t a = rng(), b = rng();
  std::string id(32, '0');
  for (int i = 0; i < 16; ++i) {
    id[i] = hex[(a >> (i * 4)) & 15];
    id[16 + i] = hex[(b >> (i * 4)) & 15];
  }
  return id;
}

// A client's own X-Request-Id is kept when it is short and printable, so logs can be
// joined across systems; anything else is replaced.
std::string request_id_for(const Exchange::Request& req) {
  std::string_view given = req["X-Request-Id"];
  if (!given.empty() && is_valid_token(given, kMaxRequestIdBytes)) return std::string(given);
  return new_request_id();
}

// Path parameters are percent-decoded client text that reaches store keys, logs and answers.
bool valid_params(const PathParams& params) {
  for (const auto& [name, value] : params)
    if (!is_valid_model_name(value)) return false;
  return true;
}

}  // namespace

ClientConnection::ClientConnection(Socket socket,
                                   const HttpRouter& router, const ServerLimits& limits,
                                   ConnectionSet& set, ConnectionLimit::Slot slot)
    : socket_(std::move(socket)),
      router_(router),
      limits_(limits),
      set_(set),
      buffer_(limits.max_header_bytes),
      slot_(std::move(slot)) {}

ClientConnection::~ClientConnection() { set_.remove(this); }

void ClientConnection::close_if_idle() {
  if (waiting_for_request_ && buffer_.size() == 0) close();
}

void ClientConnection::start() {
  set_.add(this);
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  read_header();
}

void ClientConnection::read_header() {
  parser_.emplace();
  parser_->body_limit(limits_.max_body_bytes);
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  expires_after(first_request_ ? limits_.header_timeout : limits_.idle_timeout);
  waiting_for_request_ = true;
  async_http_read(socket_, buffer_, *parser_, ReadUntil::Head,
                  [self = shared_from_this()](const boost::system::error_code& ec) { self->on_header(ec); });
}

void ClientConnection::on_header(const boost::system::error_code& ec) {
  waiting_for_request_ = false;
  if (ec) return on_request(ec);
  first_request_ = false;
  auto& req = parser_->get();
  // RFC 9112 6.3: a request whose last transfer coding is not chunked has no reliable end.
  if (req.has("Transfer-Encoding") && !parser_->chunked())
    return reject(http::status::bad_request, "Transfer-Encoding must end with 'chunked'");
  expires_after(limits_.header_timeout);
  // curl and others wait for this before sending a large body.
  if (beast::iequals(req[http::field::expect], "100-continue")) {
    auto cont = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
    asio::async_write(socket_, asio::buffer(*cont),
                      [self = shared_from_this(), cont](const boost::system::error_code& ec, size_t) {
                        if (ec) return self->close();
                        self->read_body();
                      });
    return;
  }
  read_body();
}

void ClientConnection::read_body() {
  // A body that arrived with its head (the usual case) is parsed at once: no read and no
  // event-loop turn. Whatever is still missing is read below.
  if (buffer_.size() > 0 && !parser_->is_done()) {
    boost::system::error_code ec;
    buffer_.consume(parser_->put(buffer_.data(), ec));
    if (ec && ec != http::error::need_more) return on_request(ec);
  }
  if (parser_->is_done()) return on_request({});
  async_http_read(socket_, buffer_, *parser_, ReadUntil::Message,
                  [self = shared_from_this()](const boost::system::error_code& ec) { self->on_request(ec); });
}

void ClientConnection::on_request(const boost::system::error_code& ec) {
  if (ec == http::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
    return close();  // gone, or idle or too slow (the deadline closed the socket): just hang up
  if (ec == http::error::body_limit)
    return reject(http::status::payload_too_large,
                  "request body exceeds the limit of " + std::to_string(limits_.max_body_bytes) +
                      " bytes (APIPROXY_MAX_BODY_BYTES)");
  if (ec == http::error::header_limit || (ec == http::error::buffer_overflow && !parser_->is_header_done()))
    return reject(http::status::request_header_fields_too_large,
                  "request headers exceed " + std::to_string(limits_.max_header_bytes) +
                      " bytes (APIPROXY_MAX_HEADER_BYTES)");
  if (ec == http::error::buffer_overflow)
    return reject(http::status::bad_request, "a chunk header or trailer exceeds " +
                                                 std::to_string(limits_.max_header_bytes) +
                                                 " bytes (APIPROXY_MAX_HEADER_BYTES)");
  if (ec) return reject(http::status::bad_request, "malformed HTTP request: " + ec.message());
  expires_never();  // the handler may wait on upstreams for a long time
  bool keep_alive = parser_->keep_alive();
  dispatch(parser_->release(), keep_alive);
}

void ClientConnection::dispatch(Exchange::Request request, bool keep_alive) {
  std::string id = request_id_for(request);
  auto match = router_.match(request.method(), request.target().substr(0, request.target().find('?')));
  auto exchange = std::make_shared<Exchange>(shared_from_this(), std::move(request), std::move(id), keep_alive);
  if (!match.handler) {
    if (match.path_known) {
      Exchange::Response res{http::status::method_not_allowed, exchange->request().version()};
      res.set(http::field::allow, match.allowed);
      res.set(http::field::content_type, "application/json");
      res.body() = error_body_for(exchange->path(), http::status::method_not_allowed,
                                  std::string(exchange->request().method_string()) +
                                      " is not allowed here; allowed: " + match.allowed);
      return exchange->respond(std::move(res));
    }
    return exchange->respond_error(http::status::not_found,
                                   "no route for " + std::string(exchange->path()));
  }
  if (!valid_params(match.params))
    return exchange->respond_error(http::status::bad_request,
                                   "a path segment must be 1 to 256 printable ASCII characters");
  exchange->set_params(std::move(match.params));
  try {
    (*match.handler)(exchange);
  } catch (const std::exception& e) {
    spdlog::error("handler for {} threw: {}", exchange->path(), e.what());
    exchange->respond_error(http::status::internal_server_error, "internal error");
  }
  if (!exchange->responded()) {
    waiting_for_answer_ = true;
    dispatched_at_ = coarse_now();
  }
}

void ClientConnection::watch_if_waiting_since(Clock::time_point cutoff) {
  if (waiting_for_answer_ && !watching_ && on_hangup_ && dispatched_at_ <= cutoff) watch_for_hangup();
}

ClientConnection::Clock::time_point ClientConnection::coarse_now() {
  // CLOCK_MONOTONIC_COARSE runs on steady_clock's timeline (CLOCK_MONOTONIC), at tick resolution.
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return Clock::time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

void ClientConnection::close_if_past_deadline(Clock::time_point now) {
  // Pending reads and writes complete as aborted, and each of those paths closes.
  if (deadline_ <= now) close();
}

void ClientConnection::watch_for_hangup() {
  watching_ = true;
  socket_.async_wait(asio::socket_base::wait_read,
                              [self = shared_from_this()](const boost::system::error_code& ec) {
                                self->on_readable(ec);
                              });
}

void ClientConnection::on_readable(const boost::system::error_code& ec) {
  if (!watching_ || ec == asio::error::operation_aborted) return;
  char byte;
  ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !ec) return watch_for_hangup();  // spurious
  watching_ = false;
  if (n > 0) {  // a pipelined request: it waits in the socket for its turn
    waiting_for_answer_ = false;
    return;
  }
  // End of stream or an error: nobody is left to answer.
  if (on_hangup_) std::exchange(on_hangup_, nullptr)();
}

void ClientConnection::stop_watching() {
  on_hangup_ = nullptr;
  waiting_for_answer_ = false;
  if (!watching_) return;
  watching_ = false;
  boost::system::error_code ignored;
  socket_.cancel(ignored);  // nothing else is pending while a handler works
}

void ClientConnection::reject(http::status status, std::string_view message) {
  // The request could not be read whole: answer, then close the connection.
  std::string path;
  // The target is known once the start line is parsed, even when the header is refused
  // (a Content-Length over the limit fails before the header counts as done).
  if (parser_) {
    std::string_view t = parser_->get().target();
    path = std::string(t.substr(0, t.find('?')));
  }
  Exchange::Answer answer{static_cast<unsigned>(status), {}, error_body_for(path, status, message)};
  answer.add("Content-Type", "application/json");
  size_t length = answer.body.size();
  prepare_answer(std::move(answer), length, 11, /*keep_alive=*/false);
  send_response(/*close_after=*/true, std::chrono::seconds(5));
}

void ClientConnection::write(Exchange::Answer answer, size_t content_length, unsigned version, bool keep_alive) {
  stop_watching();
  if (set_.draining()) keep_alive = false;  // tells the client to reconnect elsewhere
  prepare_answer(std::move(answer), content_length, version, keep_alive);
  send_response(!keep_alive, limits_.idle_timeout);
}

void ClientConnection::prepare_answer(Exchange::Answer answer, size_t content_length, unsigned version,
                                      bool keep_alive) {
  auto status = http::int_to_status(answer.status);
  start_head(answer, version);
  // 1xx, 204 and 304 answers have no body and say nothing of its length (RFC 9110 8.6).
  bool bodiless = http::to_status_class(status) == http::status_class::informational ||
                  status == http::status::no_content || status == http::status::not_modified;
  if (bodiless) {
    answer.body.clear();
  } else {
    out_.append("Content-Length: ", 16);
    append_number(out_, content_length);
    out_.append("\r\n", 2);
  }
  end_head(version, keep_alive);
  body_ = std::move(answer.body);
}

void ClientConnection::start_head(const Exchange::Answer& answer, unsigned version) {
  out_.clear();
  append_status_line(out_, static_cast<int>(version), answer.status,
                     http::obsolete_reason(http::int_to_status(answer.status)));
  out_.append(answer.fields);
}

void ClientConnection::end_head(unsigned version, bool keep_alive) {
  // HTTP/1.1 keeps the connection unless told; HTTP/1.0 closes it unless told.
  if (version >= 11 && !keep_alive) out_.append("Connection: close\r\n");
  if (version < 11 && keep_alive) out_.append("Connection: keep-alive\r\n");
  out_.append("\r\n", 2);
}

void ClientConnection::send_response(bool close_after, std::chrono::steady_clock::duration timeout) {
  std::array<asio::const_buffer, 2> message{asio::buffer(out_), asio::buffer(body_)};
  expires_after(timeout);
  asio::async_write(socket_, message,
                    [self = shared_from_this(), close_after](const boost::system::error_code& ec, size_t) {
                      self->on_written(ec, close_after);
                    });
}

void ClientConnection::on_written(const boost::system::error_code& ec, bool close_after) {
  if (ec || close_after || set_.draining()) return close();
  read_header();
}

void ClientConnection::write_stream_head(Exchange::Answer head, unsigned version, bool keep_alive,
                                         std::string_view first, std::function<void(bool)> done) {
  stop_watching();
  if (set_.draining()) keep_alive = false;
  start_head(head, version);
  out_.append("Transfer-Encoding: chunked\r\n");
  end_head(version, keep_alive);
  send_chunk(first, std::move(done));
}

void ClientConnection::write_chunk(std::string_view data, std::function<void(bool)> done) {
  if (data.empty()) return done(true);  // an empty chunk would end the body
  out_.clear();
  send_chunk(data, std::move(done));
}

void ClientConnection::send_chunk(std::string_view data, std::function<void(bool)> done, bool last, bool keep_alive) {
  if (!data.empty()) {
    append_number(out_, data.size(), 16);
    out_.append("\r\n", 2);
  }
  std::array<asio::const_buffer, 4> chunk{asio::buffer(out_), asio::buffer(data),
                                          asio::buffer("\r\n", data.empty() ? 0 : 2),
                                          asio::buffer("0\r\n\r\n", last ? 5 : 0)};
  expires_after(limits_.idle_timeout);
  asio::async_write(socket_, chunk,
                    [self = shared_from_this(), done = std::move(done), last, keep_alive](
                        const boost::system::error_code& ec, size_t) {
                      if (!last) {
                        if (ec) self->close();
                        return done(!ec);
                      }
                      done(!ec);
                      self->on_written(ec, !keep_alive);
                    });
}

void ClientConnection::write_last_chunk(std::string_view last, bool keep_alive, std::function<void(bool)> done) {
  out_.clear();
  send_chunk(last, std::move(done), /*last=*/true, keep_alive);
}

void ClientConnection::abort() { close(); }

void ClientConnection::close() {
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  expires_never();
  socket_.close(ignored);
}

}  // namespace apiproxy
