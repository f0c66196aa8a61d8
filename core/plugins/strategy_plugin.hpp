// A routing strategy object created from a strategy plugin.
#pragma once

#include <memory>

#include "core/common/result.hpp"
#include "core/plugins/plugin_library.hpp"

namespace apiproxy {

class StrategyPlugin {
 public:
  // Creates the plugin's object with its configuration; an error names the reason.
  static Result<std::shared_ptr<const StrategyPlugin>> create(
      std::shared_ptr<const PluginLibrary> lib,
      const std::vector<std::pair<std::string, std::string>>& config);
  ~StrategyPlugin();
  StrategyPlugin(const StrategyPlugin&) = delete;
  StrategyPlugin& operator=(const StrategyPlugin&) = delete;

  const std::string& name() const { return lib_->info().name; }
  const PluginInfo& info() const { return lib_->info(); }
  const PluginLibrary& library() const { return *lib_; }
  // Thread-safe. An error (exception, error status, writing past the n scores) is counted
  // as a fault of the plugin and leaves `scores` unset.
  Status score(const apx_route_ctx& ctx, const apx_candidate* const* candidates, size_t n,
               double* scores) const;
  // Counts and logs a fault the caller found in this strategy's output.
  void fault(std::string_view kind, std::string_view what) const { lib_->fault(kind, what); }

 private:
  StrategyPlugin(std::shared_ptr<const PluginLibrary> lib, const apx_strategy_vtable* vt,
                 void* self)
      : lib_(std::move(lib)), vt_(vt), self_(self) {}

  std::shared_ptr<const PluginLibrary> lib_;  // declared first: released last
  const apx_strategy_vtable* vt_;
  void* self_;
};

const char* status_name(apx_status s);

}  // namespace apiproxy
