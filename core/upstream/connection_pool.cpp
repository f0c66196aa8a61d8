#include "core/upstream/connection_pool.hpp"

#include <boost/asio/post.hpp>

namespace apiproxy {

namespace {

// Checking an idle connection for bytes the server sent unasked (or its close) costs a
// system call. One reused within this long after its response is not checked: bytes sent
// past a response in the same burst were read with it (and keep it out of the pool), and a
// server's own idle-time messages (a 408 before it closes) come far later than this.
constexpr std::chrono::milliseconds kCheckQuietAfter{2};

}  // namespace

ConnectionPool::ConnectionPool(boost::asio::io_context& io,
                               std::shared_ptr<boost::asio::ssl::context> tls, PoolOptions options)
    : io_(io), tls_(std::move(tls)), options_(options) {}

void ConnectionPool::acquire(const Url& url, bool fresh, std::function<void(Acquired)> done,
                             std::chrono::steady_clock::time_point now, std::chrono::milliseconds connect_timeout) {
  const std::string& origin = url.origin();
  Origin& o = origins_[origin];
  while (!fresh && !o.idle.empty()) {
    auto conn = std::move(o.idle.back());
    o.idle.pop_back();
    auto idle = now - conn->idle_since;
    if (idle < options_.idle_timeout && conn->is_open() && (idle < kCheckQuietAfter || conn->quiet())) {
      conn->reused = true;
      // At once, not posted: the caller's next step (writing the request) is asynchronous
      // anyway, and a posted completion is an event-loop turn that does no I/O.
      return done(Acquired(std::move(conn)));
    }
    conn->close();
    --o.open;
  }
  if (o.open >= options_.max_per_origin) {
    boost::asio::post(io_, [done = std::move(done), origin, max = options_.max_per_origin] {
      done(Error{"too many open connections to " + origin + " (" + std::to_string(max) + ")"});
    });
    return;
  }
  ++o.open;
  connect_upstream(io_, *tls_, url, connect_timeout.count() > 0 ? connect_timeout : options_.connect_timeout,
                   [this, origin, done = std::move(done)](Acquired conn) {
                     if (!conn) --origins_[origin].open;
                     done(std::move(conn));
                   });
}

void ConnectionPool::release(std::unique_ptr<UpstreamConnection> conn) {
  Origin& o = origins_[conn->origin()];
  if (!conn->is_open() || o.idle.size() >= options_.max_idle_per_origin) return discard(std::move(conn));
  conn->idle_since = std::chrono::steady_clock::now();
  conn->expires_never();  // idle: no deadline until reused
  o.idle.push_back(std::move(conn));
}

void ConnectionPool::discard(std::unique_ptr<UpstreamConnection> conn) {
  if (!conn) return;
  conn->close();
  auto it = origins_.find(conn->origin());
  if (it != origins_.end() && it->second.open > 0) --it->second.open;
}

size_t ConnectionPool::open_connections(const std::string& origin) const {
  auto it = origins_.find(origin);
  return it == origins_.end() ? 0 : it->second.open;
}

size_t ConnectionPool::idle_connections(const std::string& origin) const {
  auto it = origins_.find(origin);
  return it == origins_.end() ? 0 : it->second.idle.size();
}

}  // namespace apiproxy
