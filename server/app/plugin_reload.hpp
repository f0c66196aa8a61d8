// Drop-in plugin reload (SIGHUP, POST /plugins/reload): rescans the plugin directory and
// swaps in a new plugin generation. New files become available, removed ones stop taking
// new requests, changed ones are replaced; requests already running finish on the
// generation they started with, and a library is unloaded when its last user is gone.
#pragma once

#include "core/plugins/plugin_registry.hpp"

namespace apiproxy {

struct GatewayState;

struct PluginReload {
  uint64_t generation = 0;  // the generation now serving
  ReloadSummary changes;
  std::vector<RejectedPlugin> rejected;
};

// Blocking (file reads and dlopen, a few milliseconds); reloads never overlap. Call it
// off the request threads.
PluginReload reload_plugins(GatewayState& state);

}  // namespace apiproxy
