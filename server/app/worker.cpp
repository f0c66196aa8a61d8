#include "server/app/worker.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <spdlog/spdlog.h>

#include "server/app/gateway_state.hpp"

namespace apiproxy {

Worker::Worker(GatewayState& s) : state(s) {
  store = state.store_factory(io);
  pool = std::make_unique<ConnectionPool>(io, state.tls, state.upstream_pool_options());
  data_plane = std::make_unique<DataPlane>(state.data_plane(), store, *pool);
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
