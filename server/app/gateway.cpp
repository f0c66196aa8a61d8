#include "server/app/gateway.hpp"

#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "server/api/control_plane.hpp"
#include "server/api/openai_api.hpp"
#include "server/api/routing_api.hpp"
#include "server/app/background.hpp"
#include "server/app/worker.hpp"
#include "server/http/http_server.hpp"

namespace apiproxy {

namespace asio = boost::asio;

int run_gateway(std::unique_ptr<GatewayState> state, std::string host, uint16_t port) {
  const Settings& settings = state->settings;
  unsigned n = settings.workers ? settings.workers : std::max(1u, std::thread::hardware_concurrency());

  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<ListenerSlot> slots;
  for (unsigned i = 0; i < n; ++i) {
    workers.push_back(std::make_unique<Worker>(*state));
    add_control_plane_routes(*workers.back());
    add_routing_routes(*workers.back());
    add_openai_routes(*workers.back());
    slots.push_back({&workers.back()->io, &workers.back()->router});
  }

  ServerLimits limits;
  limits.max_body_bytes = settings.max_body_bytes;
  limits.header_timeout = settings.header_timeout;
  limits.idle_timeout = settings.idle_timeout;
  HttpServer server(limits);
  auto bound = server.listen(slots, host, port);
  if (!bound) {
    spdlog::critical("{}", bound.error());
    return 1;
  }
  spdlog::info("APIProxy {} listening on {}:{} with {} worker thread(s), store: {}", APIPROXY_VERSION,
               host, *bound, n, workers.front()->store->kind());

  asio::io_context background_io{1};
  BackgroundTasks background(*state, background_io);
  background.start();

  asio::signal_set signals(background_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {} received: stopping", sig);
    server.stop_accepting();
    for (auto& w : workers) w->io.stop();
    background_io.stop();
  });

  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&io = w->io] {
      auto guard = asio::make_work_guard(io);
      io.run();
    });
  }
  {
    auto guard = asio::make_work_guard(background_io);
    background_io.run();
  }
  for (auto& t : threads) t.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace apiproxy
