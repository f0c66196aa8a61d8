// Counts of what plugins did wrong, by plugin name and kind of fault, for GET /metrics and
// the logs. A fault never fails a request that another candidate or strategy can serve;
// it is logged (rate-limited per plugin) and counted here.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace apiproxy {

// Kinds, as they appear in the `kind` label of apiproxy_plugin_faults_total.
namespace plugin_fault {
inline constexpr std::string_view kThrew = "exception";      // a C++ exception escaped
inline constexpr std::string_view kError = "error_status";   // returned a non-OK apx_status
inline constexpr std::string_view kBadScore = "bad_score";   // NaN, infinite or negative
inline constexpr std::string_view kOverrun = "overrun";      // wrote past its output
inline constexpr std::string_view kSlow = "slow_call";       // took longer than allowed
}  // namespace plugin_fault

struct PluginFaultCount {
  std::string plugin;
  std::string kind;
  uint64_t count = 0;
};

class PluginFaults {
 public:
  // Returns the new count for (plugin, kind), so a caller can log the first and every
  // power of two without flooding.
  uint64_t record(std::string_view plugin, std::string_view kind) {
    std::lock_guard lock(mu_);
    auto it = counts_.find(std::pair<std::string_view, std::string_view>(plugin, kind));
    if (it == counts_.end())
      it = counts_.emplace(std::pair(std::string(plugin), std::string(kind)), 0).first;
    return ++it->second;
  }

  std::vector<PluginFaultCount> snapshot() const {
    std::lock_guard lock(mu_);
    std::vector<PluginFaultCount> out;
    for (const auto& [key, n] : counts_) out.push_back({key.first, key.second, n});
    return out;
  }

  // Log the 1st, 2nd, 4th, 8th ... fault of one kind: a broken plugin called 10,000 times
  // a second writes a handful of lines, not 10,000.
  static bool worth_logging(uint64_t count) { return (count & (count - 1)) == 0; }

 private:
  struct Less {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return std::string_view(a.first) < std::string_view(b.first) ||
             (std::string_view(a.first) == std::string_view(b.first) &&
              std::string_view(a.second) < std::string_view(b.second));
    }
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t, Less> counts_;
};

}  // namespace apiproxy
