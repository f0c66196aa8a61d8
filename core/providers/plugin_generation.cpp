#include "core/providers/plugin_generation.hpp"

#include <spdlog/spdlog.h>

namespace apiproxy {

PluginGenerationPtr build_plugin_generation(const std::string& dir, const Environment& env,
                                            const ProviderSet& providers, PluginCallPolicy policy,
                                            const PluginGeneration* previous) {
  auto g = std::make_shared<PluginGeneration>();
  g->number = previous ? previous->number + 1 : 1;
  g->plugins = PluginRegistry::load(dir, env, std::move(policy), previous ? previous->plugins.get() : nullptr);
  g->providers = make_provider_runtimes(providers, *g->plugins);
  return g;
}

}  // namespace apiproxy
