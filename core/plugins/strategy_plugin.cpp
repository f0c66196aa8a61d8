#include "core/plugins/strategy_plugin.hpp"

namespace apiproxy {

const char* status_name(apx_status s) {
  switch (s) {
    case APX_OK: return "APX_OK";
    case APX_ERR_INVALID: return "APX_ERR_INVALID";
    case APX_ERR_UNSUPPORTED: return "APX_ERR_UNSUPPORTED";
    case APX_ERR_INTERNAL: return "APX_ERR_INTERNAL";
  }
  return "unknown status";
}

Result<std::shared_ptr<const StrategyPlugin>> StrategyPlugin::create(
    std::shared_ptr<const PluginLibrary> lib,
    const std::vector<std::pair<std::string, std::string>>& config) {
  const auto* vt = static_cast<const apx_strategy_vtable*>(lib->descriptor().vtable);
  std::vector<apx_kv> kv;
  for (const auto& [k, v] : config) kv.push_back({to_apx(k), to_apx(v)});
  void* self = nullptr;
  apx_status st = APX_ERR_INTERNAL;
  try {
    st = vt->create(lib->host(), kv.data(), kv.size(), &self);
  } catch (...) {
    return Error{"create threw an exception"};
  }
  if (st != APX_OK) return Error{std::string("create returned ") + status_name(st)};
  if (!self) return Error{"create returned APX_OK but no object"};
  return std::shared_ptr<const StrategyPlugin>(new StrategyPlugin(std::move(lib), vt, self));
}

StrategyPlugin::~StrategyPlugin() {
  try {
    vt_->destroy(self_);
  } catch (...) {
  }
}

Status StrategyPlugin::score(const apx_route_ctx& ctx, const apx_candidate* const* candidates,
                             size_t n, double* scores) const {
  apx_status st = APX_ERR_INTERNAL;
  try {
    st = vt_->score(self_, &ctx, candidates, n, scores);
  } catch (...) {
    return Error{"strategy " + name() + " threw an exception"};
  }
  if (st != APX_OK) return Error{"strategy " + name() + " returned " + status_name(st)};
  return ok_status();
}

}  // namespace apiproxy
