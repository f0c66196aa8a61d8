#include "core/upstream/upstream_exchange.hpp"

#include <limits>
#include <unordered_map>
#include <utility>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include "core/common/http_head.hpp"

namespace apiproxy {

namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kMaxInterimResponses = 8;

// The server closed a kept-alive connection before our request reached it.
bool stale_connection(const boost::system::error_code& ec) {
  namespace e = boost::asio::error;
  return ec == http::error::end_of_stream || ec == e::eof || ec == e::connection_reset ||
         ec == e::broken_pipe || ec == http::error::partial_message;
}

// Upstream URLs repeat (an adapter joins a configured base URL and an endpoint path), and
// parsing one costs more than finding it again, so each thread keeps those it has parsed.
// Bounded: past kMaxParsedUrls it starts over; exchanges in flight keep their own.
constexpr size_t kMaxParsedUrls = 256;

std::shared_ptr<const Url> parsed_url(const std::string& text) {
  thread_local std::unordered_map<std::string, std::shared_ptr<const Url>> parsed;
  if (auto it = parsed.find(text); it != parsed.end()) return it->second;
  auto url = parse_url(text);
  if (!url) return nullptr;
  if (parsed.size() >= kMaxParsedUrls) parsed.clear();
  return parsed.emplace(text, std::make_shared<const Url>(std::move(*url))).first->second;
}

}  // namespace

UpstreamExchange::UpstreamExchange(Key, ConnectionPool& pool, std::shared_ptr<const Url> url, UpstreamRequest request,
                                   ExchangeTimeouts t)
    : pool_(pool), url_(std::move(url)), timeouts_(t), body_(std::move(request.body)) {
  write_head(request);
  reset_parser();
}

void UpstreamExchange::write_head(const UpstreamRequest& request) {
  head_.reserve(256);
  head_.append(request.method).append(" ", 1).append(url_->target).append(" HTTP/1.1\r\n", 11);
  bool host = false, agent = false;
  for (const auto& [name, value] : request.headers) {
    // The body's framing is the gateway's own; a line break would inject a header.
    if (beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
        !safe_field_text(name) || !safe_field_text(value))
      continue;
    host = host || beast::iequals(name, "host");
    agent = agent || beast::iequals(name, "user-agent");
    append_field(head_, name, value);
  }
  if (!host) append_field(head_, "Host", url_->host_header());
  if (!agent) append_field(head_, "User-Agent", "apiproxy/" APIPROXY_VERSION);
  if (!body_.empty() || request.method == "POST" || request.method == "PUT") {
    head_.append("Content-Length: ", 16);
    append_number(head_, body_.size());
    head_.append("\r\n", 2);
  }
  head_.append("\r\n", 2);
}

void UpstreamExchange::reset_parser() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(UpstreamConnection::kMaxHeaderBytes));
  // No limit for streams (read_all enforces its own). Not boost::none: Boost 1.74 compares
  // Content-Length against the optional, and every length is "greater" than none.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
}

UpstreamExchange::~UpstreamExchange() {
  if (!conn_) return;
  // Only a connection whose response was read exactly to its end can carry the next request.
  if (!cancelled_ && parser_->is_done() && parser_->keep_alive() && !conn_->has_unread_bytes())
    pool_.release(std::move(conn_));
  else
    pool_.discard(std::move(conn_));
}

std::shared_ptr<UpstreamExchange> UpstreamExchange::start(ConnectionPool& pool, UpstreamRequest request,
                                                          ExchangeTimeouts timeouts, Started done,
                                                          Clock::time_point now) {
  auto url = parsed_url(request.url);
  if (!url) {
    done(Error{"not an http(s) URL: " + request.url});
    return nullptr;
  }
  auto ex = std::make_shared<UpstreamExchange>(Key{}, pool, std::move(url), std::move(request), timeouts);
  ex->deadline_ = now + timeouts.total;
  ex->send(/*fresh=*/false, std::move(done), now);
  return ex;
}

void UpstreamExchange::expire_within(std::chrono::milliseconds step, Clock::time_point now) {
  conn_->expires_at(std::min(now + step, deadline_));
}

std::string UpstreamExchange::timeout_reason(std::string_view step) const {
  if (Clock::now() >= deadline_)
    return "the call to " + url_->origin() + " exceeded its total deadline of " +
           std::to_string(timeouts_.total.count()) + " ms";
  return std::string(step);
}

void UpstreamExchange::send(bool fresh, Started done, Clock::time_point now) {
  auto self = shared_from_this();
  sent_at_ = now;
  pool_.acquire(*url_, fresh, [self, done = std::move(done)](ConnectionPool::Acquired conn) mutable {
    if (!conn) return done(Error{conn.error()});
    if (self->cancelled_) {
      self->pool_.release(std::move(conn.value()));
      return done(Error{"cancelled"});
    }
    self->conn_ = std::move(conn.value());
    // A new connection took a while to open: the wait for the first byte starts after it.
    if (!self->conn_->reused) self->sent_at_ = Clock::now();
    // Written at the end of this turn of the event loop, not at once: the requests of
    // clients that became readable together are all parsed and routed first, then sent back
    // to back. Each write wakes the upstream; one that shares a core with the gateway (a
    // local model server, a sidecar, the benchmark's mock) would otherwise be switched to
    // after every request, and the gateway's work would never be batched (docs/benchmarks.md).
    boost::asio::post(self->pool_.io(), [self, done = std::move(done)]() mutable {
      self->write_request(std::move(done));
    });
  }, now, timeouts_.connect);
}

void UpstreamExchange::write_request(Started done) {
  if (cancelled_) return done(Error{"cancelled"});  // the destructor discards the connection
  expire_within(timeouts_.first_byte, sent_at_);
  auto self = shared_from_this();
  conn_->write({boost::asio::buffer(head_), boost::asio::buffer(body_)}, [self, done = std::move(done)](const auto& ec) mutable {
    if (ec) return self->on_head(ec, std::move(done));
    self->read_head(std::move(done));
  });
}

void UpstreamExchange::read_head(Started done) {
  auto self = shared_from_this();
  conn_->read_header(*parser_, [self, done = std::move(done)](const auto& ec) mutable {
    self->on_head(ec, std::move(done));
  });
}

void UpstreamExchange::on_head(const boost::system::error_code& ec, Started done) {
  if (ec) {
    bool reused = conn_ && conn_->reused;
    pool_.discard(std::move(conn_));
    if (reused && !retried_ && !cancelled_ && stale_connection(ec)) {
      retried_ = true;
      reset_parser();
      return send(/*fresh=*/true, std::move(done), Clock::now());
    }
    if (cancelled_) return done(Error{"cancelled"});
    if (ec == beast::error::timeout)
      return done(Error{timeout_reason("no response from " + url_->origin() + " before the first-byte timeout")});
    return done(Error{"request to " + url_->origin() + " failed: " + describe_network_error(ec)});
  }
  int status = this->status();
  if (status < 100 || status > 599) {
    pool_.discard(std::move(conn_));
    return done(Error{"the upstream " + url_->origin() + " answered with the invalid status " + std::to_string(status)});
  }
  if (status >= 100 && status < 200) {
    // 100 Continue, 103 Early Hints...: not the answer. 101 would switch protocols, which
    // was never asked for; endless interim answers are a broken upstream.
    if (status == 101 || ++interim_responses_ > kMaxInterimResponses) {
      pool_.discard(std::move(conn_));
      return done(Error{"the upstream " + url_->origin() + " answered " + std::to_string(status) +
                        (status == 101 ? " (protocol switch)" : " too many times") + " instead of a response"});
    }
    reset_parser();
    return read_head(std::move(done));
  }
  ttfb_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent_at_);
  done(shared_from_this());
}

std::string_view UpstreamExchange::header(std::string_view name) const { return parser_->field(name); }

std::optional<Result<std::string_view>> UpstreamExchange::take_buffered() {
  if (cancelled_ || !conn_) return Error{"cancelled"};
  if (parser_->is_done()) return std::string_view();
  auto& chunk = conn_->chunk();
  parser_->set_body_window(chunk.data(), chunk.size());
  // Eager: one put goes through a chunk's header into its data, and on through the chunks
  // that follow until the window is full, so framing alone never costs a turn.
  parser_->eager(true);
  boost::system::error_code ec;
  if (conn_->parse_buffered(*parser_, ec)) {
    // need_more: the bytes after the last whole piece are the start of another (a chunk's
    // closing CRLF, say); need_buffer: the window is full.
    if (ec && ec != http::error::need_more && ec != http::error::need_buffer) return Error{read_failure(ec)};
    if (size_t got = chunk_filled(); got > 0 || parser_->is_done()) return std::string_view(chunk.data(), got);
  }
  return std::nullopt;
}

void UpstreamExchange::read(std::function<void(Result<std::string_view>)> done) {
  // What arrived with the head (often the whole body) is parsed at once: no read and no
  // event-loop turn. Whatever is still missing is read below, into the rest of the chunk
  // (the parser's body window, which take_buffered set).
  if (auto piece = take_buffered()) return done(std::move(*piece));
  reading_ = true;
  expire_within(timeouts_.idle);
  auto self = shared_from_this();
  conn_->read_some(*parser_, [self, done = std::move(done)](const boost::system::error_code& ec) mutable {
    self->reading_ = false;
    if (self->cancelled_) return done(Error{"cancelled"});
    if (ec && ec != http::error::need_buffer)
      return done(Error{ec == beast::error::timeout
                            ? self->timeout_reason("the upstream stream stalled (idle timeout)")
                            : self->read_failure(ec)});
    size_t got = self->chunk_filled();
    if (got == 0 && !self->parser_->is_done()) return self->read(std::move(done));  // framing only
    done(std::string_view(self->conn_->chunk().data(), got));
  });
}

size_t UpstreamExchange::chunk_filled() const { return conn_->chunk().size() - parser_->body_window_left(); }

std::string UpstreamExchange::read_failure(const boost::system::error_code& ec) const {
  return "reading from " + url_->origin() + " failed: " + describe_network_error(ec);
}

void UpstreamExchange::read_all(size_t limit, std::function<void(Result<std::string>)> done) {
  read_all_limit_ = limit;
  read_all_done_ = std::move(done);
  read_all_step();
}

void UpstreamExchange::read_all_step() {
  // `this` alone: read() keeps the exchange alive while it waits, and a callback that holds
  // only a pointer fits in std::function without an allocation per piece.
  read([this](Result<std::string_view> piece) {
    if (!piece) return std::exchange(read_all_done_, nullptr)(Error{piece.error()});
    if (piece->empty()) return std::exchange(read_all_done_, nullptr)(std::move(read_all_body_));
    if (read_all_body_.size() + piece->size() > read_all_limit_) {
      cancel();
      return std::exchange(read_all_done_, nullptr)(
          Error{"the upstream response exceeds " + std::to_string(read_all_limit_) + " bytes"});
    }
    read_all_body_.append(*piece);
    read_all_step();
  });
}

void UpstreamExchange::cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  if (conn_) conn_->close();  // a pending operation completes with an error
}

}  // namespace apiproxy
