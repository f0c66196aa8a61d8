// One keep-alive connection to an upstream origin, plain TCP or TLS behind one interface,
// so the pool and the exchange do not care which. Every operation is asynchronous and
// bounded by the deadline last set with expires_after().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/common/result.hpp"
#include "core/common/url.hpp"

namespace apiproxy {

using UpstreamHttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using UpstreamParser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

class UpstreamConnection {
 public:
  using Done = std::function<void(const boost::system::error_code&)>;
  virtual ~UpstreamConnection() = default;

  virtual void write(UpstreamHttpRequest& request, Done done) = 0;
  virtual void read_header(UpstreamParser& parser, Done done) = 0;
  virtual void read_some(UpstreamParser& parser, Done done) = 0;
  virtual void expires_after(std::chrono::steady_clock::duration d) = 0;
  virtual void close() = 0;
  virtual bool is_open() const = 0;

  const std::string& origin() const { return origin_; }
  bool reused = false;  // served an earlier request: the server may have closed it meanwhile
  std::chrono::steady_clock::time_point idle_since{};

 protected:
  explicit UpstreamConnection(std::string origin) : origin_(std::move(origin)) {}
  boost::beast::flat_buffer buffer_;  // bytes read past the current response stay here

 private:
  std::string origin_;
};

// Resolves, connects and (for https) handshakes with SNI and host-name verification.
void connect_upstream(boost::asio::io_context& io, boost::asio::ssl::context& tls, const Url& url,
                      std::chrono::milliseconds timeout,
                      std::function<void(Result<std::unique_ptr<UpstreamConnection>>)> done);

}  // namespace apiproxy
