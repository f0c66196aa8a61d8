// Work that is nobody's request: model discovery at start-up and every
// MODELS_REFRESH_SECONDS, the logical-model catalog refresh, and publishing routing
// metrics and weights to the store. It runs on its own
// thread and event loop with its own store connection, so it never delays a request.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/routing/metrics_publisher.hpp"
#include "core/store/store.hpp"
#include "core/upstream/connection_pool.hpp"

namespace apiproxy {

struct GatewayState;

class BackgroundTasks {
 public:
  BackgroundTasks(GatewayState& state, boost::asio::io_context& io);
  void start();
  // Shutting down: stops the periodic work and publishes this instance's metrics one last
  // time, so other instances see its final share; `done` runs when that is written (or
  // failed).
  void finish(std::function<void()> done);

 private:
  void discover_all();
  void schedule_discovery();
  void refresh_catalog();
  void flush_metrics();
  std::vector<RoutedPair> routed_pairs() const;

  GatewayState& state_;
  boost::asio::io_context& io_;
  std::shared_ptr<Store> store_;
  ConnectionPool pool_;  // model lists
  boost::asio::steady_timer discovery_timer_;
  boost::asio::steady_timer catalog_timer_;
  boost::asio::steady_timer metrics_timer_;
  MetricsPublisher publisher_;
  bool catalog_error_logged_ = false;
  bool stopping_ = false;
};

}  // namespace apiproxy
