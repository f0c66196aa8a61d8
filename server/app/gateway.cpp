#include "server/app/gateway.hpp"

#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "server/api/control_plane.hpp"
#include "server/api/metrics_api.hpp"
#include "server/api/openai_api.hpp"
#include "server/api/routing_api.hpp"
#include "server/app/background.hpp"
#include "server/app/plugin_reload.hpp"
#include "server/app/shutdown.hpp"
#include "server/app/worker.hpp"
#include "server/http/http_server.hpp"

namespace apiproxy {

namespace asio = boost::asio;

namespace {

// SIGHUP: reload the plugin directory, on the background thread, as often as it comes.
void reload_on_sighup(asio::signal_set& hup, GatewayState& state) {
  hup.async_wait([&hup, &state](const boost::system::error_code& ec, int) {
    if (ec) return;
    spdlog::info("SIGHUP received: reloading plugins");
    reload_plugins(state);
    reload_on_sighup(hup, state);
  });
}

void stop_on_signal(asio::signal_set& signals, Shutdown& shutdown) {
  signals.async_wait([&signals, &shutdown](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    shutdown.begin(sig);
    stop_on_signal(signals, shutdown);  // a second signal stops at once
  });
}

}  // namespace

ServerLimits server_limits(const Settings& settings) {
  ServerLimits limits;
  limits.max_body_bytes = settings.max_body_bytes;
  limits.max_header_bytes = settings.max_header_bytes;
  limits.max_connections = settings.max_connections;
  limits.header_timeout = settings.header_timeout;
  limits.idle_timeout = settings.idle_timeout;
  return limits;
}

int run_gateway(std::unique_ptr<GatewayState> state, std::string host, uint16_t port) {
  const Settings& settings = state->settings;
  unsigned n = settings.workers ? settings.workers : std::max(1u, std::thread::hardware_concurrency());

  asio::io_context background_io{1};
  state->run_in_background = [&background_io](std::function<void()> job) {
    asio::post(background_io, std::move(job));
  };

  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<ListenerSlot> slots;
  for (unsigned i = 0; i < n; ++i) {
    workers.push_back(std::make_unique<Worker>(*state));
    add_control_plane_routes(*workers.back());
    add_routing_routes(*workers.back());
    add_openai_routes(*workers.back());
    add_metrics_routes(*workers.back());
    slots.push_back({&workers.back()->io, &workers.back()->router, &workers.back()->connections});
  }

  HttpServer server(server_limits(settings));
  auto bound = server.listen(slots, host, port);
  if (!bound) {
    spdlog::critical("{}", bound.error());
    return 1;
  }
  spdlog::info("APIProxy {} listening on {}:{} with {} worker thread(s), store: {}", APIPROXY_VERSION,
               host, *bound, n, workers.front()->store->kind());

  BackgroundTasks background(*state, background_io);
  background.start();

  Shutdown shutdown(*state, background_io, server, workers, background, settings.shutdown_grace, [&] {
    for (auto& w : workers) w->io.stop();
    background_io.stop();
  });
  asio::signal_set stop_signals(background_io, SIGINT, SIGTERM);
  stop_on_signal(stop_signals, shutdown);
  asio::signal_set hup(background_io, SIGHUP);
  reload_on_sighup(hup, *state);

  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&io = w->io] { run_until_stopped(io, "worker"); });
  }
  run_until_stopped(background_io, "background");
  for (auto& t : threads) t.join();
  state->run_in_background = [](std::function<void()> job) { job(); };
  spdlog::info("stopped");
  return 0;
}

}  // namespace apiproxy
