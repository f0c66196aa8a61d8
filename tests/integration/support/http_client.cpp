#include "http_client.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace it {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string Response::header(std::string name) const {
  auto it = headers.find(lower(std::move(name)));
  return it == headers.end() ? std::string() : it->second;
}

std::string Response::dump() const {
  std::ostringstream s;
  s << "HTTP " << status;
  if (!error.empty()) s << " (transport error: " << error << ")";
  s << "\n";
  for (const auto& [k, v] : headers) s << k << ": " << v << "\n";
  s << "\n" << body;
  return s.str();
}

struct HttpConnection::Impl {
  asio::io_context io{1};
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  uint16_t port;
  std::chrono::milliseconds timeout;
  bool open = false;
  std::string connect_error;

  Impl(uint16_t p, std::chrono::milliseconds t) : port(p), timeout(t) {
    beast::error_code ec;
    stream.expires_after(timeout);
    stream.async_connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port),
                         [&](beast::error_code e) { ec = e; });
    io.run();
    if (ec) {
      connect_error = "connect: " + ec.message();
      return;
    }
    open = true;
  }
};

HttpConnection::HttpConnection(uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(port, timeout)) {}

HttpConnection::~HttpConnection() {
  beast::error_code ignored;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  impl_->stream.close();
}

bool HttpConnection::is_open() const { return impl_->open; }

uint16_t HttpConnection::local_port() const {
  beast::error_code ec;
  auto ep = impl_->stream.socket().local_endpoint(ec);
  return ec ? 0 : ep.port();
}

Response HttpConnection::request(std::string_view method, std::string_view target,
                                 const Headers& headers, std::string_view body) {
  Response out;
  auto started = std::chrono::steady_clock::now();
  if (!impl_->open) {
    out.error = impl_->connect_error.empty() ? "connection is closed" : impl_->connect_error;
    return out;
  }
  http::request<http::string_body> req;
  req.version(11);
  http::verb v = http::string_to_verb(method);
  if (v == http::verb::unknown) req.method_string(method);
  else req.method(v);
  req.target(target);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(impl_->port));
  for (const auto& [k, val] : headers) req.insert(k, val);
  if (!body.empty() || v == http::verb::post || v == http::verb::put || v == http::verb::patch) {
    req.body() = std::string(body);
    req.prepare_payload();
  }

  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  beast::error_code ec, write_ec;
  Impl& c = *impl_;
  c.io.restart();
  c.stream.expires_after(c.timeout);
  // A server may answer (413, 400) and close before it has read the whole request: a write
  // error is reported only when no response can be read after it.
  http::async_write(c.stream, req, [&](beast::error_code e, size_t) {
    write_ec = e;
    http::async_read(c.stream, c.buffer, parser, [&](beast::error_code e2, size_t) { ec = e2; });
  });
  c.io.run();
  if (ec && write_ec && ec != beast::error::timeout) ec = write_ec;
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  if (ec) {
    out.error = ec == beast::error::timeout ? "timed out after " + std::to_string(c.timeout.count()) + " ms"
                                            : ec.message();
    c.open = false;
    c.stream.close();
    // A response that arrived whole before the error still counts.
    if (!parser.is_done()) return out;
  }
  auto res = parser.release();
  out.status = res.result_int();
  for (const auto& f : res) {
    std::string name = lower(std::string(f.name_string()));
    auto& slot = out.headers[name];
    slot = slot.empty() ? std::string(f.value()) : slot + ", " + std::string(f.value());
  }
  out.body = std::move(res.body());
  if (!res.keep_alive()) {
    c.open = false;
    beast::error_code ignored;
    c.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    c.stream.close();
  }
  return out;
}

Response HttpClient::request(std::string_view method, std::string_view target, const Headers& headers,
                             std::string_view body) const {
  HttpConnection c(port_, timeout_);
  return c.request(method, target, headers, body);
}

Response HttpClient::put(std::string_view target, std::string_view body, const Headers& headers) const {
  Headers h = headers;
  h.emplace_back("Content-Type", "application/json");
  return request("PUT", target, h, body);
}

Response HttpClient::post(std::string_view target, std::string_view body, const Headers& headers) const {
  Headers h = headers;
  h.emplace_back("Content-Type", "application/json");
  return request("POST", target, h, body);
}

RawSocket::RawSocket(uint16_t port, std::chrono::milliseconds timeout) : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) closed_ = true;
  int one = 1;
  if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawSocket::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void RawSocket::shutdown_send() { ::shutdown(fd_, SHUT_WR); }

bool RawSocket::read_some(std::chrono::steady_clock::time_point deadline) {
  if (closed_) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    timed_out_ = true;
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(left.count()));
  if (r == 0) {
    timed_out_ = true;
    return false;
  }
  if (r < 0) return errno == EINTR;
  char buf[16384];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) {
    closed_ = true;  // orderly close or reset
    return false;
  }
  received_.append(buf, static_cast<size_t>(n));
  return true;
}

std::string RawSocket::read_until(std::string_view needle) {
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (received_.find(needle) == std::string::npos && read_some(deadline)) {
  }
  return received_;
}

bool RawSocket::read_more(std::chrono::milliseconds timeout) {
  size_t before = received_.size();
  timed_out_ = false;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received_.size() == before && read_some(deadline)) {
  }
  return received_.size() > before;
}

void RawSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  closed_ = true;
}

std::string RawSocket::read_all() {
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (read_some(deadline)) {
  }
  return received_;
}

std::string send_raw(uint16_t port, std::string_view bytes, bool half_close,
                     std::chrono::milliseconds timeout) {
  RawSocket s(port, timeout);
  s.send(bytes);
  if (half_close) s.shutdown_send();
  return s.read_all();
}

std::string base64(std::string_view in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += table[n & 63];
  }
  if (size_t rest = in.size() - i) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += rest == 2 ? table[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::pair<std::string, std::string> bearer(std::string_view token) {
  return {"Authorization", "Bearer " + base64(token)};
}

std::pair<std::string, std::string> api_key_header(std::string_view token) {
  return {"X-API-Key", base64(token)};
}

}  // namespace it
