// One plugin shared library the host has loaded and accepted. It stays loaded for as long
// as anything holds the shared_ptr: every object created from it holds one, so the code
// of an object can never be unloaded under it — a reload that replaces the plugin lets
// requests already running on the old version finish on it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <apiproxy/abi.h>
#include <boost/dll/shared_library.hpp>

#include "core/plugins/plugin_faults.hpp"
#include "core/plugins/private_copy.hpp"

namespace apiproxy {

struct PluginInfo {
  std::string name;
  std::string version;
  std::string description;
  std::string kind;  // "strategy" | "provider"
  std::string file;
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
};

// How the host treats calls into plugins: where faults are counted, and how long a call
// may take before it is logged and counted as slow.
struct PluginCallPolicy {
  std::shared_ptr<PluginFaults> faults = std::make_shared<PluginFaults>();
  std::chrono::microseconds slow_call{5000};
};

// Logs a plugin's message under its name. ctx: a PluginLogContext.
struct PluginLogContext {
  std::string plugin_name;
  std::vector<std::string> secrets;  // each replaced by **** wherever it appears in a message
};
void plugin_log(void* ctx, apx_log_level level, apx_str message);

// What came back from one guarded call into a plugin.
template <class T>
struct PluginCall {
  T value{};
  bool threw = false;
};

class PluginLibrary {
 public:
  PluginLibrary(PrivateCopy copy, boost::dll::shared_library lib,
                const apx_plugin_descriptor* descriptor, PluginInfo info, PluginCallPolicy policy);
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const PluginInfo& info() const { return info_; }
  const apx_plugin_descriptor& descriptor() const { return *descriptor_; }
  uint64_t content_hash() const { return copy_.content_hash(); }
  // Host services for objects of this plugin that need no secret scrubbing.
  const apx_host* host() const { return &host_; }

  // Every call into the plugin's code goes through here: an exception is caught and
  // counted, and a request-path call slower than the policy allows is logged and counted
  // (wall time, so a thread the OS preempted mid-call counts too: keep the limit well
  // above a normal call). `function` names the call in the log ("score", ...).
  enum class Timing { RequestPath, Lifecycle };  // create/destroy may be slow: not timed
  template <class T, class F>
  PluginCall<T> call(std::string_view function, F&& f, Timing timing = Timing::RequestPath) const {
    const bool timed = timing == Timing::RequestPath;
    auto started = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    PluginCall<T> out;
    try {
      out.value = f();
    } catch (...) {
      out.threw = true;
      fault(plugin_fault::kThrew, std::string(function) + " threw an exception");
    }
    if (timed) {
      auto took = std::chrono::steady_clock::now() - started;
      if (took > policy_.slow_call) slow(function, took);
    }
    return out;
  }

  // Ends an object the plugin created (vtable's destroy), guarded like every call.
  void destroy(void (*destroy_fn)(void*), void* self) const {
    call<int>(
        "destroy",
        [&] {
          destroy_fn(self);
          return 0;
        },
        Timing::Lifecycle);
  }

  // Counts a fault of `kind` against this plugin and logs it (the first, then every
  // power of two).
  void fault(std::string_view kind, std::string_view what) const;

 private:
  void slow(std::string_view function, std::chrono::steady_clock::duration took) const;

  PrivateCopy copy_;  // declared before lib_: the file outlives the mapping
  boost::dll::shared_library lib_;
  const apx_plugin_descriptor* descriptor_;  // points into lib_
  PluginInfo info_;
  PluginCallPolicy policy_;
  PluginLogContext log_context_;
  apx_host host_;
};

inline std::string_view to_view(apx_str s) {
  return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view();
}
inline apx_str to_apx(std::string_view s) { return apx_str{s.data(), s.size()}; }

}  // namespace apiproxy
