#include <iostream>

#include <spdlog/spdlog.h>

#include "server/app/gateway_state.hpp"
#include "server/cli/commands.hpp"

namespace apiproxy {

int cmd_check_config(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "usage: apiproxy check-config\n";
    return 2;
  }
  setup_logging("warn");  // problems go to stderr as they are found; the report to stdout
  auto state = build_gateway_state(Environment::load_process());
  if (!state) {
    std::cout << "configuration error: " << state.error() << "\n";
    return 2;
  }
  const GatewayState& s = **state;
  auto g = s.plugins.get();
  const PluginRegistry& plugins = *g->plugins;
  const ProviderRuntimes& providers = g->providers;
  std::cout << "env file: " << (s.env.source().empty() ? "(none)" : s.env.source()) << "\n";
  std::cout << "store: " << (s.settings.uses_redis() ? "redis" : "in-process memory") << "\n";
  std::cout << "auth: " << (s.auth.enabled() ? "token required" : "DISABLED (APIPROXY_AUTH_TOKEN unset)") << "\n";
  std::cout << "plugins: " << plugins.dir() << "\n";
  for (const auto& p : plugins.plugins())
    std::cout << "  " << p.kind << " " << p.name << " " << p.version << "\n";
  for (const auto& r : plugins.rejected())
    std::cout << "  refused " << r.file << ": " << r.reason << "\n";
  std::cout << "providers (" << providers.usable.size() << " usable):\n";
  for (const auto& p : providers.usable) {
    const auto& c = p.config;
    std::cout << "  " << c.id << ": name='" << c.name << "' base_url=" << c.display_base_url()
              << " api_key=" << c.redacted_api_key() << " adapter=" << c.adapter
              << (c.adapter_inferred ? " (inferred)" : "") << " weight=" << c.weight
              << " region=" << (c.region.empty() ? "-" : c.region) << " cost_input=" << c.cost_input
              << " cost_output=" << c.cost_output
              << " max_qps=" << (c.max_qps > 0 ? fmt::format("{:g}", c.max_qps) : std::string("unlimited"))
              << " models_path=" << (c.models_path.empty() ? "(adapter default)" : c.models_path)
              << " retryable=" << c.retryable.to_string() << "\n";
    std::cout << "    keys from LLM_PROVIDER_" << c.id << "_" << c.keys_source << ":";
    for (const auto& k : c.keys)
      std::cout << " " << k.label << "(weight=" << fmt::format("{:g}", k.weight)
                << (k.max_qps > 0 ? fmt::format(" max_qps={:g}", k.max_qps) : std::string()) << ")";
    std::cout << "\n";
    if (!c.static_models_source.empty())
      std::cout << "    " << c.static_models.size() << " static model(s) from " << c.static_models_source << "\n";
  }
  for (const auto& sk : providers.skipped) std::cout << "  SKIPPED " << sk.id << ": " << sk.reason << "\n";
  if (providers.usable.empty()) {
    std::cout << "no usable provider: the gateway would start but could not route anything\n";
    return 1;
  }
  return 0;
}

}  // namespace apiproxy
