// A small synchronous HTTP/1.1 client for 127.0.0.1 (Boost.Beast underneath), with a
// deadline on every exchange: a server that hangs fails the test instead of hanging it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace it {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
  int status = 0;                              // 0: no response (see `error`)
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string error;                           // transport problem, if any
  std::chrono::milliseconds elapsed{0};

  bool answered() const { return status != 0; }
  std::string header(std::string name) const;  // "" when absent
  // Status, headers and body in one string: what a test should never find a secret in,
  // and what it prints when an expectation fails.
  std::string dump() const;
};

// One keep-alive connection. Requests are HTTP/1.1 with no Connection header unless the
// caller adds one.
class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  Response request(std::string_view method, std::string_view target, const Headers& headers = {},
                   std::string_view body = {});
  bool is_open() const;
  uint16_t local_port() const;  // identifies the socket

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A new connection per request.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : port_(port), timeout_(timeout) {}

  Response request(std::string_view method, std::string_view target, const Headers& headers = {},
                   std::string_view body = {}) const;
  Response get(std::string_view target, const Headers& headers = {}) const {
    return request("GET", target, headers);
  }
  Response put(std::string_view target, std::string_view body, const Headers& headers = {}) const;
  Response post(std::string_view target, std::string_view body, const Headers& headers = {}) const;
  Response del(std::string_view target, const Headers& headers = {}) const {
    return request("DELETE", target, headers);
  }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_;
  std::chrono::milliseconds timeout_;
};

// A plain TCP socket for hand-written (malformed, partial, 100-continue) requests.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool send(std::string_view bytes);  // false when the peer is gone
  void shutdown_send();
  // Reads until `needle` has been received, the peer closes, or the timeout; returns all
  // bytes received so far (including earlier reads).
  std::string read_until(std::string_view needle);
  // Reads until the peer closes or the timeout; returns everything received.
  std::string read_all();
  // Waits up to `timeout` for more bytes; false when none came (peer closed, or timeout).
  // What has been received so far is in received().
  bool read_more(std::chrono::milliseconds timeout);
  const std::string& received() const { return received_; }
  // Hangs up now (the destructor does it otherwise).
  void close();
  bool peer_closed() const { return closed_; }
  bool timed_out() const { return timed_out_; }

 private:
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string received_;
  bool closed_ = false, timed_out_ = false;
  bool read_some(std::chrono::steady_clock::time_point deadline);
};

// Sends `bytes` on a new connection, optionally half-closes, and returns what came back
// before the server closed or the timeout passed.
std::string send_raw(uint16_t port, std::string_view bytes, bool half_close = true,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

std::string base64(std::string_view in);

// Authorization: Bearer <base64(token)>, as the spec's curl commands send it.
std::pair<std::string, std::string> bearer(std::string_view token);
// X-API-Key: <base64(token)>
std::pair<std::string, std::string> api_key_header(std::string_view token);

}  // namespace it
