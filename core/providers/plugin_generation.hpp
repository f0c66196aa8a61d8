// What requests run on: the loaded plugins and the provider adapters made from them.
// A reload builds a new generation and swaps it in; a request holds the generation it
// started with until it ends, so every library it uses stays loaded until then.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/config/environment.hpp"
#include "core/config/providers.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/providers/provider_runtime.hpp"

namespace apiproxy {

struct PluginGeneration {
  uint64_t number = 1;
  std::shared_ptr<const PluginRegistry> plugins;
  ProviderRuntimes providers;
};
using PluginGenerationPtr = std::shared_ptr<const PluginGeneration>;

// Loads the plugins in `dir` (reusing what `previous` loaded from unchanged files) and
// makes every configured provider's adapter. Problems are logged, never thrown.
PluginGenerationPtr build_plugin_generation(const std::string& dir, const Environment& env,
                                            const ProviderSet& providers, PluginCallPolicy policy,
                                            const PluginGeneration* previous = nullptr);

// The generation new requests start on. Any thread may read it while another swaps it.
class ActivePlugins {
 public:
  PluginGenerationPtr get() const { return current_.load(std::memory_order_acquire); }
  void set(PluginGenerationPtr next) { current_.store(std::move(next), std::memory_order_release); }

 private:
  std::atomic<PluginGenerationPtr> current_;
};

}  // namespace apiproxy
