// Every plugin the host accepted from the plugin directory, by kind and name, and every
// file it refused with the reason. Strategies are created once at load, with their
// APIPROXY_STRATEGY_{NAME}_{PARAM} configuration; provider plugins create one adapter per
// configured provider on demand.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config/environment.hpp"
#include "core/plugins/plugin_library.hpp"
#include "core/plugins/provider_adapter.hpp"
#include "core/plugins/strategy_plugin.hpp"

namespace apiproxy {

struct RejectedPlugin {
  std::string file;
  std::string reason;
};

class PluginRegistry {
 public:
  // Loads every *.so in `dir`, in name order. Never throws; refusals are logged and kept.
  static std::shared_ptr<const PluginRegistry> load(const std::string& dir, const Environment& env);

  // The plugin directory to use: APIPROXY_PLUGIN_DIR when set, else ../plugins beside the
  // binary (the build tree), else ../lib/apiproxy/plugins beside it, else the compiled-in
  // install location.
  static std::string resolve_dir(const std::string& configured);

  const std::string& dir() const { return dir_; }
  std::vector<PluginInfo> plugins() const;
  const std::vector<RejectedPlugin>& rejected() const { return rejected_; }

  std::shared_ptr<const StrategyPlugin> strategy(std::string_view name) const;
  std::shared_ptr<const PluginLibrary> provider_plugin(std::string_view name) const;
  std::vector<std::string> strategy_names() const;
  std::vector<std::string> provider_names() const;

 private:
  void load_file(const std::string& path, const Environment& env);
  void reject(const std::string& path, const std::string& reason);

  std::string dir_;
  std::map<std::string, std::shared_ptr<const StrategyPlugin>, std::less<>> strategies_;
  std::map<std::string, std::shared_ptr<const PluginLibrary>, std::less<>> providers_;
  std::vector<RejectedPlugin> rejected_;
};

}  // namespace apiproxy
