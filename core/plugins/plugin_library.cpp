#include "core/plugins/plugin_library.hpp"

#include <spdlog/spdlog.h>

namespace apiproxy {

void plugin_log(void* ctx, apx_log_level level, apx_str message) {
  const auto* c = static_cast<const PluginLogContext*>(ctx);
  std::string text(to_view(message));
  if (c) {
    for (const std::string& secret : c->secrets) {
      if (secret.empty()) continue;
      for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
        text.replace(at, secret.size(), "****");
    }
  }
  const std::string& name = c ? c->plugin_name : std::string();
  switch (level) {
    case APX_LOG_DEBUG: spdlog::debug("plugin {}: {}", name, text); break;
    case APX_LOG_INFO: spdlog::info("plugin {}: {}", name, text); break;
    case APX_LOG_WARN: spdlog::warn("plugin {}: {}", name, text); break;
    default: spdlog::error("plugin {}: {}", name, text); break;
  }
}

PluginLibrary::PluginLibrary(PrivateCopy copy, boost::dll::shared_library lib,
                             const apx_plugin_descriptor* descriptor, PluginInfo info,
                             PluginCallPolicy policy)
    : copy_(std::move(copy)),
      lib_(std::move(lib)),
      descriptor_(descriptor),
      info_(std::move(info)),
      policy_(std::move(policy)) {
  log_context_.plugin_name = info_.name;
  host_.struct_size = sizeof(apx_host);
  host_.ctx = &log_context_;
  host_.log = &plugin_log;
}

void PluginLibrary::fault(std::string_view kind, std::string_view what) const {
  uint64_t n = policy_.faults->record(info_.name, kind);
  if (PluginFaults::worth_logging(n))
    spdlog::warn("plugin {} {}: {} ({} fault #{})", info_.name, info_.version, what, kind, n);
}

void PluginLibrary::slow(std::string_view function, std::chrono::steady_clock::duration took) const {
  double ms = std::chrono::duration<double, std::milli>(took).count();
  fault(plugin_fault::kSlow, std::string(function) + " took " + fmt::format("{:.2f}", ms) +
                                 " ms (APIPROXY_PLUGIN_SLOW_CALL_US allows " +
                                 std::to_string(policy_.slow_call.count()) + " µs)");
}

}  // namespace apiproxy
