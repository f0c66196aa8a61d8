#include "core/providers/provider_runtime.hpp"

namespace apiproxy {

const ProviderRuntime* ProviderRuntimes::find(std::string_view id) const {
  for (const auto& p : usable)
    if (p.config.id == id) return &p;
  return nullptr;
}

ProviderRuntimes make_provider_runtimes(const ProviderSet& set, const PluginRegistry& plugins) {
  ProviderRuntimes out;
  out.skipped = set.skipped;
  for (const auto& cfg : set.providers) {
    auto plugin = plugins.provider_plugin(cfg.adapter);
    if (!plugin) {
      std::string available;
      for (const auto& n : plugins.provider_names()) available += (available.empty() ? "" : ", ") + n;
      out.skipped.push_back(
          {cfg.id, "LLM_PROVIDER_" + cfg.id + "_ADAPTER='" + cfg.adapter + "'" +
                       (cfg.adapter_inferred ? " (inferred from BASE_URL)" : "") +
                       " names no loaded provider adapter (available: " +
                       (available.empty() ? "none" : available) + ")"});
      continue;
    }
    auto adapter = ProviderAdapter::create(plugin, cfg);
    if (!adapter) {
      out.skipped.push_back({cfg.id, adapter.error()});
      continue;
    }
    out.usable.push_back({cfg, std::move(adapter.value())});
  }
  return out;
}

}  // namespace apiproxy
