// Graceful shutdown on SIGTERM / SIGINT: stop accepting, close idle connections, let the
// requests and streams in flight finish for up to APIPROXY_SHUTDOWN_GRACE_SECONDS,
// publish this instance's metrics one last time, then stop every event loop. A second
// signal stops at once.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/app/background.hpp"
#include "server/app/worker.hpp"
#include "server/http/http_server.hpp"

namespace apiproxy {

struct GatewayState;

class Shutdown {
 public:
  // Runs on `background_io`; `stop_all` stops every event loop.
  Shutdown(GatewayState& state, boost::asio::io_context& background_io, HttpServer& server,
           std::vector<std::unique_ptr<Worker>>& workers, BackgroundTasks& background,
           std::chrono::seconds grace, std::function<void()> stop_all);

  void begin(int signal);
  bool started() const { return started_; }

 private:
  size_t open_connections() const;
  void wait_for_connections();
  void finish();

  GatewayState& state_;
  HttpServer& server_;
  std::vector<std::unique_ptr<Worker>>& workers_;
  BackgroundTasks& background_;
  std::chrono::seconds grace_;
  std::function<void()> stop_all_;
  boost::asio::steady_timer poll_timer_;
  std::chrono::steady_clock::time_point deadline_;
  bool started_ = false;
  bool finishing_ = false;
};

}  // namespace apiproxy
