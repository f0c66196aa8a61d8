#include "server/app/plugin_reload.hpp"

#include <mutex>

#include <spdlog/spdlog.h>

#include "server/app/gateway_state.hpp"

namespace apiproxy {

PluginReload reload_plugins(GatewayState& state) {
  static std::mutex one_at_a_time;
  std::lock_guard lock(one_at_a_time);
  PluginGenerationPtr previous = state.plugins.get();
  spdlog::info("reloading plugins from {}", previous->plugins->dir());
  PluginGenerationPtr next = build_plugin_generation(previous->plugins->dir(), state.env,
                                                     state.provider_config, state.plugin_policy(),
                                                     previous.get());
  state.plugins.set(next);
  const ReloadSummary& c = next->plugins->changes();
  spdlog::info("plugin generation {}: {} added, {} replaced, {} removed, {} unchanged, {} kept at "
               "their previous version", next->number, c.added.size(), c.replaced.size(),
               c.removed.size(), c.unchanged.size(), c.kept_previous.size());
  if (!next->plugins->strategy(state.settings.default_strategy))
    spdlog::warn("the default strategy '{}' (APIPROXY_DEFAULT_STRATEGY) is not loaded after the "
                 "reload: requests must name a strategy", state.settings.default_strategy);
  log_providers(*next);
  return {next->number, c, next->plugins->rejected()};
}

}  // namespace apiproxy
