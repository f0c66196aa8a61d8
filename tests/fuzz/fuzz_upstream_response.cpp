// Fuzzes how the gateway reads an upstream's answer: status line, headers, interim 1xx
// answers, Content-Length / chunked / close-delimited bodies, SSE streams. The real
// UpstreamExchange runs over a real ConnectionPool against a fake upstream in this process
// (a loopback TCP server on the same io_context) that reads each request and answers it
// with the input bytes.
//
// Input: one mode byte, then the answer. Mode bits:
//   1  keep-alive: the fake upstream keeps the connection open after answering, and a
//      second exchange follows on the same pool (reusing the connection when the pool
//      judges it reusable); the upstream answers it with the same bytes
//   2  read the body with read_all(limit) instead of read() piece by piece
//   4  send a POST with a JSON body instead of a GET
//   8  (piece by piece) cancel the exchange after the first piece
//   high nibble n: read_all's limit is 16 << n bytes
//
// An input ends when both exchanges are done, or after 1 s. When nothing happens for a
// millisecond while the client still waits, the fake upstream hangs up on the connections
// it has answered (what a real one eventually does: the data it sent still arrives before
// the close); if nothing happens for 50 ms after that, the exchange is cancelled.
//
// Checks besides the sanitizers: a response handed to the caller is a final one (200..599),
// read_all never returns more than its limit, and with keep-alive both exchanges read the
// same answer — a reused connection must not hand over bytes left from the previous answer.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/telemetry/logging.hpp"
#include "core/upstream/connection_pool.hpp"
#include "core/upstream/tls_context.hpp"
#include "core/upstream/upstream_exchange.hpp"
#include "tests/fuzz/support/loopback.hpp"
#include "tests/fuzz/support/run_loop.hpp"
#include "tests/fuzz/support/skip_checks.hpp"

namespace {

using namespace apiproxy;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Executor = asio::io_context::executor_type;
using Socket = tcp::socket::rebind_executor<Executor>::other;
using namespace std::chrono_literals;

constexpr auto kInputBound = 1000ms;
constexpr auto kQuietPeriod = 1ms;   // no handler ran for this long: the exchange waits for bytes
constexpr auto kStallBeforeCancel = 50ms;  // nothing at all happened for this long
constexpr auto kCleanupBound = 2000ms;

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_upstream_response: %s\n", what);
  __builtin_trap();
}

struct Mode {
  bool keep_alive, read_all, post, cancel_early;
  size_t limit;

  explicit Mode(uint8_t b)
      : keep_alive(b & 1), read_all(b & 2), post(b & 4), cancel_early(b & 8), limit(size_t{16} << (b >> 4)) {}
};

// The fake upstream of one input: answers every request it reads with the same bytes. It
// listens on an address of its own (support/loopback.hpp says why).
class FakeUpstream {
 public:
  FakeUpstream(asio::io_context& io, std::string_view answer, bool keep_alive)
      : acceptor_(io.get_executor(), tcp::endpoint(fuzz::next_loopback_address(1), 0)),
        answer_(answer),
        keep_alive_(keep_alive) {
    accept();
  }

  // Where the client sends its requests.
  std::string url() const {
    auto at = acceptor_.local_endpoint();
    return "http://" + at.address().to_string() + ":" + std::to_string(at.port()) + "/v1/chat/completions";
  }
  // Hangs up every connection that has answered and waits for the client; false when
  // there was none.
  bool hang_up() {
    bool any = false;
    for (auto& c : connections_)
      if (c->answered()) any = c->close() || any;
    return any;
  }
  // After an input: stops listening and closes everything (run the loop afterwards, so
  // that the cancelled operations complete before this object goes).
  void end() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& c : connections_) c->close();
    connections_.clear();
  }

 private:
  class Connection : public std::enable_shared_from_this<Connection> {
   public:
    Connection(Socket socket, const FakeUpstream& owner) : socket_(std::move(socket)), owner_(owner) {}

    void read_request() {
      request_.emplace();
      http::async_read(socket_, buffer_, *request_,
                       [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                         if (ec) return (void)self->close();
                         self->answer();
                       });
    }
    bool answered() const { return answered_ > 0; }
    bool close() {
      if (!socket_.is_open()) return false;
      boost::system::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      socket_.close(ignored);
      return true;
    }

   private:
    void answer() {
      ++answered_;
      asio::async_write(socket_, asio::buffer(owner_.answer_.data(), owner_.answer_.size()),
                        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                          if (ec) return (void)self->close();
                          // Keep-alive: one more request on this connection, then hang up.
                          if (self->owner_.keep_alive_ && self->answered_ < 2) return self->read_request();
                          boost::system::error_code ignored;
                          self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                          self->read_request();  // until the client closes: a clean FIN, no reset
                        });
    }

    Socket socket_;
    const FakeUpstream& owner_;
    boost::beast::flat_buffer buffer_;
    std::optional<http::request<http::string_body>> request_;
    int answered_ = 0;
  };

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, Socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        connections_.push_back(std::make_shared<Connection>(std::move(socket), *this));
        connections_.back()->read_request();
      }
      accept();
    });
  }

  asio::basic_socket_acceptor<tcp, Executor> acceptor_;
  std::string_view answer_;
  bool keep_alive_ = false;
  std::vector<std::shared_ptr<Connection>> connections_;
};

// What one exchange saw.
struct Outcome {
  bool complete = false;  // a final response whose body was read to its end
  int status = 0;
  std::string body;
};

// One input's client side: one or two exchanges on a pool of its own.
class Client {
 public:
  Client(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls, const Mode& mode, std::string url)
      : io_(io), mode_(mode), pool_(io, std::move(tls), pool_options()), url_(std::move(url)) {}

  void start() { start_exchange(); }
  bool finished() const { return outcomes_.size() == (mode_.keep_alive ? 2u : 1u); }
  const std::vector<Outcome>& outcomes() const { return outcomes_; }
  // Gives up on the exchange in progress; false when there is none.
  bool cancel() {
    if (!exchange_) return false;
    exchange_->cancel();
    return true;
  }
  // The input is over: cancel what runs, start nothing more.
  void stop() {
    stopping_ = true;
    cancel();
  }
  // No exchange runs or is about to: the client (and its pool) may go.
  bool idle() const { return !exchange_ && !start_posted_; }

 private:
  static PoolOptions pool_options() {
    PoolOptions o;
    o.connect_timeout = 500ms;
    return o;
  }
  static ExchangeTimeouts timeouts() { return {0ms, 1000ms, 1000ms, 2000ms}; }

  UpstreamRequest request() const {
    UpstreamRequest r;
    r.url = url_;
    r.headers = {{"Authorization", "Bearer fuzz"}};
    if (mode_.post) {
      r.method = "POST";
      r.headers.emplace_back("Content-Type", "application/json");
      r.body = R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]})";
    }
    return r;
  }

  void start_exchange() {
    outcome_ = Outcome{};
    exchange_ = UpstreamExchange::start(pool_, request(), timeouts(),
                                        [this](Result<std::shared_ptr<UpstreamExchange>> started) {
                                          if (!started) return finish();
                                          on_head(*started.value());
                                        });
  }

  void on_head(UpstreamExchange& ex) {
    outcome_.status = ex.status();
    // Interim answers (1xx) are not the response; RFC 9110 defines no status outside 100..599.
    // FUZZ_SKIP_CHECKS=odd_status (support/skip_checks.hpp) lets statuses outside 100..599 by.
    bool final_status = outcome_.status >= 200 && outcome_.status <= 599;
    bool interim = outcome_.status >= 100 && outcome_.status <= 199;
    if (!final_status && (interim || !fuzz::check_skipped("odd_status")))
      finding("a status outside 200..599 was handed on as the final response");
    if (mode_.read_all) {
      ex.read_all(mode_.limit, [this](Result<std::string> body) {
        if (body && body->size() > mode_.limit) finding("read_all returned more than its limit");
        if (body) {
          outcome_.body = std::move(*body);
          outcome_.complete = true;
        }
        finish();
      });
      return;
    }
    read_piece(ex);
  }

  void read_piece(UpstreamExchange& ex) {
    ex.read([this, &ex](Result<std::string_view> piece) {
      if (!piece) return finish();
      if (piece->empty()) {
        outcome_.complete = true;
        return finish();
      }
      outcome_.body.append(*piece);
      if (mode_.cancel_early) {
        ex.cancel();
        return finish();
      }
      read_piece(ex);
    });
  }

  // The exchange is done with. It goes back to (or is dropped by) the pool once its last
  // handler returns, so the next exchange starts from a fresh handler.
  void finish() {
    outcomes_.push_back(std::move(outcome_));
    exchange_.reset();
    if (finished() || stopping_) return;
    start_posted_ = true;
    asio::post(io_, [this] {
      start_posted_ = false;
      if (!stopping_) start_exchange();
    });
  }

  asio::io_context& io_;
  Mode mode_;
  ConnectionPool pool_;
  std::string url_;
  std::shared_ptr<UpstreamExchange> exchange_;
  Outcome outcome_;
  std::vector<Outcome> outcomes_;
  bool stopping_ = false;
  bool start_posted_ = false;
};

struct Harness {
  asio::io_context io{1};
  // Made once: loading the system's CA certificates is slow. Plain http never uses it.
  std::shared_ptr<asio::ssl::context> tls = make_tls_context(true);
};

Harness& harness() {
  static Harness h;
  return h;
}

// Runs until the client is done, nudging it along when it waits for bytes that will not
// come: first the upstream hangs up, then the exchange is cancelled.
void drive(asio::io_context& io, FakeUpstream& upstream, Client& client) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + kInputBound;
  auto last_progress = Clock::now();
  while (!client.finished() && Clock::now() < deadline) {
    if (io.stopped()) io.restart();
    if (io.run_one_for(kQuietPeriod) > 0 || upstream.hang_up()) {
      last_progress = Clock::now();
      continue;
    }
    // Still nothing long after the upstream hung up (a connect or a name lookup may take a
    // moment, but not this long): the exchange is given up.
    if (Clock::now() - last_progress > kStallBeforeCancel) {
      client.cancel();
      last_progress = Clock::now();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  telemetry::configure_logging("off", false);
  harness();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Harness& h = harness();
  Mode mode(data[0]);
  FakeUpstream upstream(h.io, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1),
                        mode.keep_alive);
  {
    Client client(h.io, h.tls, mode, upstream.url());
    client.start();
    drive(h.io, upstream, client);
    client.stop();
    upstream.end();
    // The exchange's handlers (a connect or name lookup in flight too) end before its pool.
    if (!fuzz::run_until(h.io, [&] { return client.idle(); }, kCleanupBound))
      finding("a cancelled exchange did not complete within 2 s");
    fuzz::drain_ready(h.io);

    const auto& out = client.outcomes();
    if (out.size() == 2 && out[0].complete && out[1].complete &&
        (out[1].status != out[0].status || out[1].body != out[0].body))
      finding("the second exchange read another answer than the first from the same bytes");
  }
  fuzz::drain_ready(h.io);
  return 0;
}
