// What one worker thread owns: its event loop, its store connection, its upstream client
// and its routes. A connection accepted on this thread is served here from start to end.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/dataplane/data_plane.hpp"
#include "core/store/store.hpp"
#include "core/upstream/connection_pool.hpp"
#include "server/http/connection_set.hpp"
#include "server/http/http_router.hpp"

namespace apiproxy {

struct GatewayState;

// A worker's event loop. Stopped with work still pending (a drain cut short by the grace
// period or a second signal), the loop holds handlers that own requests in flight, and
// destroying a request returns its upstream connection to the worker's pool. Those
// handlers must therefore go while the pool still exists: before the members declared
// after the loop, not after them as member order would have it.
class EventLoop : public boost::asio::io_context {
 public:
  // One thread runs this loop, and every socket and timer of the worker is used on it alone
  // (other threads only post work to it, or stop it): Asio's per-socket locks are skipped,
  // its scheduler's lock is kept for those posts.
  EventLoop() : io_context(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO) {}
  // Destroys every pending handler; the loop's services stay until its destructor, so
  // sockets and timers may still be destroyed afterwards (this is what ~io_context does
  // first; doing it again there is a no-op).
  void destroy_pending_handlers() { shutdown(); }
};

// Runs `io` until it is stopped. An exception that escapes a handler does not end the
// process: Asio has already destroyed that handler, and with it whatever request it held
// (an exchange dropped without an answer answers 500 itself); the exception is logged and
// the loop goes on serving everyone else.
void run_until_stopped(boost::asio::io_context& io, std::string_view loop_name);

struct Worker {
  explicit Worker(GatewayState& state);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  GatewayState& state;
  ConnectionSet connections;  // declared before io: outlives the connections io destroys
  EventLoop io;
  std::shared_ptr<Store> store;
  // Keep-alive upstream connections: proxied requests, model lists, health probes.
  std::unique_ptr<ConnectionPool> pool;
  std::unique_ptr<DataPlane> data_plane;
  HttpRouter router;
  std::vector<std::shared_ptr<void>> keep_alive;  // route handler objects
};

}  // namespace apiproxy
