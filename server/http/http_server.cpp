#include "server/http/http_server.hpp"

#include <bit>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace apiproxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Executor = asio::io_context::executor_type;

constexpr std::chrono::milliseconds kHangupWatchDelay{200};

class HttpServer::Acceptor : public std::enable_shared_from_this<Acceptor> {
 public:
  Acceptor(asio::io_context& io, const HttpRouter& router, const ServerLimits& limits,
           ConnectionSet& connections, std::shared_ptr<ConnectionLimit> limit)
      : io_(io),
        acceptor_(io.get_executor()),
        retry_(io.get_executor()),
        tick_(io.get_executor()),
        router_(router),
        limits_(limits),
        connections_(connections),
        limit_(std::move(limit)) {}

  boost::system::error_code bind(const tcp::endpoint& ep) {
    boost::system::error_code ec;
    acceptor_.open(ep.protocol(), ec);
    if (ec) return ec;
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    int one = 1;
    ::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    acceptor_.bind(ep, ec);
    if (ec) return ec;
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    return ec;
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // Every tick, connections past their deadline close, and requests that have waited a
  // tick for their answer start watching for their client hanging up: a request answered
  // within a tick never pays for that watch.
  void tick() {
    tick_.expires_after(kHangupWatchDelay);
    tick_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || !self->acceptor_.is_open()) return;
      auto now = std::chrono::steady_clock::now();
      self->connections_.tick(now, now - kHangupWatchDelay);
      self->tick();
    });
  }

  void accept() {
    acceptor_.async_accept(io_, [self = shared_from_this()](const boost::system::error_code& ec,
                                                            tcp::socket::rebind_executor<Executor>::other socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
      if (ec) return self->back_off(ec);
      self->admit(std::move(socket));
      self->accept();
    });
  }
  void stop() {
    asio::post(io_, [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_.cancel();
      self->tick_.cancel();
    });
  }

 private:
  // Over APIPROXY_MAX_CONNECTIONS the connection is closed at once: a client that is refused
  // learns it immediately, instead of waiting in the backlog.
  void admit(tcp::socket::rebind_executor<Executor>::other socket) {
    if (auto slot = limit_->try_take()) {
      std::make_shared<ClientConnection>(std::move(socket), router_, limits_, connections_, std::move(*slot))->start();
      return;
    }
    if (std::has_single_bit(++refused_))  // the 1st, 2nd, 4th... refusal: a log, not a flood
      spdlog::warn("connection limit reached ({} open, APIPROXY_MAX_CONNECTIONS): {} connection(s) refused so far",
                   limit_->open(), refused_);
    boost::system::error_code ignored;
    socket.close(ignored);
  }

  // Out of file descriptors or memory: accepting again at once would fail again at once (a
  // busy loop). Wait, then try again; connections that end meanwhile free what is needed.
  void back_off(const boost::system::error_code& ec) {
    if (std::has_single_bit(++accept_errors_))
      spdlog::warn("accept failed: {} ({} time(s) so far); retrying in 100 ms", ec.message(), accept_errors_);
    retry_.expires_after(std::chrono::milliseconds(100));
    retry_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && self->acceptor_.is_open()) self->accept();
    });
  }

  asio::io_context& io_;
  asio::basic_socket_acceptor<tcp, Executor> acceptor_;
  using Timer = asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>;
  Timer retry_;
  Timer tick_;
  const HttpRouter& router_;
  const ServerLimits& limits_;
  ConnectionSet& connections_;
  std::shared_ptr<ConnectionLimit> limit_;
  uint64_t refused_ = 0;
  uint64_t accept_errors_ = 0;
};

HttpServer::~HttpServer() = default;

Result<uint16_t> HttpServer::listen(const std::vector<ListenerSlot>& slots, const std::string& host,
                                    uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    // A name such as "localhost": resolve it once, at start-up.
    asio::io_context tmp;
    tcp::resolver resolver(tmp);
    auto results = resolver.resolve(host, "", ec);
    if (ec || results.empty()) return Error{"cannot resolve APIPROXY_HOST '" + host + "'"};
    address = results.begin()->endpoint().address();
  }
  for (const auto& slot : slots) {
    auto acceptor = std::make_shared<Acceptor>(*slot.io, *slot.router, limits_, *slot.connections, connection_limit_);
    if (auto err = acceptor->bind(tcp::endpoint(address, port)))
      return Error{"cannot listen on " + host + ":" + std::to_string(port) + ": " + err.message()};
    port = acceptor->port();  // port 0: the rest share the one the first got
    acceptors_.push_back(std::move(acceptor));
  }
  for (auto& a : acceptors_) {
    a->accept();
    a->tick();
  }
  return port;
}

void HttpServer::stop_accepting() {
  for (auto& a : acceptors_) a->stop();
}

}  // namespace apiproxy
