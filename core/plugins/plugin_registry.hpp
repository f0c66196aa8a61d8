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
#include "core/plugins/private_copy.hpp"
#include "core/plugins/provider_adapter.hpp"
#include "core/plugins/strategy_plugin.hpp"

namespace apiproxy {

struct RejectedPlugin {
  std::string file;
  std::string reason;
};

// What a reload changed, by plugin file.
struct ReloadSummary {
  std::vector<std::string> added;      // new files, now serving
  std::vector<std::string> replaced;   // changed files, the new version now serving
  std::vector<std::string> removed;    // files gone: no new requests use them
  std::vector<std::string> unchanged;  // same content: the loaded version kept as it is
  std::vector<std::string> kept_previous;  // changed but refused: the old version still serves
};

class PluginRegistry {
 public:
  // Loads every *.so in `dir`, in name order. Never throws; refusals are logged and kept.
  // With `previous` (a reload), a file whose content is unchanged keeps its loaded objects,
  // and a changed file that is refused leaves the previous version serving.
  static std::shared_ptr<const PluginRegistry> load(const std::string& dir, const Environment& env,
                                                    PluginCallPolicy policy = {},
                                                    const PluginRegistry* previous = nullptr);

  // The plugin directory to use: APIPROXY_PLUGIN_DIR when set, else ../plugins beside the
  // binary (the build tree), else ../lib/apiproxy/plugins beside it, else the compiled-in
  // install location.
  static std::string resolve_dir(const std::string& configured);

  const std::string& dir() const { return dir_; }
  std::vector<PluginInfo> plugins() const;
  const std::vector<RejectedPlugin>& rejected() const { return rejected_; }
  const ReloadSummary& changes() const { return changes_; }

  std::shared_ptr<const StrategyPlugin> strategy(std::string_view name) const;
  std::shared_ptr<const PluginLibrary> provider_plugin(std::string_view name) const;
  std::vector<std::string> strategy_names() const;
  std::vector<std::string> provider_names() const;

 private:
  // One accepted file: a strategy object or a provider plugin library.
  struct Loaded {
    std::shared_ptr<const StrategyPlugin> strategy;
    std::shared_ptr<const PluginLibrary> provider;
    const PluginLibrary& library() const;
  };

  // Loads `path` from its copy; returns the refusal reason, or "" when it was accepted.
  std::string load_file(const std::string& path, PrivateCopy copy, const Environment& env,
                        const PluginCallPolicy& policy);
  // Adds a loaded plugin under its name; returns the refusal reason, or "".
  std::string accept(const std::string& path, Loaded loaded);
  void reject(const std::string& path, const std::string& reason);
  void note_removed(const PluginRegistry& previous);
  const Loaded* loaded_from(const std::string& path) const;

  std::string dir_;
  std::map<std::string, Loaded> by_file_;
  std::map<std::string, std::shared_ptr<const StrategyPlugin>, std::less<>> strategies_;
  std::map<std::string, std::shared_ptr<const PluginLibrary>, std::less<>> providers_;
  std::vector<RejectedPlugin> rejected_;
  ReloadSummary changes_;
};

}  // namespace apiproxy
