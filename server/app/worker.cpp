#include "server/app/worker.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <spdlog/spdlog.h>

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

void run_until_stopped(boost::asio::io_context& io, std::string_view loop_name) {
  auto guard = boost::asio::make_work_guard(io);
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("{}: a handler threw ({}); its request was dropped and answered 500", loop_name, e.what());
    } catch (...) {
      spdlog::error("{}: a handler threw a non-standard exception; its request was dropped and answered 500",
                    loop_name);
    }
  }
}

}  // namespace apiproxy
