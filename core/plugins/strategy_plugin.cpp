#include "core/plugins/strategy_plugin.hpp"

#include <cstring>
#include <vector>

namespace apiproxy {

namespace {

// Slots past the n scores a strategy may write, filled with a pattern no strategy writes
// by chance: if one changes, the plugin wrote past its output.
constexpr size_t kGuardSlots = 4;
constexpr uint64_t kGuardBits = 0x7ff4a9e1c0ffee00ULL;  // a signalling-NaN payload

double guard_value() {
  double d;
  std::memcpy(&d, &kGuardBits, sizeof d);
  return d;
}

bool guard_intact(const double* slot) {
  uint64_t bits;
  std::memcpy(&bits, slot, sizeof bits);
  return bits == kGuardBits;
}

}  // namespace

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
  auto created = lib->call<apx_status>("create", [&] { return vt->create(lib->host(), kv.data(), kv.size(), &self); },
                                      PluginLibrary::Timing::Lifecycle);
  if (created.threw) return Error{"create threw an exception"};
  if (created.value != APX_OK) return Error{std::string("create returned ") + status_name(created.value)};
  if (!self) return Error{"create returned APX_OK but no object"};
  return std::shared_ptr<const StrategyPlugin>(new StrategyPlugin(std::move(lib), vt, self));
}

StrategyPlugin::~StrategyPlugin() {
  lib_->destroy(vt_->destroy, self_);
}

Status StrategyPlugin::score(const apx_route_ctx& ctx, const apx_candidate* const* candidates,
                             size_t n, double* scores) const {
  // The plugin writes into our buffer with guard slots behind it, never straight into
  // the caller's array.
  thread_local std::vector<double> out;
  out.assign(n + kGuardSlots, 0.0);
  for (size_t i = n; i < out.size(); ++i) out[i] = guard_value();
  auto st = lib_->call<apx_status>("score", [&] { return vt_->score(self_, &ctx, candidates, n, out.data()); });
  if (st.threw) return Error{"strategy " + name() + " threw an exception"};
  if (st.value != APX_OK) {
    fault(plugin_fault::kError, std::string("score returned ") + status_name(st.value));
    return Error{"strategy " + name() + " returned " + status_name(st.value)};
  }
  for (size_t i = n; i < out.size(); ++i) {
    if (!guard_intact(&out[i])) {
      fault(plugin_fault::kOverrun, "score wrote more than the " + std::to_string(n) + " scores asked for");
      return Error{"strategy " + name() + " wrote past its " + std::to_string(n) + " scores"};
    }
  }
  if (n > 0) std::memcpy(scores, out.data(), n * sizeof(double));  // scores may be null when n == 0
  return ok_status();
}

}  // namespace apiproxy
