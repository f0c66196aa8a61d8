// A configured provider joined with the adapter object that speaks its API.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config/providers.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/plugins/provider_adapter.hpp"

namespace apiproxy {

struct ProviderRuntime {
  ProviderConfig config;
  std::shared_ptr<const ProviderAdapter> adapter;
};

struct ProviderRuntimes {
  std::vector<ProviderRuntime> usable;
  std::vector<SkippedProvider> skipped;  // config problems and adapter problems

  const ProviderRuntime* find(std::string_view id) const;
};

// Creates each provider's adapter from its plugin. A provider whose adapter plugin is
// missing or refuses the configuration is skipped with the reason.
ProviderRuntimes make_provider_runtimes(const ProviderSet& set, const PluginRegistry& plugins);

}  // namespace apiproxy
