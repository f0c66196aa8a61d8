#include "server/app/worker.hpp"

#include "server/app/gateway_state.hpp"

namespace apiproxy {

Worker::Worker(GatewayState& s) : state(s) {
  store = state.store_factory(io);
  http = std::make_unique<HttpClient>(
      io, state.tls, HttpClientOptions{state.settings.upstream_connect_timeout, 64 * 1024 * 1024});
}

}  // namespace apiproxy
