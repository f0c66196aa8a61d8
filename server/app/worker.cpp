#include "server/app/worker.hpp"

#include "server/app/gateway_state.hpp"

namespace apiproxy {

Worker::Worker(GatewayState& s) : state(s) {
  store = state.store_factory(io);
  http = std::make_unique<HttpClient>(
      io, state.tls, HttpClientOptions{state.settings.upstream_connect_timeout, 64 * 1024 * 1024});
  PoolOptions pool_options;
  pool_options.connect_timeout = state.settings.upstream_connect_timeout;
  pool_options.max_per_origin = state.settings.upstream_max_connections;
  pool = std::make_unique<ConnectionPool>(io, state.tls, pool_options);
}

Worker::~Worker() { io.destroy_pending_handlers(); }

}  // namespace apiproxy
