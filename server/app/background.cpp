#include "server/app/background.hpp"

#include <spdlog/spdlog.h>

#include "server/app/gateway_state.hpp"

namespace apiproxy {

BackgroundTasks::BackgroundTasks(GatewayState& state, boost::asio::io_context& io)
    : state_(state),
      io_(io),
      store_(state.store_factory(io)),
      pool_(io, state.tls, state.upstream_pool_options()),
      discovery_timer_(io),
      catalog_timer_(io),
      metrics_timer_(io),
      publisher_(state.metrics, state.weights, state.instance_id) {}

void BackgroundTasks::start() {
  discover_all();
  refresh_catalog();
  flush_metrics();
}

void BackgroundTasks::finish(std::function<void()> done) {
  stopping_ = true;
  discovery_timer_.cancel();
  catalog_timer_.cancel();
  metrics_timer_.cancel();
  publisher_.flush(*store_, routed_pairs(), std::move(done));
}

std::vector<RoutedPair> BackgroundTasks::routed_pairs() const {
  std::vector<RoutedPair> pairs;
  auto g = state_.plugins.get();
  for (const auto& [id, model] : *state_.catalog.snapshot()) {
    for (const auto& up : model.upstreams) {
      const auto* p = g->providers.find(up.provider_id);
      pairs.push_back({id, up.provider_id, up.base_weight * (p ? p->config.weight : 1.0)});
    }
  }
  return pairs;
}

void BackgroundTasks::flush_metrics() {
  publisher_.flush(*store_, routed_pairs(), [this] {
    if (stopping_) return;
    metrics_timer_.expires_after(state_.settings.metrics_flush);
    metrics_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) flush_metrics();
    });
  });
}

void BackgroundTasks::discover_all() {
  auto g = state_.plugins.get();
  for (const auto& p : g->providers.usable)  // the callback keeps `g`, and so `p`, alive
    discover_models(p, pool_, *store_, state_.last_good_models, state_.discovery_options(),
                    [g](Result<std::vector<Model>>) {});  // outcomes are logged inside
  schedule_discovery();
}

void BackgroundTasks::schedule_discovery() {
  if (stopping_) return;
  discovery_timer_.expires_after(state_.settings.models_refresh);
  discovery_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) discover_all();
  });
}

void BackgroundTasks::refresh_catalog() {
  state_.catalog.refresh(*store_, [this](Status s) {
    if (!s && !catalog_error_logged_) spdlog::warn("logical model refresh failed: {}", s.error());
    if (s && catalog_error_logged_) spdlog::info("logical model refresh works again");
    catalog_error_logged_ = !s;
    if (stopping_) return;
    catalog_timer_.expires_after(state_.settings.catalog_refresh);
    catalog_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) refresh_catalog();
    });
  });
}

}  // namespace apiproxy
