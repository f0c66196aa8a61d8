// Keep-alive connections to upstream origins, per worker thread (never shared across
// threads): reuses an idle connection when there is one, opens a new one otherwise, and
// caps how many a worker holds open to one origin.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "core/upstream/upstream_connection.hpp"

namespace apiproxy {

struct PoolOptions {
  std::chrono::milliseconds connect_timeout{5000};
  size_t max_per_origin = 4096;      // open connections, idle or busy
  size_t max_idle_per_origin = 64;
  std::chrono::seconds idle_timeout{30};  // older idle connections are closed, not reused
};

class ConnectionPool {
 public:
  ConnectionPool(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls,
                 PoolOptions options);

  using Acquired = Result<std::unique_ptr<UpstreamConnection>>;
  // An idle connection to url's origin, or a new one (`fresh` forces a new one).
  // `done` may run before acquire returns (an idle connection reused) or later (a new one).
  // `now`: the caller's reading of the clock, if it has one (idle times are measured from it).
  // `connect_timeout`: for a new connection; 0 means PoolOptions::connect_timeout.
  void acquire(const Url& url, bool fresh, std::function<void(Acquired)> done,
               std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now(),
               std::chrono::milliseconds connect_timeout = std::chrono::milliseconds(0));
  // Returns a connection whose last response was read completely; closed ones are dropped.
  void release(std::unique_ptr<UpstreamConnection> conn);
  // A connection that will not come back (closed, or its response abandoned).
  void discard(std::unique_ptr<UpstreamConnection> conn);

  // The event loop the pool's connections run on.
  boost::asio::io_context& io() { return io_; }

  size_t open_connections(const std::string& origin) const;
  size_t idle_connections(const std::string& origin) const;

 private:
  struct Origin {
    size_t open = 0;
    std::vector<std::unique_ptr<UpstreamConnection>> idle;
  };
  boost::asio::io_context& io_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  PoolOptions options_;
  std::map<std::string, Origin, std::less<>> origins_;
};

}  // namespace apiproxy
