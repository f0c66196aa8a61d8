// One plugin shared library the host has loaded and accepted. It stays loaded for as long
// as anything holds the shared_ptr: every object created from it holds one, so the code
// of an object can never be unloaded under it.
#pragma once

#include <memory>
#include <string>

#include <apiproxy/abi.h>
#include <boost/dll/shared_library.hpp>

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

// Logs a plugin's message under its name. ctx: a PluginLogContext.
struct PluginLogContext {
  std::string plugin_name;
  std::string secret;  // replaced by **** wherever it appears in a message; may be empty
};
void plugin_log(void* ctx, apx_log_level level, apx_str message);

class PluginLibrary {
 public:
  PluginLibrary(boost::dll::shared_library lib, const apx_plugin_descriptor* descriptor,
                PluginInfo info);
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const PluginInfo& info() const { return info_; }
  const apx_plugin_descriptor& descriptor() const { return *descriptor_; }
  // Host services for objects of this plugin that need no secret scrubbing.
  const apx_host* host() const { return &host_; }

 private:
  boost::dll::shared_library lib_;
  const apx_plugin_descriptor* descriptor_;  // points into lib_
  PluginInfo info_;
  PluginLogContext log_context_;
  apx_host host_;
};


inline std::string_view to_view(apx_str s) {
  return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view();
}
inline apx_str to_apx(std::string_view s) { return apx_str{s.data(), s.size()}; }

}  // namespace apiproxy
