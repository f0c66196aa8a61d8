// What one worker thread owns: its event loop, its store connection, its upstream client
// and its routes. A connection accepted on this thread is served here from start to end.
#pragma once

#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/store/store.hpp"
#include "core/upstream/connection_pool.hpp"
#include "core/upstream/http_client.hpp"
#include "server/http/connection_set.hpp"
#include "server/http/http_router.hpp"

namespace apiproxy {

struct GatewayState;

struct Worker {
  explicit Worker(GatewayState& state);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  GatewayState& state;
  ConnectionSet connections;  // declared before io: outlives the connections io destroys
  boost::asio::io_context io{1};  // concurrency hint 1: this loop runs on one thread only
  std::shared_ptr<Store> store;
  std::unique_ptr<HttpClient> http;  // one-off calls: model lists, health probes
  std::unique_ptr<ConnectionPool> pool;  // keep-alive connections for proxied requests
  HttpRouter router;
  std::vector<std::shared_ptr<void>> keep_alive;  // route handler objects
};

}  // namespace apiproxy
