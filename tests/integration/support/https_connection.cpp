#include "https_connection.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace it {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

struct HttpsConnection::Impl {
  asio::io_context io{1};
  ssl::context tls{ssl::context::tls_client};
  beast::ssl_stream<beast::tcp_stream> stream{io, tls};
  beast::flat_buffer buffer;
  uint16_t port;
  std::chrono::milliseconds timeout;

  // Runs what was started until it completes; the stream's deadline bounds it.
  void run() {
    io.restart();
    io.run();
  }
};

HttpsConnection::HttpsConnection(uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->timeout = timeout;
  impl_->tls.set_verify_mode(ssl::verify_none);
  auto& s = impl_->stream;
  auto& tcp_layer = beast::get_lowest_layer(s);
  tcp_layer.expires_after(timeout);
  error_code ec;
  tcp_layer.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [&](error_code e) {
    ec = e;
    if (!e) s.async_handshake(ssl::stream_base::client, [&](error_code he) { ec = he; });
  });
  impl_->run();
  if (ec) throw std::runtime_error("HTTPS connection to 127.0.0.1:" + std::to_string(port) + " failed: " + ec.message());
}

HttpsConnection::~HttpsConnection() = default;

Response HttpsConnection::request(std::string_view method, std::string_view target, std::string_view body) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "localhost:" + std::to_string(impl_->port));
  if (!body.empty() || method == "POST") {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
    req.prepare_payload();
  }
  http::response<http::string_body> res;
  error_code ec;
  auto& s = impl_->stream;
  beast::get_lowest_layer(s).expires_after(impl_->timeout);
  http::async_write(s, req, [&](error_code we, std::size_t) {
    ec = we;
    if (!we) http::async_read(s, impl_->buffer, res, [&](error_code re, std::size_t) { ec = re; });
  });
  impl_->run();

  Response out;
  if (ec) {
    out.error = ec.message();
    return out;
  }
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[name] = std::string(f.value());
  }
  out.body = std::move(res.body());
  return out;
}

}  // namespace it
