#include "core/upstream/upstream_connection.hpp"

#include "core/common/http_read.hpp"
#include "core/upstream/deadline.hpp"

#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace apiproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Executor = asio::io_context::executor_type;
using TcpStream = tcp::socket::rebind_executor<Executor>::other;
using TlsStream = beast::ssl_stream<TcpStream>;

namespace {

TcpStream& lowest(TcpStream& s) { return s; }
TcpStream& lowest(TlsStream& s) { return s.next_layer(); }

// Operations cut short by the deadline complete as beast::error::timeout, so callers tell
// a timeout from a failure the same way for plain and TLS connections.
template <class Stream>
class ConnectionOver final : public UpstreamConnection {
 public:
  template <class... Args>
  ConnectionOver(std::string origin, Executor ex, Args&&... args)
      : UpstreamConnection(std::move(origin)),
        stream_(ex, std::forward<Args>(args)...),
        deadline_(ex, [this] { close(); }) {}

  Stream& stream() { return stream_; }

  void write(std::array<asio::const_buffer, 2> request, Done done) override {
    asio::async_write(stream_, request, completion(std::move(done)));
  }
  void read_header(UpstreamParser& parser, Done done) override {
    async_http_read(stream_, buffer_, parser, ReadUntil::Head, completion(std::move(done)));
  }
  void read_some(UpstreamParser& parser, Done done) override {
    async_http_read(stream_, buffer_, parser, ReadUntil::Some, completion(std::move(done)));
  }
  void expires_at(std::chrono::steady_clock::time_point t) override { deadline_.expires_at(t); }
  void expires_never() override { deadline_.expires_never(); }
  void close() override {
    boost::system::error_code ignored;
    lowest_socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest_socket().close(ignored);
  }
  bool is_open() const override {
    return const_cast<ConnectionOver*>(this)->lowest_socket().is_open();
  }
  bool quiet() override {
    if (!is_open()) return false;
    char byte;
    ssize_t n = ::recv(lowest_socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  // Why a connect or handshake failed: the deadline, or what the operation said.
  boost::system::error_code outcome(const boost::system::error_code& ec) const {
    return ec && deadline_.expired() ? boost::system::error_code(beast::error::timeout) : ec;
  }

 private:
  auto completion(Done done) {
    return [this, done = std::move(done)](const boost::system::error_code& ec, size_t = 0) { done(outcome(ec)); };
  }
  TcpStream& lowest_socket() { return lowest(stream_); }
  Stream stream_;
  Deadline deadline_;
};

// Why the certificate was refused ("certificate has expired", "unable to get local issuer
// certificate", "Hostname mismatch"...), as " (...)", or empty when verification was not
// what failed.
std::string verify_failure(TlsStream& stream) {
  long result = SSL_get_verify_result(stream.native_handle());
  if (result == X509_V_OK) return "";
  return std::string(" (") + X509_verify_cert_error_string(result) + ")";
}

}  // namespace

void connect_upstream(asio::io_context& io, asio::ssl::context& tls, const Url& url,
                      std::chrono::milliseconds timeout,
                      std::function<void(Result<std::unique_ptr<UpstreamConnection>>)> done) {
  using Conn = std::unique_ptr<UpstreamConnection>;
  auto resolver = std::make_shared<tcp::resolver::rebind_executor<Executor>::other>(io.get_executor());
  auto shared_done = std::make_shared<decltype(done)>(std::move(done));
  resolver->async_resolve(url.host, url.port, [&io, &tls, url, timeout, resolver, shared_done](
                                                  const boost::system::error_code& ec,
                                                  tcp::resolver::results_type results) {
    auto& done = *shared_done;
    if (ec) return done(Error{"cannot resolve " + url.host + ": " + ec.message()});
    auto connected = [url, shared_done](auto conn, const boost::system::error_code& ec) {
      auto& done = *shared_done;
      if (ec) return done(Error{"cannot connect to " + url.origin() + ": " + describe_network_error(conn->outcome(ec))});
      boost::system::error_code ignored;
      lowest(conn->stream()).set_option(tcp::no_delay(true), ignored);
      done(Conn(std::move(conn)));
    };
    if (!url.tls()) {
      auto conn = std::make_unique<ConnectionOver<TcpStream>>(url.origin(), io.get_executor());
      auto* raw = conn.get();
      raw->expires_after(timeout);
      asio::async_connect(lowest(raw->stream()), results, [conn = std::move(conn), connected](auto ec, auto) mutable {
        connected(std::move(conn), ec);
      });
      return;
    }
    auto conn = std::make_unique<ConnectionOver<TlsStream>>(url.origin(), io.get_executor(), tls);
    auto* raw = conn.get();
    raw->expires_after(timeout);
    // SNI names a host; an address is never sent as one (RFC 6066, section 3).
    boost::system::error_code not_an_address;
    asio::ip::make_address(url.host, not_an_address);
    if (not_an_address && !SSL_set_tlsext_host_name(raw->stream().native_handle(), url.host.c_str()))
      return done(Error{"TLS setup (SNI) failed for " + url.host});
    raw->stream().set_verify_callback([check = asio::ssl::host_name_verification(url.host)](
                                          bool preverified, asio::ssl::verify_context& ctx) mutable {
      bool ok = check(preverified, ctx);
      // Record why, so the error can say it (Asio's check leaves the result "ok").
      if (preverified && !ok) X509_STORE_CTX_set_error(ctx.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
      return ok;
    });
    asio::async_connect(lowest(raw->stream()), results, [conn = std::move(conn), connected, url, shared_done](
                                                            auto ec, auto) mutable {
      if (ec) return connected(std::move(conn), ec);
      auto* raw = conn.get();
      raw->stream().async_handshake(asio::ssl::stream_base::client,
                                    [conn = std::move(conn), connected, url, shared_done](auto ec) mutable {
                                      if (ec)
                                        return (*shared_done)(Error{"TLS handshake with " + url.origin() +
                                                                    " failed: " + describe_network_error(conn->outcome(ec)) +
                                                                    verify_failure(conn->stream())});
                                      connected(std::move(conn), ec);
                                    });
    });
  });
}

std::string describe_network_error(const boost::system::error_code& ec) {
  return ec == beast::error::timeout ? "timed out" : ec.message();
}

}  // namespace apiproxy
