#include "core/upstream/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/common/url.hpp"

namespace apiproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Executor = asio::io_context::executor_type;
using TcpStream = beast::basic_stream<tcp, Executor>;
using TlsStream = beast::ssl_stream<TcpStream>;
using Clock = std::chrono::steady_clock;

std::shared_ptr<asio::ssl::context> make_tls_context(bool verify_peer) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  boost::system::error_code ignored;
  ctx->set_default_verify_paths(ignored);
  ctx->set_verify_mode(verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none);
  return ctx;
}

namespace {

TcpStream& lowest(TcpStream& s) { return s; }
TcpStream& lowest(TlsStream& s) { return beast::get_lowest_layer(s); }

// One request/response exchange over a fresh connection.
template <class Stream>
class Exchange : public std::enable_shared_from_this<Exchange<Stream>> {
 public:
  template <class... StreamArgs>
  Exchange(asio::io_context& io, Url url, UpstreamRequest req, Clock::time_point deadline,
           HttpClientOptions options, HttpClient::Callback done, StreamArgs&&... stream_args)
      : resolver_(io.get_executor()),
        stream_(std::forward<StreamArgs>(stream_args)...),
        url_(std::move(url)),
        deadline_(deadline),
        options_(options),
        done_(std::move(done)),
        started_(Clock::now()) {
    request_.method_string(req.method);
    request_.target(url_.target);
    request_.version(11);
    request_.set(http::field::host, url_.host_header());
    request_.set(http::field::user_agent, "apiproxy/" APIPROXY_VERSION);
    for (auto& [k, v] : req.headers) request_.set(k, v);
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
      request_.body() = std::move(req.body);
      request_.prepare_payload();
    }
    parser_.body_limit(options_.max_response_bytes);
  }

  void start() {
    lowest(stream_).expires_at(std::min(deadline_, Clock::now() + options_.connect_timeout));
    resolver_.async_resolve(url_.host, url_.port,
                            [self = this->shared_from_this()](auto ec, auto results) {
                              self->on_resolved(ec, results);
                            });
  }

 private:
  void on_resolved(const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
    if (ec) return fail("cannot resolve " + url_.host, ec);
    lowest(stream_).async_connect(results, [self = this->shared_from_this()](auto ec, auto) {
      self->on_connected(ec);
    });
  }

  void on_connected(const boost::system::error_code& ec) {
    if (ec) return fail("cannot connect to " + url_.origin(), ec);
    lowest(stream_).socket().set_option(tcp::no_delay(true));
    lowest(stream_).expires_at(deadline_);
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      if (!SSL_set_tlsext_host_name(stream_.native_handle(), url_.host.c_str()))
        return fail("TLS SNI setup failed", {});
      stream_.set_verify_callback(asio::ssl::host_name_verification(url_.host));
      stream_.async_handshake(asio::ssl::stream_base::client,
                              [self = this->shared_from_this()](auto ec) {
                                if (ec) return self->fail("TLS handshake with " + self->url_.origin() + " failed", ec);
                                self->write();
                              });
    } else {
      write();
    }
  }

  void write() {
    http::async_write(stream_, request_, [self = this->shared_from_this()](auto ec, size_t) {
      if (ec) return self->fail("sending the request to " + self->url_.origin() + " failed", ec);
      self->read();
    });
  }

  void read() {
    http::async_read(stream_, buffer_, parser_, [self = this->shared_from_this()](auto ec, size_t) {
      if (ec) return self->fail("reading the response from " + self->url_.origin() + " failed", ec);
      self->finish();
    });
  }

  void finish() {
    auto& msg = parser_.get();
    UpstreamResponse out;
    out.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(msg.body());
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_);
    boost::system::error_code ignored;
    lowest(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest(stream_).close();
    done_(std::move(out));
  }

  void fail(const std::string& what, const boost::system::error_code& ec) {
    std::string reason = ec == beast::error::timeout ? "timed out" : ec.message();
    lowest(stream_).close();
    done_(Error{what + (reason.empty() ? "" : ": " + reason)});
  }

  tcp::resolver::template rebind_executor<Executor>::other resolver_;
  Stream stream_;
  Url url_;
  Clock::time_point deadline_;
  HttpClientOptions options_;
  HttpClient::Callback done_;
  Clock::time_point started_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
};

}  // namespace

HttpClient::HttpClient(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
                       HttpClientOptions options)
    : io_(io), tls_(std::move(tls)), options_(options) {}

void HttpClient::send(UpstreamRequest request, std::chrono::milliseconds deadline, Callback done) {
  auto url = parse_url(request.url);
  if (!url) {
    asio::post(io_, [done = std::move(done), u = request.url] {
      done(Error{"not an http(s) URL: " + u});
    });
    return;
  }
  auto until = Clock::now() + deadline;
  if (url->tls()) {
    std::make_shared<Exchange<TlsStream>>(io_, *url, std::move(request), until, options_,
                                          std::move(done), io_.get_executor(), *tls_)
        ->start();
  } else {
    std::make_shared<Exchange<TcpStream>>(io_, *url, std::move(request), until, options_,
                                          std::move(done), io_.get_executor())
        ->start();
  }
}

}  // namespace apiproxy
