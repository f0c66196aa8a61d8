// One keep-alive connection to an upstream origin, plain TCP or TLS behind one interface,
// so the pool and the exchange do not care which. Every operation is asynchronous and
// bounded by the deadline last set with expires_after().
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "core/common/result.hpp"
#include "core/common/url.hpp"
#include "core/upstream/upstream_parser.hpp"

namespace apiproxy {

class UpstreamConnection {
 public:
  using Done = std::function<void(const boost::system::error_code&)>;
  virtual ~UpstreamConnection() = default;

  // Writes a request: its head and its body, in one gather write.
  virtual void write(std::array<boost::asio::const_buffer, 2> request, Done done) = 0;
  virtual void read_header(UpstreamParser& parser, Done done) = 0;
  virtual void read_some(UpstreamParser& parser, Done done) = 0;
  virtual void expires_at(std::chrono::steady_clock::time_point t) = 0;
  void expires_after(std::chrono::steady_clock::duration d) { expires_at(std::chrono::steady_clock::now() + d); }
  virtual void expires_never() = 0;
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  // Idle in the pool, the connection must have nothing to read: bytes the server sent
  // unasked (or its close) mean it cannot carry another request. Checked before reuse.
  virtual bool quiet() = 0;
  // Bytes read past the end of the last response: a connection with any is never reused.
  bool has_unread_bytes() const { return buffer_.size() > 0; }
  // Hands `parser` what is already buffered, without I/O; false when nothing is.
  bool parse_buffered(UpstreamParser& parser, boost::system::error_code& ec) {
    if (buffer_.size() == 0) return false;
    buffer_.consume(parser.put(buffer_.data(), ec));
    return true;
  }
  // Where a response body is read into, piece by piece. It lives with the connection, so a
  // pooled connection reuses it instead of every request allocating its own.
  std::array<char, 16 * 1024>& chunk() { return chunk_; }

  const std::string& origin() const { return origin_; }
  bool reused = false;  // served an earlier request: the server may have closed it meanwhile
  std::chrono::steady_clock::time_point idle_since{};

 protected:
  explicit UpstreamConnection(std::string origin) : origin_(std::move(origin)) {}
  // Bytes read past what the parser consumed. Bounded, so an endless chunk extension or
  // header from a broken upstream fails the read instead of growing memory.
  boost::beast::flat_buffer buffer_{kMaxUnparsedBytes};
  std::array<char, 16 * 1024> chunk_;

 public:
  // A response header section may be this large; the read buffer a little more.
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;
  static constexpr size_t kMaxUnparsedBytes = kMaxHeaderBytes + 16 * 1024;

 private:
  std::string origin_;
};

// A network error as words for a log line or an error message ("timed out" for Beast's
// timeout).
std::string describe_network_error(const boost::system::error_code& ec);

// Resolves, connects and (for https) handshakes with SNI and host-name verification.
void connect_upstream(boost::asio::io_context& io, boost::asio::ssl::context& tls, const Url& url,
                      std::chrono::milliseconds timeout,
                      std::function<void(Result<std::unique_ptr<UpstreamConnection>>)> done);

}  // namespace apiproxy
