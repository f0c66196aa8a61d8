// The gateway's HTTP client for upstream calls, on the caller's io_context: plain HTTP or
// HTTPS (OpenSSL, certificates verified against the system store unless disabled),
// bounded by a connect timeout and an overall deadline. It never blocks its thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "core/common/result.hpp"
#include "core/upstream/http_types.hpp"

namespace apiproxy {

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  size_t max_response_bytes = 64 * 1024 * 1024;
};

// One per process: the TLS settings every client shares.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(bool verify_peer);

class HttpClient {
 public:
  using Callback = std::function<void(Result<UpstreamResponse>)>;

  HttpClient(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls,
             HttpClientOptions options);

  // Sends `request`; `done` runs on this client's io_context with the whole response, or
  // an error saying which step failed. `deadline` bounds the whole exchange.
  void send(UpstreamRequest request, std::chrono::milliseconds deadline, Callback done);

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  HttpClientOptions options_;
};

}  // namespace apiproxy
